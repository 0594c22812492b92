"""Names that moved keep working for one release, with a ``DeprecationWarning`` that names the new place.

ganbench 0.2.0 regrouped the package by pipeline layer; the modules 0.1.0 had at the top of the package now
live in a layer's subpackage. ``import ganbench.lightning`` (or ``from ganbench.lightning import ...``) finds
no file any more: a finder at the end of ``sys.meta_path`` answers it with the module at its new place, so
both names are one module object. Removed in :data:`REMOVED_IN`. Standard library only: ``import ganbench``
stays cheap.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from types import ModuleType

REMOVED_IN = "0.3.0"

# 0.1.0's module -> its place since 0.2.0 (a module of the same contents under another name)
MOVED = {
    "ganbench.lightning": "ganbench.training.lightning",
    "ganbench.tracking": "ganbench.training.tracking",
    "ganbench.loggers": "ganbench.training.loggers",
    "ganbench.ensemble": "ganbench.training.ensemble",
    "ganbench.seeding": "ganbench.training.seeding",
    "ganbench.train": "ganbench.training.loop",
    "ganbench.samples": "ganbench.data.pictures",
    "ganbench.objectives": "ganbench.recipes.objectives",
    "ganbench.regularizers": "ganbench.recipes.regularizers",
    "ganbench.variants": "ganbench.recipes.variants",
    "ganbench.store": "ganbench.results.store",
    "ganbench.baseline": "ganbench.evidence.baseline",
    "ganbench.gate": "ganbench.evidence.gate",
    "ganbench.reproduction": "ganbench.evidence.reproduction",
    "ganbench.verdicts": "ganbench.evidence.states",
    "ganbench.suite": "ganbench.spec.suite",
    "ganbench.sweep": "ganbench.spec.sweep",
    "ganbench.calibrate": "ganbench.execution.calibrate",
    "ganbench.executors": "ganbench.execution.executors",
    "ganbench.jobs": "ganbench.execution.jobs",
    "ganbench.runner": "ganbench.execution.runner",
    "ganbench.gate_output": "ganbench.cli.gate_output",
}


def _caller_level() -> int:
    """The stacklevel of the first frame outside the import machinery and this module: the user's import line,
    so that Python's default filters show the warning where the old name is written. ``warnings`` itself skips
    importlib's bootstrap frames without counting them; ``importlib.import_module``'s frame counts."""
    frame, level = sys._getframe(2), 1  # the frame above create_module, whose level is 1
    while frame is not None:
        name = frame.f_code.co_filename
        if "importlib" in name and "_bootstrap" in name:
            frame = frame.f_back
            continue
        level += 1
        if name != importlib.__file__:
            return level
        frame = frame.f_back
    return level


class MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds each of :data:`MOVED`'s old names and loads it as the module at the new place."""

    def find_spec(self, fullname: str, path=None, target=None):  # noqa: ANN001 (the finder protocol's types)
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec) -> ModuleType:  # noqa: ANN001
        new = MOVED[spec.name]
        warnings.warn(f"{spec.name} moved to {new} in ganbench 0.2.0; the old name goes in {REMOVED_IN}: "
                      f"import {new}", DeprecationWarning, stacklevel=_caller_level())
        return importlib.import_module(new)

    def exec_module(self, module: ModuleType) -> None:
        pass  # already executed under its new name


def install() -> None:
    if not any(isinstance(finder, MovedModules) for finder in sys.meta_path):
        sys.meta_path.append(MovedModules())
