"""ganbench: benchmark GAN variants over controlled seeds, detect collapse, compare, and gate CI.

The command line is a thin layer over this API, which a notebook can call the same way.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ganbench import arithmetic, compat

arithmetic.pin()  # before anything imports torch: the same bytes on every AVX2 machine (ganbench.arithmetic)

compat.install()  # 0.1.0's module names, with a DeprecationWarning (ganbench.compat)

__version__ = "0.2.0"

# The public API (docs/api.md): name -> the module that defines it; imported on first use, so `import ganbench`
# stays cheap. These names keep working across minor releases; a move goes through ganbench.compat first.
_API = {"run_suite": "ganbench.execution.runner", "load_suite": "ganbench.spec.suite",
        "load_results": "ganbench.results", "check": "ganbench.evidence.gate", "write_report": "ganbench.report.render",
        "track": "ganbench.training.tracking", "Tracker": "ganbench.training.tracking",
        "GanbenchCallback": "ganbench.training.lightning"}
__all__ = ["run_suite", "load_suite", "load_results", "check", "write_report", "track", "Tracker", "GanbenchCallback"]

if TYPE_CHECKING:
    from ganbench.evidence.gate import check
    from ganbench.execution.runner import run_suite
    from ganbench.report.render import write_report
    from ganbench.results import load_results
    from ganbench.spec.suite import load_suite
    from ganbench.training.lightning import GanbenchCallback
    from ganbench.training.tracking import Tracker, track


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(name)
