"""One small generic registry for every pluggable kind: variants, objectives, datasets, collectors, ...

Third-party packages extend ganbench through the ``ganbench.plugins`` entry-point group: each entry point
names a module that registers its objects when imported, or a function taking no arguments that registers them
when called. An entry point naming a class only imports it (its module's decorators register it).
A suite file can only *name* registered objects; it never imports Python.
"""

from __future__ import annotations

import fnmatch
import importlib
from collections.abc import Callable, Iterator, Mapping
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from ganbench.errors import GanbenchError, did_you_mean

T = TypeVar("T")
_plugins_loaded = False


class Registry(Generic[T]):
    """Name -> object, with unique names, did-you-mean lookups and fnmatch listing.

    ``builtins`` maps names to the module that registers them: it is imported on the first lookup of one of
    its names, so listing names costs no import.
    """

    def __init__(self, kind: str, builtins: Mapping[str, str] | None = None) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._builtins = dict(builtins or {})

    def register(self, name: str) -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            self.add(name, obj)
            return obj

        return decorator

    def add(self, name: str, obj: T) -> None:
        if name in self._items:
            raise ValueError(f"duplicate {self.kind} name {name!r}")
        self._items[name] = obj

    def get(self, name: str, where: str = "") -> T:
        if name not in self:
            at = f" at {where}" if where else ""
            raise GanbenchError(f"unknown {self.kind} {name!r}{at}{did_you_mean(name, self._names())}")
        if name not in self._items:
            importlib.import_module(self._builtins[name])
        return self._items[name]

    def load_builtins(self) -> None:
        """Import every built-in's module now (a lookup otherwise imports it on first use)."""
        for module in sorted(set(self._builtins.values())):
            importlib.import_module(module)

    def _names(self) -> set[str]:
        load_plugins()
        return set(self._items) | set(self._builtins)

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._names()))

    def list(self, pattern: str = "*") -> list[str]:
        return sorted(n for n in self._names() if fnmatch.fnmatch(n, pattern))


def load_plugins() -> None:
    """Import every installed ``ganbench.plugins`` entry point once."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for ep in entry_points(group="ganbench.plugins"):
        obj = ep.load()
        if callable(obj) and not isinstance(obj, type):  # a class is registered, never instantiated
            obj()
