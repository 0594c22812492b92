"""The exact software and hardware a run ran on, recorded in its config."""

from __future__ import annotations

import os
import platform
from functools import cache
from importlib.metadata import PackageNotFoundError, version

import torch


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


@cache  # what is installed does not change under a running process; looking it up took 11 ms per run
def _software() -> dict[str, str | None]:
    info = {"python": platform.python_version(), "platform": platform.platform(), "machine": platform.machine()}
    for package in ("ganbench", "torch", "torchvision", "torchmetrics", "numpy", "scipy", "pandas"):
        info[package] = _version(package)
    return info


def arithmetic_in_effect() -> dict[str, object]:
    """What decided this process's CPU arithmetic (ganbench.arithmetic): the label in run ids, the code path
    PyTorch's kernels took, the pins as set, the intra-op threads."""
    from ganbench import arithmetic

    return {"label": arithmetic.label(), "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "pins": {k: os.environ.get(k) for k in arithmetic.PINS}, "threads": torch.get_num_threads()}


CPUINFO = "/proc/cpuinfo"  # Linux's description of the CPU


@cache
def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, ``sysctl`` on macOS), else the architecture. Pinned
    arithmetic was measured to give other bytes on another CPU model (docs/scaling.md), so a run names its CPU."""
    try:
        with open(CPUINFO) as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    if platform.system() == "Darwin":
        import subprocess

        try:
            return subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True,
                                  check=True, timeout=5).stdout.strip() or platform.machine()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or platform.machine()


def versions(device: torch.device | None = None) -> dict[str, str | None]:
    info = dict(_software())
    if device is not None and device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
        info["cuda"] = torch.version.cuda
        info["cudnn"] = str(torch.backends.cudnn.version())
    else:
        info["cpu"] = cpu_model()
    return info
