"""ganbench: benchmark GAN variants over controlled seeds, detect collapse, compare, and gate CI.

The command line is a thin layer over this API, which a notebook can call the same way.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ganbench import arithmetic

arithmetic.pin()  # before anything imports torch: the same bytes on every AVX2 machine (ganbench.arithmetic)

# name -> the module that defines it; imported on first use, so `import ganbench` stays cheap
_API = {"run_suite": "ganbench.execution.runner", "load_suite": "ganbench.spec.suite",
        "load_results": "ganbench.results", "check": "ganbench.evidence.gate", "write_report": "ganbench.report.render",
        "track": "ganbench.training.tracking"}
__all__ = ["run_suite", "load_suite", "load_results", "check", "write_report", "track"]

if TYPE_CHECKING:
    from ganbench.evidence.gate import check
    from ganbench.execution.runner import run_suite
    from ganbench.report.render import write_report
    from ganbench.results import load_results
    from ganbench.spec.suite import load_suite
    from ganbench.training.tracking import track


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(name)
