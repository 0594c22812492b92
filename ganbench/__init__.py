"""ganbench: benchmark GAN variants over controlled seeds, detect collapse, compare, and gate CI.

The command line is a thin layer over this API, which a notebook can call the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["run_suite", "load_suite", "load_results"]

if TYPE_CHECKING:
    from ganbench.results import load_results
    from ganbench.runner import run_suite
    from ganbench.suite import load_suite


def __getattr__(name: str) -> Any:  # import torch-heavy modules only when they are used
    if name == "run_suite":
        from ganbench.runner import run_suite

        return run_suite
    if name == "load_suite":
        from ganbench.suite import load_suite

        return load_suite
    if name == "load_results":
        from ganbench.results import load_results

        return load_results
    raise AttributeError(name)
