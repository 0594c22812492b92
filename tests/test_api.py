"""The public API keeps its promises: every name the docs show imports, every name the previous release's docs
showed still imports (moved ones with a DeprecationWarning naming the new place), and what the previous release
wrote to disk is reported and checked by this one."""

from __future__ import annotations

import importlib
import re
import shutil
import sys
import warnings
from importlib.metadata import version
from pathlib import Path

import pytest
from click.testing import CliRunner

import ganbench
from ganbench.cli import cli
from ganbench.compat import MOVED

ROOT = Path(__file__).resolve().parent.parent
RELEASE_0_1 = Path(__file__).parent / "fixtures" / "release-0.1.0"
# 'ganbench.<word>' in prose that is not a Python name: the plugins' entry-point group, a file name
NOT_PYTHON = {"ganbench.plugins", "ganbench.yml"}


def documented_names() -> list[str]:
    """Every dotted ganbench name and every `from ganbench... import` name in the README and docs/."""
    names = set()
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = page.read_text()
        names |= set(re.findall(r"\bganbench(?:\.[A-Za-z_]\w*)+", text))
        for module, imported in re.findall(r"from (ganbench[\w.]*) import ([\w, ]+)", text):
            names |= {f"{module}.{name.strip()}" for name in imported.split(",") if name.strip()}
    return sorted(names - NOT_PYTHON)


def resolve(dotted: str) -> object:
    """The object a dotted name means: the longest importable module prefix, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            found = getattr(found, attribute)
        return found
    raise ModuleNotFoundError(dotted)


def test_the_docs_show_names_and_each_imports_without_a_warning():
    names = documented_names()
    assert "ganbench.track" in names and "ganbench.training.lightning.GanbenchCallback" in names
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        for name in names:
            if not any(name == old or name.startswith(old + ".") for old in MOVED):
                resolve(name)


def _fresh(old: str) -> None:
    """Forget the old name so that importing it runs the finder (and warns) again."""
    sys.modules.pop(old, None)
    parent, _, child = old.rpartition(".")
    sys.modules[parent].__dict__.pop(child, None)


@pytest.mark.parametrize("name", [line for line in (RELEASE_0_1 / "documented_names.txt").read_text().splitlines()
                                  if line and not line.startswith("#")])
def test_every_name_the_previous_release_documented_still_imports(name):
    old = next((m for m in MOVED if name == m or name.startswith(m + ".")), None)
    if old is None:
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)
            assert resolve(name) is not None
        return
    _fresh(old)
    with pytest.warns(DeprecationWarning, match=re.escape(f"{old} moved to {MOVED[old]}")) as caught:
        found = resolve(name)
    assert resolve(MOVED[old] + name[len(old):]) is found
    assert caught[0].filename == __file__  # points at the line that wrote the old name, not at importlib


def test_a_moved_module_is_the_same_module_under_both_names_and_from_imports_work():
    _fresh("ganbench.lightning")
    with pytest.warns(DeprecationWarning, match="ganbench.training.lightning"):
        from ganbench.lightning import GanbenchCallback
    from ganbench.training import lightning

    assert GanbenchCallback is lightning.GanbenchCallback is ganbench.GanbenchCallback
    for old, new in MOVED.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            assert importlib.import_module(old) is importlib.import_module(new), old


def test_an_unknown_module_is_still_not_found():
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("ganbench.no_such_module")


def test_the_version_is_one_number_and_the_changelog_names_it():
    assert version("ganbench") == ganbench.__version__
    assert f"## {ganbench.__version__}" in (ROOT / "CHANGELOG.md").read_text()


def test_the_previous_releases_results_are_reported_and_checked(tmp_path):
    results = tmp_path / "release-0.1.0"
    shutil.copytree(RELEASE_0_1 / "results", results)
    runner = CliRunner()
    report = runner.invoke(cli, ["report", str(results)])
    assert report.exit_code == 0, report.output
    assert "nonsaturating" in (results / "report" / "report.md").read_text()
    for baseline in ([], ["--baseline", str(RELEASE_0_1 / "baseline.json")], ["--baseline", str(results)]):
        check = runner.invoke(cli, ["check", str(results), *baseline])
        assert check.exit_code in (0, 1), check.output  # a verdict, not a usage error or a traceback
        assert "runs: all 2 runs finished" in check.output
        assert "NOT COMPARABLE" not in check.output  # the same measurement, written by the older code
