"""Merging an accepted proposal into the global model: global ← (1 − α)·global + α·local
(DESIGN.md §6), the computation every node repeats from the chain and checks against the
weights hash it records, so it must give the same bits everywhere.

Why it does: every value is an IEEE 754 binary64 number and every step one correctly rounded
operation, whose result IEEE fixes to the bit. α = alpha_units / SCORE_SCALE is one division
of two exact integers; 1 − α one subtraction; float32 → float64 is exact; then numpy's
elementwise multiply and add, one ufunc each, so each element's value is rounded after each
operation whether the loop runs in SIMD lanes or not, and no fused multiply-add can form
across two ufunc calls; finally one round to nearest float32. There are no reductions (whose
order would change the sum) and no BLAS. Subnormals, which a CPU set to flush them to zero
would treat differently, cannot occur: canonical blobs hold none (node/fl/model.py), a float32
times α ≥ 10⁻⁶ is far inside binary64's normal range, and results below float32's smallest
normal are flushed to +0 here, before the final rounding, by a comparison.
"""

from __future__ import annotations

from brainchain.fl import SCORE_SCALE
from node.fl.model import Tensors, from_blob, to_blob


def mix(global_blob: bytes, local_blob: bytes, alpha_units: int) -> bytes:
    """The next global version's blob: (1 − α)·global + α·local, α = alpha_units/SCORE_SCALE.

    Raises:
        ValueError: α outside [0, 1], or a blob that is not a canonical blob of the model.
    """
    if not 0 <= alpha_units <= SCORE_SCALE:
        raise ValueError(f"alpha {alpha_units} outside 0..{SCORE_SCALE}")
    import numpy as np  # local: numpy loads in training and verifying processes only

    a = alpha_units / SCORE_SCALE
    keep = 1.0 - a
    tiny = float(np.finfo(np.float32).tiny)
    global_tensors, local_tensors = from_blob(global_blob), from_blob(local_blob)
    mixed: Tensors = {}
    for name, g in global_tensors.items():
        out = np.multiply(g.astype(np.float64), keep) + np.multiply(
            local_tensors[name].astype(np.float64), a
        )
        out[np.abs(out) < tiny] = 0.0
        mixed[name] = out.astype(np.float32)
    return to_blob(mixed)
