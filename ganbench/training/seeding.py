"""Seed streams and determinism.

One integer seed per run fans out (numpy SeedSequence.spawn) into independent streams, so that changing how
often one thing is sampled never shifts another: weight init, data sampling, training latents, and the fixed
evaluation batch (latents + real samples). Streams depend on the seed alone, so every variant with the same
seed starts from the same weights (same architecture) and is evaluated on the same latents: differences
between variants are paired comparisons.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import numpy as np
import torch

STREAMS = ("init", "data", "latent", "eval", "augment")  # spawned in order: a new one leaves the others


@dataclass
class Streams:
    init: int  # a seed for torch's global RNG while the models are built
    data: torch.Generator
    latent: torch.Generator
    eval: torch.Generator
    augment: torch.Generator  # differentiable augmentation's draws

    def state(self) -> dict[str, torch.Tensor]:
        return {name: getattr(self, name).get_state() for name in ("data", "latent", "eval", "augment")}

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        for name, value in state.items():
            getattr(self, name).set_state(value)


def make_streams(seed: int) -> Streams:
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    seeds = [int(c.generate_state(1, dtype=np.uint64)[0] >> 1) for c in children]  # torch takes < 2**63

    def gen(s: int) -> torch.Generator:
        g = torch.Generator()  # CPU generators: the same numbers whatever device trains
        g.manual_seed(s)
        return g

    return Streams(seeds[0], *(gen(s) for s in seeds[1:]))


def _deterministic_algorithms(mode: bool) -> None:
    """torch.use_deterministic_algorithms(mode) without its import of torch._inductor.config (1.5 s of every
    process, to set a flag only torch.compile reads; ganbench trains eagerly). The eager flag is the one
    are_deterministic_algorithms_enabled() reports; inductor's is set too wherever inductor is loaded."""
    inductor = sys.modules.get("torch._inductor.config")
    setter = getattr(torch._C, "_set_deterministic_algorithms", None)
    if setter is None:  # another torch: the public call, whatever it costs
        torch.use_deterministic_algorithms(mode, warn_only=False)
        return
    if inductor is not None:
        inductor.deterministic = mode
    setter(mode, warn_only=False)


def apply_determinism(deterministic: bool, device: torch.device) -> dict[str, object]:
    """Set (or clear) torch's determinism flags and return what is actually in force, for the run's config."""
    if deterministic and device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # needed by deterministic cuBLAS
    _deterministic_algorithms(deterministic)
    torch.backends.cudnn.deterministic = deterministic
    torch.backends.cudnn.benchmark = not deterministic
    return {
        "requested": deterministic,
        "use_deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "cudnn_deterministic": torch.backends.cudnn.deterministic,
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "cublas_workspace_config": os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
        "torch_threads": torch.get_num_threads(),
    }
