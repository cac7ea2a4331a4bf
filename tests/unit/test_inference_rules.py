"""The pure rules of two-phase inference (brainchain/inference.py) and the model registry's
spec format (genesis/models.py)."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brainchain.inference import (
    commit_end,
    commitment,
    committing,
    deadline,
    fee_shares,
    reaches_quorum,
    request_seed,
    revealing,
)
from brainchain.sortition import selected_units
from genesis.models import SHIPPED, ModelSpecError, parse_model, parse_models, shipped_model

MEMBER_A = bytes([0xA]) * 20
MEMBER_B = bytes([0xB]) * 20


def test_seed_depends_on_id_and_block_hash() -> None:
    block = bytes(range(32))
    assert request_seed(1, block) != request_seed(2, block)
    assert request_seed(1, block) != request_seed(1, bytes(32))
    assert len(request_seed(1, block)) == 32


def test_commitment_binds_the_member_so_a_copy_cannot_be_opened() -> None:
    salt = bytes(32)
    assert commitment(b"out", MEMBER_A, salt) != commitment(b"out", MEMBER_B, salt)
    assert commitment(b"out", MEMBER_A, salt) != commitment(b"out2", MEMBER_A, salt)


@pytest.mark.parametrize(
    ("weight", "k", "final"),
    [(0, 1, False), (1, 1, True), (2, 4, False), (3, 4, True), (16, 32, False), (17, 32, True)],
)
def test_quorum_is_more_than_half_the_expected_weight(weight: int, k: int, final: bool) -> None:
    assert reaches_quorum(weight, k) is final


def test_windows_follow_each_other_without_overlap() -> None:
    included, c, r = 100, 10, 5
    commit_heights = [h for h in range(90, 130) if committing(h, included, c)]
    reveal_heights = [h for h in range(90, 130) if revealing(h, included, c, r)]
    assert commit_heights == list(range(101, 111))
    assert reveal_heights == list(range(111, 116))
    assert commit_end(included, c) == 110
    assert deadline(included, c, r) == 115


@given(st.integers(0, 10**30), st.lists(st.integers(1, 2**64), min_size=1, max_size=64))
def test_fee_shares_never_pay_more_than_the_fee(fee: int, weights: list[int]) -> None:
    shares = fee_shares(fee, weights)
    assert sum(shares) <= fee
    assert fee - sum(shares) < len(weights)
    for w1, s1, w2, s2 in zip(weights, shares, weights[1:], shares[1:], strict=False):
        if w1 == w2:
            assert s1 == s2


def test_small_committees_of_many_validators_reach_quorum_when_honest() -> None:
    """k ≪ N: 100 validators of equal stake, k = 32. About 28 serve a request and the honest
    committee's weight exceeds k/2 in nearly every request (seeded VRF outputs stand in for
    proofs here; tests/vm/test_inference_precompile.py uses real proofs)."""
    rng = random.Random(11)
    stake, validators, k = 100, 100, 32
    total = stake * validators
    members, quorums, requests = [], 0, 400
    for _ in range(requests):
        weights = [selected_units(rng.randbytes(64), stake, total, k) for _ in range(validators)]
        members.append(sum(1 for w in weights if w))
        quorums += reaches_quorum(sum(weights), k)
    mean_members = sum(members) / requests
    assert 24 < mean_members < 32, mean_members
    assert quorums >= requests * 0.99


def test_shipped_models_parse_and_round_trip() -> None:
    for model_id in SHIPPED:
        spec = shipped_model(model_id)
        assert parse_model(json.loads(json.dumps(spec.to_json()))) == spec
        assert spec.spec_hash == parse_model(spec.to_json()).spec_hash
    assert shipped_model("tiny-gptj").parameters == 132_352
    assert shipped_model("tiny-gpt2").parameters == 149_248
    assert shipped_model("gptj-bench").parameters == 25_457_920


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": "Bad Id"}, "id"),
        ({"architecture": "llama"}, "architecture"),
        ({"tokenizer": "bpe"}, "tokenizer"),
        ({"weights": {"source": "hub"}}, "weights.source"),
        ({"weights": {"source": "file", "file": "../x.safetensors"}}, "weights.file"),
        ({"weights_hash": "0x12"}, "weights_hash"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_input_bytes": 600}, "n_positions"),
        ({"config": {"vocab_size": 50257}}, "vocab_size"),
    ],
)
def test_malformed_specs_are_refused_with_the_field_named(change: dict, message: str) -> None:
    doc = shipped_model("tiny-gptj").to_json() | change
    with pytest.raises(ModelSpecError, match=message):
        parse_model(doc)


def test_duplicate_model_ids_are_refused() -> None:
    doc = shipped_model("tiny-gptj").to_json()
    with pytest.raises(ModelSpecError, match="duplicate"):
        parse_models([doc, doc])
    assert parse_models([]) == ()
