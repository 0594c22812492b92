"""Progress across a whole suite: a live display on a terminal (rich: the suite's bar with runs done and the
ETA, a bar per run in flight with its steps per second), plain lines in CI logs and wherever output is piped.
Runs may train concurrently (workers, Ray): every run in flight is shown, and the ETA counts their partial
progress."""

from __future__ import annotations

import os
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


def console_progress() -> ConsoleProgress:
    """The live display where stdout is a terminal that can draw it, else the plain lines."""
    if sys.stdout.isatty() and os.environ.get("TERM") != "dumb" and not os.environ.get("CI"):
        return LiveProgress()
    return ConsoleProgress()


class ConsoleProgress(ProgressReporter):
    """Plain lines: one as each run starts and ends, and one every LOG_EVERY_S seconds between. It keeps the
    counts and the ETA that the live display (below) draws instead."""

    def __init__(self) -> None:
        self.total = self.done = self.todo = self.finished = 0
        self.training: dict[str, float] = {}  # run id -> fraction of its steps done
        self._last_draw = 0.0
        self._first: tuple[float, float] | None = None  # (time, progress) at the first step reported

    def __enter__(self) -> ConsoleProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def suite_started(self, suite: Suite, total: int, skipped: int) -> None:
        self.total, self.done, self.todo, self.finished = total, skipped, total - skipped, 0
        self.training = {}  # one reporter can see several suites (ganbench calibrate)
        self._last_draw = time.perf_counter()
        self._first = None
        note = f", {skipped} already finished" if skipped else ""
        click.echo(f"suite {suite.name}: {total} runs{note}")

    def run_repaired(self, spec: RunSpec, damage: str) -> None:
        click.echo(f"{spec.run_id}: its stored files cannot be read ({damage}); training it again")

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

    def _stepped(self, spec: RunSpec, step: int, steps: int) -> float:
        """Count a step; returns the time (the ETA's rate starts at the first step)."""
        self.training[spec.run_id] = step / steps
        now = time.perf_counter()
        if self._first is None:
            self._first = (now, self._progress())
        return now

    def _ended(self, spec: RunSpec, status: dict[str, Any]) -> str:
        """Count a finished run; returns its line."""
        self.done += 1
        self.finished += 1
        self.training.pop(spec.run_id, None)
        extra = f" at step {status['step']}" if status["status"] != "completed" else ""
        error = f": {status['error']}" if status.get("error") else ""
        took = f" in {_duration(status['time_s'])}" if "time_s" in status else ""
        return f"[{self.done}/{self.total}] {spec.run_id} {status['status']}{extra}{took}{error} ({self._eta()})"

    def run_started(self, spec: RunSpec) -> None:
        self.training[spec.run_id] = 0.0
        click.echo(f"[{self.done}/{self.total} done] {spec.run_id} started")

    def step(self, spec: RunSpec, step: int, steps: int) -> None:
        now = self._stepped(spec, step, steps)
        if now - self._last_draw < LOG_EVERY_S:
            return
        self._last_draw = now
        if len(self.training) <= 3:
            runs = ", ".join(f"{run_id} {100 * f:.0f}%" for run_id, f in self.training.items())
        else:  # seed ensembles and many workers: one summary, not a line of run ids
            mean = sum(self.training.values()) / len(self.training)
            runs = f"{len(self.training)} runs training, {100 * mean:.0f}% of their steps"
        click.echo(f"[{self.done}/{self.total} done] {runs} ({self._eta()})")

    def run_finished(self, spec: RunSpec, status: dict[str, Any]) -> None:
        click.echo(self._ended(spec, status))


class LiveProgress(ConsoleProgress):
    """The terminal's view: rich redraws a bar for the suite and one per run in flight (steps done of steps,
    steps per second) several times a second; finished runs print as lines above the bars. Use it as a context
    manager, so the display is closed (and the cursor restored) however the command ends."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, Progress, TextColumn

        super().__init__()
        # count: a run's steps, or the suite's finished runs -- the suite bar's length also counts the runs in
        # flight, but its number says what "[16/28] completed" lines say, not a step-weighted 22/28
        self.bars = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[count]}"),
                             TextColumn("{task.fields[rate]}"), refresh_per_second=4)
        self.suite_bar = None
        self.run_bars: dict[str, Any] = {}

    def __enter__(self) -> LiveProgress:
        self.bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bars.stop()

    def suite_started(self, suite: Suite, total: int, skipped: int) -> None:
        super().suite_started(suite, total, skipped)
        if self.suite_bar is not None:
            self.bars.remove_task(self.suite_bar)
        self.suite_bar = self.bars.add_task(f"suite {suite.name}", total=total, completed=skipped, rate="",
                                            count=f"{skipped}/{total} runs done")

    def _redraw_suite(self) -> None:
        self.bars.update(self.suite_bar, completed=self.done + sum(self.training.values()), rate=self._eta(),
                         count=f"{self.done}/{self.total} runs done")

    def run_started(self, spec: RunSpec) -> None:
        self.training[spec.run_id] = 0.0
        self.run_bars[spec.run_id] = self.bars.add_task(f"  {spec.run_id}", total=spec.train.steps, rate="",
                                                        count=f"0/{spec.train.steps}")

    def step(self, spec: RunSpec, step: int, steps: int) -> None:
        self._stepped(spec, step, steps)
        bar = self.run_bars.get(spec.run_id)
        if bar is not None:
            self.bars.update(bar, completed=step, count=f"{step}/{steps}")
            speed = self.bars.tasks[self.bars.task_ids.index(bar)].speed
            self.bars.update(bar, rate=f"{speed:,.0f} steps/s" if speed else "")
        self._redraw_suite()

    def run_finished(self, spec: RunSpec, status: dict[str, Any]) -> None:
        line = self._ended(spec, status)
        bar = self.run_bars.pop(spec.run_id, None)
        if bar is not None:
            self.bars.remove_task(bar)
        self.bars.console.print(line, highlight=False, markup=False)
        self._redraw_suite()
