"""Metric collectors: a cheap ``on_step(record)`` hook, called on logging steps only, and ``evaluate(ctx)``
called every ``eval_every`` steps on the fixed evaluation batch."""

from ganbench.metrics import conditional, distances, fid, modes, orbit, training  # noqa: F401  (register the built-in collectors)
from ganbench.metrics.base import (
    COLLECTORS,
    Collector,
    EvalContext,
    StepRecord,
    collectors_config,
    default_collectors,
    evaluation_values,
    make_collectors,
    metric_catalog,
    step_values,
)

__all__ = ["COLLECTORS", "Collector", "EvalContext", "StepRecord", "collectors_config", "default_collectors",
           "evaluation_values", "make_collectors", "metric_catalog", "step_values"]
