"""The torch settings under which every executor of a model computes the same bits.

Greedy decoding compares token ids, yet a near-tie between two logits turns on the last bit, so
everything that changes bits is fixed: deterministic algorithms (and the cuBLAS workspace they
require on CUDA), no TF32, the spec's dtype, and the spec's CPU thread count, since reductions
split across threads sum in another order (measured: 1 and 2 threads give different logits).
"""

from __future__ import annotations

import os
from typing import Any

CUBLAS_WORKSPACE = ":4096:8"  # what torch.use_deterministic_algorithms asks for on CUDA ≥ 10.2


def configure(threads: int) -> Any:
    """Set torch's global switches for reproducible inference; return the torch module.

    Threads are per process, so one process runs models of one thread count at a time
    (the executor keeps to that).
    """
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
    import torch  # local: torch loads in executor processes only (DESIGN.md §1)

    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return torch


def device_name(preferred: str = "auto") -> str:
    """ "cuda" when asked for or, with "auto", when a GPU is present; else "cpu"."""
    import torch  # local: see configure

    if preferred == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return preferred
