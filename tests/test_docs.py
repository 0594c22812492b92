"""The docs tell the truth about the code they describe: every error message ganbench raises has its row in the
troubleshooting page, and every page and picture the README links to exists. (``mkdocs build --strict`` in CI
checks the site's own links and anchors.)"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _literal_pieces(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.Constant)]
    if isinstance(node, ast.BinOp):
        return _literal_pieces(node.left) + _literal_pieces(node.right)
    return []


def raised_messages() -> list[tuple[str, str]]:
    """(where, the longest literal part of the message) for every ``raise GanbenchError(...)`` in the package."""
    found = []
    for path in sorted((ROOT / "ganbench").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args
                    and getattr(node.exc.func, "id", "") == "GanbenchError"):
                pieces = [" ".join(p.split()) for p in _literal_pieces(node.exc.args[0])]
                found.append((f"{path.relative_to(ROOT)}:{node.lineno}", max(pieces, key=len, default="")))
    return found


def test_every_error_message_has_its_row_in_the_troubleshooting_page():
    page = " ".join((ROOT / "docs" / "troubleshooting.md").read_text().replace("`", "").split())
    messages = raised_messages()
    assert len(messages) > 100  # the scan found the raise sites
    missing = [f"{where}: {text!r}" for where, text in messages if text not in page]
    assert not missing, "messages without a row in docs/troubleshooting.md:\n" + "\n".join(missing)


def test_the_readme_is_an_entry_page_whose_links_resolve():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 160
    first_screen = "\n".join(readme.splitlines()[:40])
    assert "pip install -c constraints.txt" in first_screen and "python -m pytest -q" in first_screen
    assert "](docs/report.png)" in first_screen
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme)
    assert targets
    missing = [t for t in targets if not t.startswith("http") and not (ROOT / t).exists()]
    assert not missing, missing


def test_every_docs_page_is_in_the_site_navigation():
    nav = (ROOT / "mkdocs.yml").read_text()
    pages = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert pages and all(f": {name}" in nav for name in pages), pages - set(re.findall(r": (\S+\.md)", nav))


def _track_examples() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Every ``ganbench.track`` example the docs print: (page, Python block calling it) and (page, inline
    ``ganbench.track(..., KEYWORD=VALUE)`` span)."""
    blocks, spans = [], []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text()
        blocks += [(path.name, b) for b in re.findall(r"```python\n(.*?)```", text, re.S) if "ganbench.track(" in b]
        spans += [(path.name, s) for s in re.findall(r"`(ganbench\.track\(\.\.\., [^`]*\))`", text)]
    return blocks, spans


def _loop_names(tmp_path):
    """What the docs' loop snippets leave to the reader: networks, a seed, a step count, a step's losses and D's
    outputs, a batch of each."""
    import torch
    from torch import nn

    return {"G": nn.Linear(16, 2), "D": nn.Linear(2, 1), "G_ema": nn.Linear(16, 2), "seed": 0, "steps": 20,
            "loss_d": 0.7, "loss_g": 0.7, "d_real": torch.zeros(8, 1), "d_fake": torch.zeros(8, 1),
            "real": torch.randn(8, 2), "fake": torch.randn(8, 2), "tmp": tmp_path}


def test_the_docs_print_track_examples():
    blocks, spans = _track_examples()
    assert len(blocks) >= 3 and len(spans) >= 5  # README, index and own-loop blocks; the keyword table's spans


@pytest.mark.parametrize("page,block", _track_examples()[0])
def test_every_track_block_in_the_docs_runs_as_printed(page, block, tmp_path, monkeypatch):
    """issue #51: the docs spelled keywords the code refused. Each block runs as printed (its `...` is Python's
    Ellipsis), with the reader's own names filled in."""
    monkeypatch.chdir(tmp_path)
    names = _loop_names(tmp_path)
    exec(compile(block, page, "exec"), names)  # noqa: S102 -- the docs' own code
    tracker = names["tracker"]
    tracker.close()
    assert tracker.status == "completed" and tracker.step == names["steps"]


@pytest.mark.parametrize("page,span", _track_examples()[1])
def test_every_inline_track_keyword_example_is_accepted(page, span, tmp_path):
    """Each `ganbench.track(..., KEYWORD=VALUE)` of the docs, the `...` filled with a tiny G, D and the ring: the
    tracker takes the keyword, logs and closes."""
    import torch
    from torch import nn

    import ganbench

    names = _loop_names(tmp_path)

    class Shim:
        @staticmethod
        def track(*args, **keywords):
            base = {"g": names["G"], "d": names["D"], "data": "ring", "z_dim": 16, "eval_samples": 50}
            if "z_shape" in keywords:  # a G that takes latents of that shape
                base.pop("z_dim")
                base["g"] = nn.Sequential(nn.Conv2d(keywords["z_shape"][0], 2, 1), nn.Flatten())
            return ganbench.track(tmp_path, **{**base, **keywords})

    tracker = eval(span, {**names, "ganbench": Shim})  # noqa: S307 -- the docs' own code
    for step in range(1, 21):
        tracker.log(step, loss_d=0.7, loss_g=0.7, real_out=torch.zeros(8, 1), fake_out=torch.zeros(8, 1))
    tracker.close()
    assert tracker.status == "completed"


CELL_LIMIT = 300  # characters: a table cell a reader takes in at a glance; details go in a section below


def _cells(line: str) -> list[str]:
    """A Markdown table row's cells; pipes inside code spans or escaped (\\|) do not split."""
    cells, cell, in_code, i = [], "", False, 0
    body = line.strip().strip("|")
    while i < len(body):
        char = body[i]
        if char == "\\" and body[i + 1:i + 2] == "|":
            cell, i = cell + "|", i + 2
            continue
        if char == "`":
            in_code = not in_code
        if char == "|" and not in_code:
            cells.append(cell.strip())
            cell = ""
        else:
            cell += char
        i += 1
    return [*cells, cell.strip()]


def test_no_docs_table_cell_is_longer_than_a_glance():
    long = [f"{page.name}:{number}: {len(cell)} characters: {cell[:60]}..."
            for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
            for number, line in enumerate(page.read_text().splitlines(), 1) if line.startswith("|")
            for cell in _cells(line) if len(cell) > CELL_LIMIT]
    assert long == []
