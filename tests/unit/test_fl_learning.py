"""The learning side of federated learning (node/fl/): digits data and its shards, canonical
weight blobs, deterministic training and mixing, and BRAIN's loop of train → score → median →
α → mix raising test accuracy on non-IID shards."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable

import numpy as np
import pytest
from safetensors.numpy import save

from brainchain.crypto.keccak import keccak256
from brainchain.fl import (
    DEFAULT_WINDOW,
    SCORE_SCALE,
    accepted,
    alpha,
    median_score,
)
from node.fl.data import (
    dirichlet_shards,
    keyed_order,
    load,
    parse_data_spec,
    parse_shard,
    splits,
    train_shard,
    validation_shard,
)
from node.fl.mixing import mix
from node.fl.model import SHAPES, Tensors, from_blob, initial_weights, to_blob, weights_hash
from node.fl.train import evaluate, loss_score, score, score_units, train_local

TASK_SEED = 7
TRAINERS = 4
VALIDATORS = 3


def zeros() -> Tensors:
    return {name: np.zeros(shape, dtype=np.float32) for name, shape in SHAPES.items()}


def noise(seed: int) -> Tensors:
    rng = np.random.default_rng(seed)
    return {name: rng.normal(0, 1, shape).astype(np.float32) for name, shape in SHAPES.items()}


def committee_score(blob: bytes) -> int:
    """The median of the scores of VALIDATORS members, each on its own validation shard."""
    return median_score([score(blob, validation_shard(i, VALIDATORS)) for i in range(VALIDATORS)])


# data


def test_data_and_shard_specs_parse_and_bad_ones_say_what_is_wanted() -> None:
    assert parse_data_spec("builtin:digits") == "digits"
    assert parse_shard("0/4") == (0, 4) and parse_shard(" 3/4 ") == (3, 4)
    for bad in ("digits", "builtin:mnist", "file:x.csv", ""):
        with pytest.raises(ValueError, match="builtin:digits"):
            parse_data_spec(bad)
    for bad in ("4/4", "1", "a/b", "-1/4", "1/0", "1/2/3"):
        with pytest.raises(ValueError, match="shard"):
            parse_shard(bad)


def test_the_split_is_fixed_60_20_20_and_covers_the_data_set_once() -> None:
    data, parts = load(), splits()
    assert data.features.dtype == np.float32 and data.features.shape == (1797, 64)
    assert float(data.features.min()) == 0.0 and float(data.features.max()) == 1.0
    assert (len(parts.train), len(parts.validation), len(parts.test)) == (1078, 359, 360)
    joined = np.concatenate([parts.train.labels, parts.validation.labels, parts.test.labels])
    assert np.array_equal(np.bincount(joined), np.bincount(data.labels))
    assert keyed_order(10, 1, "split") == keyed_order(10, 1, "split") != keyed_order(10, 2, "split")


def test_dirichlet_shards_cover_the_train_split_once_and_are_not_iid() -> None:
    labels = splits().train.labels
    shards = dirichlet_shards(labels, TRAINERS, seed=1)
    assert sorted(i for shard in shards for i in shard) == list(range(len(labels)))
    assert all(shards) and shards == dirichlet_shards(labels, TRAINERS, seed=1)
    assert shards != dirichlet_shards(labels, TRAINERS, seed=2)
    assert np.array_equal(train_shard(0, TRAINERS, seed=1).labels, labels[shards[0]])
    overall = np.bincount(labels, minlength=10) / len(labels)
    for shard in shards:
        mix_of_classes = np.bincount(labels[shard], minlength=10) / len(shard)
        assert 0.5 * np.abs(mix_of_classes - overall).sum() > 0.15  # total variation from IID


def test_dirichlet_shards_are_never_empty_even_one_example_each() -> None:
    labels = [0] * 5 + [1] * 5
    shards = dirichlet_shards(labels, 10, concentration=0.05, seed=3)
    assert sorted(len(s) for s in shards) == [1] * 10
    assert sorted(i for s in shards for i in s) == list(range(10))
    assert all(dirichlet_shards(splits().train.labels, 21, seed=seed) for seed in range(5))
    with pytest.raises(ValueError):
        dirichlet_shards(labels, 11)
    with pytest.raises(ValueError):
        dirichlet_shards(labels, 2, concentration=0)


def test_validation_shards_split_the_validation_part_evenly() -> None:
    shards = [validation_shard(i, VALIDATORS) for i in range(VALIDATORS)]
    assert [len(s) for s in shards] == [119, 120, 120]
    assert sum(len(s) for s in shards) == len(splits().validation)
    joined = np.concatenate([s.labels for s in shards])
    assert np.array_equal(np.bincount(joined), np.bincount(splits().validation.labels))
    with pytest.raises(ValueError):
        validation_shard(3, 3)


# blobs


def test_initial_weights_are_seeded_and_hashed_by_their_bytes() -> None:
    blob = initial_weights(TASK_SEED)
    assert blob == initial_weights(TASK_SEED) != initial_weights(TASK_SEED + 1)
    assert weights_hash(blob) == keccak256(blob)
    tensors = from_blob(blob)
    assert float(np.abs(tensors["fc1.weight"]).max()) <= 1 / 8  # ±1/√64
    assert not tensors["fc2.bias"].any()


def test_a_blob_is_what_safetensors_writes_for_the_sorted_tensors() -> None:
    blob = initial_weights(TASK_SEED)
    assert save(from_blob(blob)) == blob
    header_length = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8 : 8 + header_length])
    assert list(header) == sorted(SHAPES) and "__metadata__" not in header
    assert header_length % 8 == 0


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t | {"fc1.weight": np.zeros((64, 32), np.float32)},  # transposed
        lambda t: t | {"fc2.bias": np.zeros(10, np.float64)},
        lambda t: t | {"fc3.weight": np.zeros((10, 10), np.float32)},
        lambda t: {k: v for k, v in t.items() if k != "fc1.bias"},
    ],
)
def test_tensors_other_than_the_models_are_refused(change: Callable[[Tensors], Tensors]) -> None:
    wrong = change(from_blob(initial_weights(TASK_SEED)))
    with pytest.raises(ValueError, match="digits-mlp"):
        to_blob(wrong)
    with pytest.raises(ValueError, match="digits-mlp"):
        from_blob(save(wrong))


def test_only_canonical_blobs_are_accepted() -> None:
    tensors = from_blob(initial_weights(TASK_SEED))
    for bad in (b"", b"garbage", save(tensors, metadata={"note": "x"})):
        with pytest.raises(ValueError):
            from_blob(bad)
    with_nan = tensors | {"fc2.bias": np.full(10, np.nan, np.float32)}
    with pytest.raises(ValueError, match="NaN"):
        to_blob(with_nan)
    with pytest.raises(ValueError, match="NaN"):
        from_blob(save(with_nan))
    subnormal = tensors | {"fc2.bias": np.full(10, 1e-40, np.float32)}
    with pytest.raises(ValueError, match="canonical"):
        from_blob(save(subnormal))
    assert not from_blob(to_blob(subnormal))["fc2.bias"].any()  # flushed to +0
    negative_zero = tensors | {"fc2.bias": np.full(10, -0.0, np.float32)}
    assert not np.signbit(from_blob(to_blob(negative_zero))["fc2.bias"]).any()


# training, scoring, mixing


def test_training_is_reproducible_to_the_byte() -> None:
    blob, shard = initial_weights(TASK_SEED), train_shard(0, TRAINERS)
    first = train_local(blob, shard, seed=5)
    assert first == train_local(blob, shard, seed=5)
    assert weights_hash(first) == weights_hash(train_local(blob, shard, seed=5))
    assert first != train_local(blob, shard, seed=6) and first != blob
    with pytest.raises(ValueError):
        train_local(to_blob(zeros())[:-4], shard)


def test_scores_are_integers_in_score_units() -> None:
    assert (score_units(0.9312), score_units(0.0), score_units(1.0)) == (931_200, 0, SCORE_SCALE)
    assert score_units(1.5) == SCORE_SCALE and score_units(-0.1) == 0 == score_units(float("nan"))
    assert score_units(0.0000005) == 0 and score_units(0.0000015) == 2  # half to even
    assert loss_score(0.0) == SCORE_SCALE and loss_score(2.0) == 818_731  # exp(-0.2)
    blob, data = initial_weights(TASK_SEED), splits().test
    accuracy, loss = evaluate(blob, data)
    assert score(blob, data) == score_units(accuracy) and loss > 0


def test_mixing_is_the_elementwise_formula_rounded_once_to_float32() -> None:
    g = initial_weights(TASK_SEED)
    local = train_local(g, train_shard(1, TRAINERS), seed=1)
    alpha_units = 734_567
    mixed = mix(g, local, alpha_units)
    again = mix(g, local, alpha_units)
    assert again == mixed and weights_hash(again) == weights_hash(mixed)
    a = alpha_units / SCORE_SCALE
    got, old, new = from_blob(mixed), from_blob(g), from_blob(local)
    for name in SHAPES:  # Python floats: binary64, one element at a time, then float32
        expected = [
            struct.unpack("<f", struct.pack("<f", (1.0 - a) * float(x) + a * float(y)))[0]
            for x, y in zip(old[name].ravel(), new[name].ravel(), strict=True)
        ]
        assert got[name].ravel().tolist() == expected
    assert mix(g, local, 0) == g and mix(g, local, SCORE_SCALE) == local
    for bad_alpha in (-1, SCORE_SCALE + 1):
        with pytest.raises(ValueError):
            mix(g, local, bad_alpha)
    with pytest.raises(ValueError):
        mix(g, save(from_blob(local), metadata={"x": "y"}), alpha_units)


def test_brains_loop_on_non_iid_shards_raises_test_accuracy_well_above_chance() -> None:
    """4 trainers on Dirichlet(0.5) shards propose in turn for 5 rounds; each proposal is
    scored by 3 validators, merged when the median passes θ, with α from the last w scores."""
    test = splits().test
    shards = [train_shard(i, TRAINERS) for i in range(TRAINERS)]
    current = initial_weights(TASK_SEED)
    assert evaluate(current, test)[0] < 0.25
    window: list[int] = []
    for round_ in range(5):
        for i, shard in enumerate(shards):
            local = train_local(current, shard, seed=TRAINERS * round_ + i)
            median = committee_score(local)
            assert accepted(median)
            window = [*window, median][-DEFAULT_WINDOW:]
            current = mix(current, local, alpha(window))
    assert evaluate(current, test)[0] > 0.8


def test_zero_and_noise_weights_score_near_chance() -> None:
    """Zero weights predict class 0 everywhere and are rejected. Noise stays near chance (0.1),
    far below a trained model, yet θ = 0.125 is close to chance: about a fifth of N(0, 1) blobs
    reach it on these shards (43 of 200 seeds with 3 validators), so θ alone does not stop it."""
    assert not accepted(committee_score(to_blob(zeros())))
    trained = train_local(initial_weights(TASK_SEED), splits().train, seed=0)
    assert committee_score(trained) > 800_000
    for seed in range(20):
        assert committee_score(to_blob(noise(seed))) < 250_000
