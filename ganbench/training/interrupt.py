"""Stopping a training between two steps: Ctrl-C in the main thread, or ``request_stop`` from an executor's
worker, is a request the loop reads at its next step, so a run never stops half-written."""

from __future__ import annotations

import contextlib
import signal
import threading

_STOP = threading.Event()  # set by an executor's worker when its parent says stop: the same as Ctrl-C here


def request_stop() -> None:
    """Ask the training in this process to stop at its next step, as Ctrl-C does (a worker's SIGINT handler)."""
    _STOP.set()


def stop_requested() -> bool:
    return _STOP.is_set()


@contextlib.contextmanager
def interrupt_between_steps():
    """Yield a callable that says whether SIGINT arrived. Python raises KeyboardInterrupt wherever the
    interpreter happens to be, and one raised inside a finalizer (torch runs many) is printed and dropped: the
    run trained on to the end. While the loop runs, SIGINT only asks, and the loop raises at its next step.
    Left alone where someone else (a notebook, Ray, an executor's worker) handles SIGINT, or off the main thread;
    there, only ``request_stop`` stops the loop."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield stop_requested
        return
    asked: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: asked.append(signum))
    try:
        yield lambda: bool(asked) or stop_requested()
    finally:
        signal.signal(signal.SIGINT, previous)
