"""Model weights: seeded ones every node builds alike offline, and their canonical hash.

Seeded weights do not come from torch's random generators, whose vectorised normal sampling
takes different paths on different CPUs: each parameter is filled from SHAKE-256(seed ‖ name)
read as 24-bit integers, scaled exactly to a uniform distribution with the config's
initializer_range as its standard deviation. One-dimensional weights (the layer norms' scales)
are ones and biases zeros, as transformers initialises them. Every step is an exact or
correctly rounded IEEE operation, so the bits are the same on every machine.

The canonical hash is keccak-256 over the state dict in sorted key order: for each tensor its
name, dtype, shape and little-endian bytes, each length-prefixed. It depends on the values
only, not on how a safetensors file happened to lay them out.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from brainchain.crypto.keccak import keccak256_hasher

UNIFORM_BITS = 24  # exact in float32's 24-bit significand
DEFAULT_STD = 0.02  # transformers' initializer_range default


def _prefixed(data: bytes) -> bytes:
    return len(data).to_bytes(8, "big") + data


def seeded_values(seed: int, name: str, count: int, std: float) -> Any:
    """`count` float32 values for parameter `name`: uniform on [-a, a) with a = std·√3."""
    import numpy as np  # local: numpy arrives with torch, in executor processes only

    stream = hashlib.shake_256(seed.to_bytes(8, "big") + name.encode()).digest(3 * count)
    raw = np.frombuffer(stream, dtype=np.uint8).reshape(count, 3).astype(np.int32)
    ints = (raw[:, 0] << 16) | (raw[:, 1] << 8) | raw[:, 2]
    unit = (ints - (1 << (UNIFORM_BITS - 1))).astype(np.float32) / np.float32(
        1 << (UNIFORM_BITS - 1)
    )
    return unit * np.float32(std * math.sqrt(3.0))


def fill_seeded(model: Any, seed: int, std: float) -> None:
    """Overwrite every parameter of `model` with its seeded values (see the module docstring)."""
    import torch  # local: see seeded_values

    with torch.no_grad():
        for name, param in sorted(model.named_parameters()):
            if name.endswith(".bias"):
                param.zero_()
            elif param.dim() == 1:
                param.fill_(1.0)
            else:
                values = seeded_values(seed, name, param.numel(), std)
                param.copy_(torch.from_numpy(values).reshape(param.shape))


def canonical_hash(state_dict: dict[str, Any]) -> bytes:
    """keccak-256 of the tensors in sorted name order (see the module docstring)."""
    h = keccak256_hasher()
    for name in sorted(state_dict):
        tensor = state_dict[name].detach().to("cpu").contiguous()
        h.update(_prefixed(name.encode()))
        h.update(_prefixed(str(tensor.dtype).encode()))
        h.update(_prefixed(",".join(map(str, tensor.shape)).encode()))
        values = tensor.numpy()
        h.update(_prefixed(values.astype(values.dtype.newbyteorder("<"), copy=False).tobytes()))
    return h.digest()
