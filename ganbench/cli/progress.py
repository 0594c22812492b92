"""Progress across a whole suite: one updating line on a terminal, plain lines in CI logs."""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from ganbench.runner import ProgressReporter
from ganbench.suite import RunSpec, Suite


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class ConsoleProgress(ProgressReporter):
    def __init__(self, interactive: bool | None = None) -> None:
        self.interactive = sys.stdout.isatty() if interactive is None else interactive
        self.total = self.done = self.todo = 0
        self.began = time.perf_counter()
        self._last_draw = 0.0

    def suite_started(self, suite: Suite, total: int, skipped: int) -> None:
        self.total, self.done, self.todo = total, skipped, total - skipped
        self.began = time.perf_counter()
        note = f", {skipped} already finished" if skipped else ""
        click.echo(f"suite {suite.name}: {total} runs{note}")

    def _eta(self, fraction_of_current: float = 0.0) -> str:
        finished = self.done - (self.total - self.todo) + fraction_of_current
        if finished <= 0:
            return "ETA --"
        elapsed = time.perf_counter() - self.began
        return f"ETA {_duration(elapsed / finished * (self.todo - finished))}"

    def run_started(self, spec: RunSpec) -> None:
        if not self.interactive:
            click.echo(f"[{self.done + 1}/{self.total}] {spec.run_id} ...")

    def step(self, spec: RunSpec, step: int, steps: int) -> None:
        now = time.perf_counter()
        if not self.interactive or now - self._last_draw < 0.2:
            return
        self._last_draw = now
        line = f"[{self.done}/{self.total} done] {spec.run_id} step {step}/{steps} {self._eta(step / steps)}"
        click.echo("\r" + line[:150].ljust(150), nl=False)

    def run_finished(self, spec: RunSpec, result: dict[str, Any]) -> None:
        self.done += 1
        extra = f" at step {result['step']}" if result["status"] != "completed" else ""
        error = f": {result['error']}" if result.get("error") else ""
        took = f" in {_duration(result['time_s'])}" if "time_s" in result else ""
        line = f"[{self.done}/{self.total}] {spec.run_id} {result['status']}{extra}{took}{error} ({self._eta()})"
        click.echo(("\r" + line.ljust(150)) if self.interactive else line)
