"""The docs tell the truth about the code they describe: every error message ganbench raises has its row in the
troubleshooting page, and every page and picture the README links to exists. (``mkdocs build --strict`` in CI
checks the site's own links and anchors.)"""

from __future__ import annotations

import ast
import re
from pathlib import Path

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
