"""The "digits-mlp" model and its weights as content-addressed blobs (DESIGN.md §6).

The model is 64 pixels → 32 hidden units, ReLU → 10 classes: 2,410 parameters, a blob of
9,928 bytes, enough for 97–98% test accuracy on digits when trained on the whole train split.

A blob is a safetensors file in ONE canonical form, so that keccak-256 of its bytes identifies
the weights (`weights_hash`) and two nodes holding the same weights hold the same bytes: the
model's four tensors in sorted name order, float32 little-endian, finite, zeros and subnormals
as +0 (a CPU set to flush subnormals would read them as zero, see node/fl/mixing.py),
a compact JSON header with no metadata, padded with spaces to 8 bytes as safetensors pads it.
Any safetensors reader loads it; `from_blob` accepts nothing else.

Initial weights come from a task seed without torch's random generators, as executors' seeded
weights do (node/executors/weights.py): uniform on ±1/√fan_in (torch.nn.Linear's default
range) from SHAKE-256, biases zero, the same bits on every machine.
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from brainchain.crypto.keccak import keccak256
from node.executors.weights import seeded_values

if TYPE_CHECKING:
    import numpy as np

MODEL_ID = "digits-mlp"
DATA_SET = "digits"  # what it classifies (node/fl/data.py): its validation and test data
INPUTS, HIDDEN, CLASSES = 64, 32, 10
# The acceptance threshold `brainchain fl create` sets for this model: 0.25, 2.5 times chance on
# ten classes. The reference simulation's θ = 0.125 sits just above chance (0.1): zero weights
# score 0.1 and N(0, 1) noise 0.05–0.2, so about a fifth of noise proposals pass it
# (tests/unit/test_fl_learning.py), while a local model trained on any shard scores far above
# 0.25 (bench/fl_convergence.py: under attack θ = 0.25 merged 0–3 attack proposals of ~120).
THRESHOLD = 250_000
SHAPES: dict[str, tuple[int, ...]] = {  # the model's tensors, in canonical (sorted) order
    "fc1.bias": (HIDDEN,),
    "fc1.weight": (HIDDEN, INPUTS),
    "fc2.bias": (CLASSES,),
    "fc2.weight": (CLASSES, HIDDEN),
}
DTYPE = "F32"  # safetensors' name for little-endian float32, the only dtype of a blob
HEADER_ALIGN = 8  # safetensors pads its header with spaces to a multiple of 8 bytes
HEADER_LENGTH_BYTES = 8  # the header's length, little-endian, before it

Tensors = dict[str, "np.ndarray"]


def _check_layout(tensors: dict[str, Any]) -> None:
    """Raise ValueError unless `tensors` has exactly the model's names, shapes and float32."""
    if sorted(tensors) != list(SHAPES):
        raise ValueError(f"tensors {sorted(tensors)} are not {MODEL_ID}'s {list(SHAPES)}")
    for name, shape in SHAPES.items():
        got = tensors[name]
        if tuple(got.shape) != shape or got.dtype.name != "float32":
            raise ValueError(
                f"{MODEL_ID} tensor {name}: {got.dtype.name} {tuple(got.shape)},"
                f" want float32 {shape}"
            )


def to_blob(tensors: Tensors) -> bytes:
    """The weights as a canonical safetensors blob (see the module docstring).

    Raises:
        ValueError: names, shapes or dtypes other than the model's, or a NaN or infinity.
    """
    import numpy as np  # local: numpy loads in training processes only

    _check_layout(tensors)
    header: dict[str, dict[str, Any]] = {}
    chunks: list[bytes] = []
    offset = 0
    for name in SHAPES:
        values = tensors[name]
        if not np.isfinite(values).all():
            raise ValueError(f"{MODEL_ID} tensor {name} holds a NaN or an infinity")
        values = np.where(np.abs(values) < np.finfo(np.float32).tiny, np.float32(0), values)
        raw = np.ascontiguousarray(values, dtype="<f4").tobytes()
        header[name] = {
            "dtype": DTYPE,
            "shape": list(SHAPES[name]),
            "data_offsets": [offset, offset + len(raw)],
        }
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % HEADER_ALIGN)
    return len(text).to_bytes(HEADER_LENGTH_BYTES, "little") + text + b"".join(chunks)


def from_blob(blob: bytes) -> Tensors:
    """The model's tensors (float32 arrays) from a canonical blob.

    Raises:
        ValueError: not a safetensors file, tensors other than the model's, or not in the
            canonical form (other bytes for the same weights would have another hash).
    """
    from safetensors import SafetensorError  # local: see to_blob
    from safetensors.numpy import load

    try:
        tensors = load(blob)
    except SafetensorError as e:
        raise ValueError(f"not a safetensors blob: {e}") from e
    _check_layout(tensors)
    if to_blob(tensors) != blob:
        raise ValueError(f"{MODEL_ID} blob is not in canonical form")
    return tensors


def weights_hash(blob: bytes) -> bytes:
    """A blob's content id, the weights hash the chain records: keccak-256 of its bytes."""
    return keccak256(blob)


def initial_weights(seed: int) -> bytes:
    """The task's version-0 weights, derived from its seed (see the module docstring)."""
    import numpy as np  # local: see to_blob

    tensors: Tensors = {}
    for name, shape in SHAPES.items():
        if name.endswith(".bias"):
            tensors[name] = np.zeros(shape, dtype=np.float32)
        else:
            std = 1.0 / math.sqrt(3 * shape[1])  # that of uniform ±1/√fan_in
            tensors[name] = seeded_values(seed, name, math.prod(shape), std).reshape(shape)
    return to_blob(tensors)


def to_module(tensors: Tensors) -> Any:
    """A torch module computing the model with these weights (float32, on the CPU)."""
    import torch  # local: torch loads in training processes only (DESIGN.md §1)

    module = torch.nn.Sequential(
        OrderedDict(
            fc1=torch.nn.Linear(INPUTS, HIDDEN),
            relu=torch.nn.ReLU(),
            fc2=torch.nn.Linear(HIDDEN, CLASSES),
        )
    )
    module.load_state_dict(
        {name: torch.from_numpy(values.copy()) for name, values in tensors.items()}
    )
    return module


def from_module(module: Any) -> Tensors:
    """The module's weights as float32 arrays, named as in a blob."""
    return {name: t.detach().cpu().numpy().copy() for name, t in module.state_dict().items()}
