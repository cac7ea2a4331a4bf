"""Training data for federated learning: built-in data sets, one fixed split, and shards.

`digits` is scikit-learn's bundled 8×8 handwritten digits (1,797 images, ten classes; shipped
inside the package, so nothing is downloaded). Pixels 0..16 are scaled to [0, 1], exactly in
float32. Every node splits it the same way, 60/20/20 into train, validation and test, by a fixed
seed: trainers shard the train part, validators the validation part, and the test part is the
held-out set that `fl show` and the benchmark report accuracy on.

Trainers' shards are non-IID, as in the BRAIN reference simulation: each class is divided among
the n trainers in proportions drawn from Dirichlet(concentration·1) (Hsu, Qi, Brown 2019), so
a small concentration leaves each trainer a few dominant classes. Validators' shards are IID
(an even split of a shuffled validation part), so each member's score estimates the same
accuracy. All trainers (and all validators) must use the same seed for their shards to be
disjoint. Orders come from keccak and draws from Python's `random.Random`, whose sequences do
not change between numpy versions or machines.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from brainchain.crypto.keccak import keccak256

if TYPE_CHECKING:
    import numpy as np

DATA_SETS = ("digits",)
DATA_SPEC_PREFIX = "builtin:"
SPLIT_SEED = 0  # the one train/validation/test split every node uses
SPLIT_PERCENT = (60, 20, 20)  # train, validation, test
DEFAULT_SHARD_SEED = 0
DEFAULT_CONCENTRATION = 0.5  # the Dirichlet parameter: strongly non-IID
PIXEL_MAX = 16.0  # digits' pixels are 0..16; a power of two, so scaling is exact

_SHARD_RE = re.compile(r"(\d+)/(\d+)")


@dataclass(frozen=True, slots=True)
class Dataset:
    """Examples as arrays: features float32 (m, 64) in [0, 1], labels int64 (m,)."""

    features: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, indices: Sequence[int]) -> Dataset:
        """The examples at `indices`, in that order."""
        rows = list(indices)
        return Dataset(self.features[rows], self.labels[rows])


@dataclass(frozen=True, slots=True)
class Splits:
    """A data set split for federated learning (see the module docstring)."""

    train: Dataset
    validation: Dataset
    test: Dataset


def parse_data_spec(spec: str) -> str:
    """The data set a `--data` value names: "builtin:digits" → "digits".

    Raises:
        ValueError: not "builtin:NAME" with a known NAME.
    """
    name = spec.removeprefix(DATA_SPEC_PREFIX)
    if not spec.startswith(DATA_SPEC_PREFIX) or name not in DATA_SETS:
        known = ", ".join(DATA_SPEC_PREFIX + n for n in DATA_SETS)
        raise ValueError(f"data spec {spec!r}: want one of {known}")
    return name


def parse_shard(spec: str) -> tuple[int, int]:
    """The shard a `--shard` value names: "i/n" → (i, n), shard i of n counted from 0.

    Raises:
        ValueError: not two integers "i/n" with 0 <= i < n.
    """
    match = _SHARD_RE.fullmatch(spec.strip())
    if match is None:
        raise ValueError(f"shard {spec!r}: want i/n, e.g. 0/4 for the first of four shards")
    i, n = int(match[1]), int(match[2])
    if not 0 <= i < n:
        raise ValueError(f"shard {spec!r}: want 0 <= i < n (shards count from 0)")
    return i, n


@functools.cache
def load(name: str = "digits") -> Dataset:
    """The whole built-in data set `name`, in its shipped order.

    Raises:
        ValueError: an unknown name.
    """
    if name not in DATA_SETS:
        raise ValueError(f"unknown data set {name!r}: want one of {', '.join(DATA_SETS)}")
    import numpy as np  # local: numpy and scikit-learn load in training processes only
    from sklearn.datasets import load_digits

    raw = load_digits()
    features = (raw.data / PIXEL_MAX).astype(np.float32)
    return Dataset(features, raw.target.astype(np.int64))


def keyed_order(count: int, seed: int, tag: str) -> list[int]:
    """0..count-1 shuffled by keccak(tag ‖ seed ‖ index): a permutation every node derives
    alike, whatever its library versions."""
    prefix = tag.encode() + seed.to_bytes(8, "big")
    return sorted(range(count), key=lambda i: keccak256(prefix + i.to_bytes(8, "big")))


@functools.cache
def splits(name: str = "digits", seed: int = SPLIT_SEED) -> Splits:
    """The data set cut into train, validation and test parts by SPLIT_PERCENT.

    Raises:
        ValueError: an unknown name.
    """
    data = load(name)
    order = keyed_order(len(data), seed, "split")
    n_train = len(order) * SPLIT_PERCENT[0] // 100
    n_validation = len(order) * SPLIT_PERCENT[1] // 100
    return Splits(
        train=data.subset(order[:n_train]),
        validation=data.subset(order[n_train : n_train + n_validation]),
        test=data.subset(order[n_train + n_validation :]),
    )


def dirichlet_shards(
    labels: Sequence[int] | np.ndarray,
    n: int,
    concentration: float = DEFAULT_CONCENTRATION,
    seed: int = DEFAULT_SHARD_SEED,
) -> list[list[int]]:
    """A non-IID partition of the examples' indices into n non-empty shards (sorted lists).

    Each class's examples, in a seeded order, are cut among the shards in proportions drawn
    from Dirichlet(concentration·1). A shard left empty then takes one example from the
    largest shard (the lowest-numbered among equals), so every index is in exactly one shard.

    Raises:
        ValueError: n is not in 1..len(labels), or concentration is not positive.
    """
    values = [int(label) for label in labels]
    if not 1 <= n <= len(values):
        raise ValueError(f"cannot cut {len(values)} examples into {n} non-empty shards")
    if not concentration > 0:
        raise ValueError(f"Dirichlet concentration must be positive, got {concentration}")
    rng = random.Random(seed)
    order = keyed_order(len(values), seed, "dirichlet")
    shards: list[list[int]] = [[] for _ in range(n)]
    for label in sorted(set(values)):
        members = [i for i in order if values[i] == label]
        draws = [rng.gammavariate(concentration, 1.0) for _ in range(n)]
        total = sum(draws)
        if total == 0.0:
            raise ValueError(f"Dirichlet concentration {concentration} too small to draw from")
        cumulative, start = 0.0, 0
        for shard, draw in zip(shards, draws, strict=True):
            cumulative += draw
            end = min(len(members), int(cumulative / total * len(members)))
            shard.extend(members[start:end])
            start = end
        shards[-1].extend(members[start:])  # what rounding left over
    for shard in shards:
        if not shard:
            largest = max(shards, key=len)
            shard.append(largest.pop())
    return [sorted(shard) for shard in shards]


def train_shard(
    i: int,
    n: int,
    seed: int = DEFAULT_SHARD_SEED,
    concentration: float = DEFAULT_CONCENTRATION,
    name: str = "digits",
) -> Dataset:
    """Trainer i's part of the train split, among n trainers (see dirichlet_shards).

    Raises:
        ValueError: i is not in 0..n-1, or see dirichlet_shards.
    """
    if not 0 <= i < n:
        raise ValueError(f"shard {i} of {n}: want 0 <= i < n")
    train = splits(name).train
    return train.subset(dirichlet_shards(train.labels, n, concentration, seed)[i])


def validation_shard(
    i: int, n: int, seed: int = DEFAULT_SHARD_SEED, name: str = "digits"
) -> Dataset:
    """Validator i's part of the validation split, among n validators: an IID n-th.

    Raises:
        ValueError: i is not in 0..n-1, or n exceeds the validation split's size.
    """
    validation = splits(name).validation
    if not 0 <= i < n or n > len(validation):
        raise ValueError(f"validation shard {i} of {n}: want 0 <= i < n <= {len(validation)}")
    m = len(validation)
    order = keyed_order(m, seed, "validation")
    return validation.subset(sorted(order[i * m // n : (i + 1) * m // n]))  # sizes differ by ≤ 1
