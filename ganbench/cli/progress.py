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


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class ConsoleProgress(ProgressReporter):
    def __init__(self, interactive: bool | None = None) -> None:
        self.interactive = sys.stdout.isatty() if interactive is None else interactive
        self.total = self.done = self.todo = self.finished = 0
        self.training: dict[str, float] = {}  # run id -> fraction of its steps done
        self.began = time.perf_counter()
        self._last_draw = 0.0

    def suite_started(self, suite: Suite, total: int, skipped: int) -> None:
        self.total, self.done, self.todo, self.finished = total, skipped, total - skipped, 0
        self.training = {}  # one reporter can see several suites (ganbench calibrate)
        self.began = self._last_draw = time.perf_counter()
        note = f", {skipped} already finished" if skipped else ""
        click.echo(f"suite {suite.name}: {total} runs{note}")

    def _eta(self) -> str:
        progress = self.finished + sum(self.training.values())  # runs' worth of work done in this session
        if progress <= 0:
            return "ETA --"
        elapsed = time.perf_counter() - self.began
        return f"ETA {_duration(elapsed / progress * (self.todo - progress))}"

    def run_started(self, spec: RunSpec) -> None:
        self.training[spec.run_id] = 0.0
        if not self.interactive:
            click.echo(f"[{self.done}/{self.total} done] {spec.run_id} started")

    def step(self, spec: RunSpec, step: int, steps: int) -> None:
        self.training[spec.run_id] = step / steps
        now = time.perf_counter()
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
