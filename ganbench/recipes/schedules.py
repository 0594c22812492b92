"""Schedules: the factor a learning rate (or a penalty's weight) is multiplied by after ``step`` of ``steps``
generator steps. A schedule is a pure function of the step, so a resumed run sets exactly the rate the
uninterrupted one had (nothing to checkpoint).

- ``constant``: 1.
- ``linear``: 1 until ``start`` x steps, then down in a straight line to 0 at the last step (SN-GAN, Miyato et
  al. 2018, decay the Adam learning rate linearly to 0 over training; BigGAN-style recipes start later).
- ``cosine``: from 1 down to 0 along half a cosine after ``start`` x steps (Loshchilov & Hutter 2017, without
  restarts).
"""

from __future__ import annotations

import math

SCHEDULES = ("constant", "linear", "cosine")


def lr_factor(schedule: str, step: int, steps: int, start: float = 0.0) -> float:
    """The multiplier of the base learning rate for the update that makes generator step ``step`` (1-based) of
    ``steps``; ``start``: the fraction of training before the decay begins."""
    if schedule == "constant":
        return 1.0
    begin = start * steps
    if step <= begin:
        return 1.0
    progress = min((step - 1 - begin) / max(steps - begin, 1), 1.0)  # 0 at the first decayed step
    if schedule == "linear":
        return 1.0 - progress
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    raise ValueError(f"unknown learning-rate schedule {schedule!r}: {', '.join(SCHEDULES)}")


def weight_factor(schedule: str, step: int, steps: int, end: float) -> float:
    """The multiplier of each penalty weight at G step ``step``: from 1 down to ``end`` along the schedule (R3GAN,
    Huang et al. 2025, decays gamma along a cosine to a tenth of its start)."""
    return end + (1.0 - end) * lr_factor(schedule, step, steps)
