"""What decides the arithmetic of a CPU run, pinned so that the same suite gives the same bytes on any x86-64
machine with AVX2 (nearly every one since 2013), whatever its widest instructions.

PyTorch's own kernels, MKL (matrix products) and oneDNN (convolutions) each pick their code path from the CPU's
instruction sets at first use, and the paths round differently: on an AVX-512 machine, each of the three
switches below changes a 200-step run's metrics.csv (measured; see docs/scaling.md, "Determinism"). Pinning all
three to AVX2 makes the path the same on every AVX2 machine, at the cost ``benchmarks/determinism.py`` prints.
They are read when torch first uses each library, so ganbench sets them when it is imported, before torch is;
a process that imported torch first (a notebook, a user's own loop) keeps its native paths, and its runs say
so. ``GANBENCH_CPU_ARITHMETIC=native`` opts out. The intra-op thread count decides the rest (reductions split
by thread): each run trains with its suite's ``train.threads``, set by every executor the same way.
"""

from __future__ import annotations

import os
import platform
import sys

PINS = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2,STRICT", "ONEDNN_MAX_CPU_ISA": "AVX2"}
PORTABLE = "x86-64-avx2"  # the label of pinned arithmetic: left out of run ids, as every run until now
X86_64 = ("x86_64", "amd64")  # platform.machine() of the CPUs the pins apply to (Linux, Windows)
OPT_OUT = "GANBENCH_CPU_ARITHMETIC"  # =native: leave the pins unset


def pin() -> None:
    """Set the pins for this process and its children, unless torch is already loaded or the user opted out."""
    if os.environ.get(OPT_OUT) == "native" or "torch" in sys.modules:
        return
    if platform.machine().lower() not in X86_64:
        return
    for name, value in PINS.items():
        os.environ.setdefault(name, value)


def label() -> str:
    """``x86-64-avx2`` where this process runs pinned, else ``native-<machine>``: a run's id includes it when it
    is not the pinned one, so runs whose bytes cannot match never share an id (or a resume)."""
    machine = platform.machine().lower()
    pinned = machine in X86_64 and all(os.environ.get(k) == x for k, x in PINS.items())
    return PORTABLE if pinned else f"native-{machine}"


def environment(recorded: dict) -> dict[str, str]:
    """This process's environment for a child that must compute with another process's arithmetic, ``recorded``
    (``ganbench.versions.arithmetic_in_effect`` there): that process's pins as they were, pinned or native."""
    env = {k: v for k, v in os.environ.items() if k not in PINS}
    env.update({k: v for k, v in recorded["pins"].items() if v is not None})
    if recorded["label"] == PORTABLE:
        env.pop(OPT_OUT, None)
    else:
        env[OPT_OUT] = "native"
    return env
