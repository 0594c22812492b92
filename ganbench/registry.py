"""One small generic registry for every pluggable kind: variants, objectives, datasets, collectors, ...

Third-party packages extend ganbench through the ``ganbench.plugins`` entry-point group: each entry point
names a module that registers its objects when imported, or a function taking no arguments that registers them
when called. An entry point naming a class only imports it (its module's decorators register it).
A suite file can only *name* registered objects; it never imports Python.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from ganbench.errors import GanbenchError, did_you_mean

T = TypeVar("T")
_plugins_loaded = False


class Registry(Generic[T]):
    """Name -> object, with unique names, did-you-mean lookups and fnmatch listing."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

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
        load_plugins()
        if name not in self._items:
            at = f" at {where}" if where else ""
            raise GanbenchError(f"unknown {self.kind} {name!r}{at}{did_you_mean(name, self._items)}")
        return self._items[name]

    def __contains__(self, name: object) -> bool:
        load_plugins()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        load_plugins()
        return iter(sorted(self._items))

    def list(self, pattern: str = "*") -> list[str]:
        load_plugins()
        return sorted(n for n in self._items if fnmatch.fnmatch(n, pattern))


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
