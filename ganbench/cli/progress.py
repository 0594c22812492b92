"""Progress across a whole suite: one updating line on a terminal, plain lines in CI logs. Runs may train
concurrently (workers, Ray): the line shows every run in flight, and the ETA counts their partial progress."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

import click

from ganbench.execution.jobs import ProgressReporter

if TYPE_CHECKING:
    from ganbench.spec.suite import RunSpec, Suite

LOG_EVERY_S = 30.0  # without a terminal, a progress line at most this often between finished runs
MEASURE_S = 5.0  # seconds of training measured before an ETA is shown


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class ConsoleProgress(ProgressReporter):
    def __init__(self, interactive: bool | None = None) -> None:
        self.interactive = sys.stdout.isatty() if interactive is None else interactive
        self.total = self.done = self.todo = self.finished = 0
        self.training: dict[str, float] = {}  # run id -> fraction of its steps done
        self._last_draw = 0.0
        self._first: tuple[float, float] | None = None  # (time, progress) at the first step reported

    def suite_started(self, suite: Suite, total: int, skipped: int) -> None:
        self.total, self.done, self.todo, self.finished = total, skipped, total - skipped, 0
        self.training = {}  # one reporter can see several suites (ganbench calibrate)
        self._last_draw = time.perf_counter()
        self._first = None
        note = f", {skipped} already finished" if skipped else ""
        click.echo(f"suite {suite.name}: {total} runs{note}")

    def _progress(self) -> float:
        """Runs' worth of work done in this session: finished runs plus the fractions of those training."""
        return self.finished + sum(self.training.values())

    def _eta(self) -> str:
        """Remaining work at the rate measured since the first step: start-up (processes, imports, an evaluation
        classifier's training) is not training speed, so it never stretches the estimate."""
        progress = self._progress()
        remaining = max(self.todo - progress, 0.0)
        if remaining == 0:
            return "ETA 0s"
        if self._first is None:
            return "ETA --"
        since, at = self._first
        elapsed, gained = time.perf_counter() - since, progress - at
        if elapsed < MEASURE_S or gained <= 0:
            return "ETA --"
        return f"ETA {_duration(elapsed / gained * remaining)}"

    def run_started(self, spec: RunSpec) -> None:
        self.training[spec.run_id] = 0.0
        if not self.interactive:
            click.echo(f"[{self.done}/{self.total} done] {spec.run_id} started")

    def step(self, spec: RunSpec, step: int, steps: int) -> None:
        self.training[spec.run_id] = step / steps
        now = time.perf_counter()
        if self._first is None:
            self._first = (now, self._progress())
        if now - self._last_draw < (0.2 if self.interactive else LOG_EVERY_S):
            return
        self._last_draw = now
        if len(self.training) <= 3:
            runs = ", ".join(f"{run_id} {100 * f:.0f}%" for run_id, f in self.training.items())
        else:  # seed ensembles and many workers: one summary, not a line of run ids
            mean = sum(self.training.values()) / len(self.training)
            runs = f"{len(self.training)} runs training, {100 * mean:.0f}% of their steps"
        line = f"[{self.done}/{self.total} done] {runs} ({self._eta()})"
        if self.interactive:
            click.echo("\r" + line[:150].ljust(150), nl=False)
        else:
            click.echo(line)

    def run_finished(self, spec: RunSpec, status: dict[str, Any]) -> None:
        self.done += 1
        self.finished += 1
        self.training.pop(spec.run_id, None)
        extra = f" at step {status['step']}" if status["status"] != "completed" else ""
        error = f": {status['error']}" if status.get("error") else ""
        took = f" in {_duration(status['time_s'])}" if "time_s" in status else ""
        line = f"[{self.done}/{self.total}] {spec.run_id} {status['status']}{extra}{took}{error} ({self._eta()})"
        click.echo(("\r" + line.ljust(150)) if self.interactive else line)
