"""Detectors: read a run's metric stream and emit events with the step the condition began."""

from ganbench.diagnostics import detectors  # noqa: F401  (register the built-in detectors)
from ganbench.diagnostics.base import DETECTORS, Event, detector_params, event_kinds, run_detectors

__all__ = ["DETECTORS", "Event", "detector_params", "event_kinds", "run_detectors"]
