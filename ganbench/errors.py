"""Errors that carry a message meant for people."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class GanbenchError(Exception):
    """Bad input: a malformed suite, an unknown name, a missing file. The CLI prints it on one line, exit 2."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """'; did you mean 'x'?' for the closest choices, or the list of choices when none is close."""
    name, choices = str(name), sorted(str(c) for c in choices)
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.6)
    if close:
        return "; did you mean " + " or ".join(repr(c) for c in close) + "?"
    return "; choose from: " + ", ".join(choices)
