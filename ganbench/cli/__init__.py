"""The ``ganbench`` command: a thin layer over the Python API. Bad input is one line on stderr and exit 2;
``--debug`` shows the traceback instead."""

from __future__ import annotations

import functools
import signal
import sys
from collections.abc import Callable
from typing import Any

import click

from ganbench.errors import GanbenchError

EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130


def invoked_as() -> str:
    """The command as the user typed it (``.venv/bin/ganbench`` after the README's install, ``ganbench`` on the
    PATH), so that a printed next step can be pasted as it stands."""
    import os
    import shutil

    typed = sys.argv[0] if sys.argv else ""
    if os.path.basename(typed) != "ganbench":
        return "ganbench"  # python -m ganbench, a test runner: the plain name
    found = shutil.which("ganbench")  # a shell that found it on the PATH passes its full path as argv[0]
    on_path = found is not None and os.path.realpath(found) == os.path.realpath(typed)
    return "ganbench" if on_path else typed


def _terminate_as_interrupt(signum: int, frame: Any) -> None:
    """SIGTERM (``kill``, ``timeout``, a scheduler's preemption) stops a command the way Ctrl-C does: runs marked
    interrupted, workers stopped, the manifest written. Without this the command died at once and its worker
    processes trained on with no parent. Where SIGINT has a Python handler (the training loop's, which stops at
    the next step) it is raised; where it is ignored (a background job's) the interrupt is raised here."""
    if callable(signal.getsignal(signal.SIGINT)):
        signal.raise_signal(signal.SIGINT)
    else:
        raise KeyboardInterrupt


def handle_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a GanbenchError (bad input) into one clear line and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except GanbenchError as exc:
            if click.get_current_context().find_root().obj.get("debug"):
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_USAGE)
        except KeyboardInterrupt:
            click.echo("\ninterrupted: what was written is kept; run the same command again to resume", err=True)
            sys.exit(EXIT_INTERRUPTED)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.version_option(package_name="ganbench")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Benchmark GAN variants over controlled seeds, detect collapse, compare them, and gate CI."""
    ctx.obj = {"debug": debug}


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    cli(prog_name="ganbench")


from ganbench.cli import calibrate, check, diagnose, inspect, report, run  # noqa: E402,F401  (register the commands)
