"""Merkle Patricia Trie invariants (Yellow Paper App. D), checked with Hypothesis.

The incremental trie is checked against a dict model and against `trie_root`, which builds
the root bottom-up by a separate algorithm.
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brainchain.crypto.keccak import keccak256
from brainchain.encoding import rlp
from brainchain.errors import DecodingError, InvalidProof, MissingTrieNode
from brainchain.trie import (
    EMPTY_TRIE_ROOT,
    Trie,
    mpt,
    ordered_trie_root,
    trie_root,
    verify_proof,
)
from brainchain.trie.node import _from_item, decode_node

REPO = Path(__file__).resolve().parents[2]
BENCH_SMOKE_ARGS = ("--seed", "1", "--size", "300", "--updates", "20", "--blocks", "1")

# Few distinct bytes, so keys share prefixes and some keys are prefixes of others.
keys = st.lists(st.sampled_from([0x00, 0x01, 0x10, 0x11, 0xFF]), max_size=5).map(bytes)
# Short values make nodes under 32 bytes (inlined in their parent); long ones are hashed.
values = st.binary(min_size=1, max_size=40)
mappings = st.dictionaries(keys, values, max_size=30)
ops = st.lists(st.tuples(keys, st.one_of(st.just(b""), values)), max_size=60)


def _apply(trie: Trie, model: dict[bytes, bytes], key: bytes, value: bytes) -> None:
    trie.set(key, value)
    if value:
        model[key] = value
    else:
        model.pop(key, None)


def _build(items: dict[bytes, bytes], *, secure: bool = False) -> Trie:
    trie = Trie({}, secure=secure)
    for key, value in items.items():
        trie.set(key, value)
    return trie


@settings(max_examples=200, deadline=None)
@given(ops, st.booleans())
def test_matches_dict_model(operations: list[tuple[bytes, bytes]], secure: bool) -> None:
    trie = Trie({}, secure=secure)
    model: dict[bytes, bytes] = {}
    for key, value in operations:
        _apply(trie, model, key, value)
    assert trie.root_hash() == trie_root(model, secure=secure)
    for key, _ in operations:
        assert trie.get(key) == model.get(key, b"")
    if not secure:
        assert list(trie.items()) == sorted(model.items())


@settings(deadline=None)
@given(mappings, st.randoms(use_true_random=False), st.booleans())
def test_root_independent_of_insertion_order(
    items: dict[bytes, bytes], rng: random.Random, secure: bool
) -> None:
    pairs = list(items.items())
    rng.shuffle(pairs)
    shuffled = _build(dict(pairs), secure=secure)
    assert shuffled.root_hash() == _build(items, secure=secure).root_hash()


@settings(deadline=None)
@given(mappings, keys, values, st.booleans(), st.booleans())
def test_set_then_delete_restores_root(
    items: dict[bytes, bytes], key: bytes, value: bytes, secure: bool, commit_between: bool
) -> None:
    items.pop(key, None)
    db: dict[bytes, bytes] = {}
    trie = Trie(db, secure=secure)
    for k, v in items.items():
        trie.set(k, v)
    before = trie.root_hash()
    if commit_between:
        db.update(trie.commit())
    trie.set(key, value)
    if commit_between:
        db.update(trie.commit())
    trie.delete(key)
    assert trie.root_hash() == before
    trie.delete(key)  # deleting an absent key changes nothing
    assert trie.root_hash() == before


@settings(deadline=None)
@given(st.lists(ops, min_size=1, max_size=4), st.booleans())
def test_commit_and_reopen(rounds: list[list[tuple[bytes, bytes]]], secure: bool) -> None:
    db: dict[bytes, bytes] = {}
    trie = Trie(db, secure=secure)
    model: dict[bytes, bytes] = {}
    for operations in rounds:
        for key, value in operations:
            _apply(trie, model, key, value)
        db.update(trie.commit())
        root = trie.root_hash()
        reopened = Trie(db, root, secure=secure)
        assert reopened.root_hash() == root
        for key, _ in operations:
            assert reopened.get(key) == model.get(key, b"")
            assert trie.get(key) == model.get(key, b"")
        if not secure:
            assert list(reopened.items()) == sorted(model.items())
        trie = reopened  # keep writing on the reopened trie


@settings(deadline=None)
@given(mappings, keys, st.booleans())
def test_proofs_verify(items: dict[bytes, bytes], absent: bytes, secure: bool) -> None:
    trie = _build(items, secure=secure)
    root = trie.root_hash()
    for key, value in items.items():
        assert verify_proof(root, key, trie.prove(key), secure=secure) == value
    wanted = items.get(absent, b"")
    assert verify_proof(root, absent, trie.prove(absent), secure=secure) == wanted


@settings(deadline=None)
@given(mappings.filter(bool), st.data(), st.booleans())
def test_tampered_proofs_fail(items: dict[bytes, bytes], data: st.DataObject, secure: bool) -> None:
    trie = _build(items, secure=secure)
    root = trie.root_hash()
    key = data.draw(st.sampled_from(sorted(items)))
    proof = trie.prove(key)
    index = data.draw(st.integers(0, len(proof) - 1))
    position = data.draw(st.integers(0, len(proof[index]) - 1))
    flipped = bytearray(proof[index])
    flipped[position] ^= data.draw(st.integers(1, 255))
    tampered = [*proof[:index], bytes(flipped), *proof[index + 1 :]]
    with pytest.raises(InvalidProof):
        verify_proof(root, key, tampered, secure=secure)
    with pytest.raises(InvalidProof):
        verify_proof(root, key, proof[:index], secure=secure)  # truncated
    with pytest.raises(InvalidProof):
        verify_proof(root, key, [*proof, proof[0]], secure=secure)  # a node too many
    with pytest.raises(InvalidProof):
        verify_proof(keccak256(root), key, proof, secure=secure)  # another root


@settings(deadline=None)
@given(st.lists(st.binary(max_size=120), max_size=300))
def test_ordered_trie_root_matches_set(items: list[bytes]) -> None:
    trie = Trie({})
    for index, item in enumerate(items):
        trie.set(rlp.encode(rlp.encode_uint(index)), item)
    assert ordered_trie_root(items) == trie.root_hash()


def test_ordered_trie_root_across_key_widths() -> None:
    rng = random.Random(7)
    for count in (0, 1, 127, 128, 129, 255, 256, 1000):
        items = [rng.randbytes(110) for _ in range(count)]
        trie = Trie({})
        for index, item in enumerate(items):
            trie.set(rlp.encode(rlp.encode_uint(index)), item)
        assert ordered_trie_root(items) == trie.root_hash(), count


@settings(deadline=None)
@given(st.sets(keys, max_size=20), keys)
def test_next_and_prev_keys(present: set[bytes], probe: bytes) -> None:
    trie = _build({key: b"v" for key in present})
    ordered = sorted(present)
    following = [key for key in ordered if key > probe]
    preceding = [key for key in ordered if key < probe]
    assert trie.next_key(probe) == (following[0] if following else None)
    assert trie.prev_key(probe) == (preceding[-1] if preceding else None)


def test_empty_trie() -> None:
    assert keccak256(rlp.encode(b"")) == EMPTY_TRIE_ROOT
    trie = Trie({})
    assert trie.root_hash() == EMPTY_TRIE_ROOT
    assert trie.get(b"any") == b""
    assert trie.commit() == {}
    assert trie.prove(b"any") == []
    assert verify_proof(EMPTY_TRIE_ROOT, b"any", [], secure=True) == b""
    assert ordered_trie_root([]) == EMPTY_TRIE_ROOT
    trie.set(b"k", b"v")
    trie.delete(b"k")
    assert trie.root_hash() == EMPTY_TRIE_ROOT


def test_short_root_is_stored_by_hash() -> None:
    db: dict[bytes, bytes] = {}
    trie = Trie(db)
    trie.set(b"a", b"b")  # the root node encodes to fewer than 32 bytes
    db.update(trie.commit())
    root = trie.root_hash()
    assert db[root] and keccak256(db[root]) == root
    assert Trie(db, root).get(b"a") == b"b"


def test_missing_root_raises_on_access() -> None:
    trie = Trie({}, keccak256(b"nowhere"))
    with pytest.raises(MissingTrieNode) as info:
        trie.get(b"key")
    assert info.value.node_hash == keccak256(b"nowhere")
    with pytest.raises(MissingTrieNode):
        trie.set(b"key", b"value")


def test_missing_inner_node_raises() -> None:
    db: dict[bytes, bytes] = {}
    trie = _build({bytes([i]) * 20: bytes([i]) * 40 for i in range(64)}, secure=True)
    db.update(trie.commit())
    root = trie.root_hash()
    inner = next(h for h in db if h != root)
    del db[inner]
    reopened = Trie(db, root, secure=True)
    with pytest.raises(MissingTrieNode):
        for i in range(64):
            reopened.get(bytes([i]) * 20)


def test_corrupt_node_raises() -> None:
    node_hash = keccak256(b"junk")
    with pytest.raises(DecodingError):
        Trie({node_hash: rlp.encode([b"a", b"b", b"c"])}, node_hash).get(b"key")


def test_root_must_be_32_bytes() -> None:
    with pytest.raises(ValueError):
        Trie({}, b"short")


def test_state_sized_updates_touch_only_their_paths() -> None:
    rng = random.Random(1)
    db: dict[bytes, bytes] = {}
    trie = Trie(db, secure=True)
    model = {rng.randbytes(20): rng.randbytes(70) for _ in range(3000)}
    for key, value in model.items():
        trie.set(key, value)
    db.update(trie.commit())
    addresses = list(model)
    for _ in range(3):
        touched = rng.sample(addresses, 100)
        for key in touched:
            model[key] = rng.randbytes(70)
            trie.set(key, model[key])
        new_nodes = trie.commit()
        assert len(new_nodes) < 100 * 6  # each key's path, not the whole trie
        db.update(new_nodes)
    assert trie.root_hash() == trie_root(model, secure=True)
    reopened = Trie(db, trie.root_hash(), secure=True)
    for key in rng.sample(addresses, 200):
        assert reopened.get(key) == model[key]


def test_small_cache_reads_back_from_db(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mpt, "CACHE_LIMIT", 10)
    rng = random.Random(2)
    db: dict[bytes, bytes] = {}
    trie = Trie(db, secure=True)
    model: dict[bytes, bytes] = {}
    for _ in range(5):
        for _ in range(200):
            key = rng.randbytes(4)
            model[key] = rng.randbytes(rng.randrange(1, 60))
            trie.set(key, model[key])
        db.update(trie.commit())
    for key in rng.sample(sorted(model), 100):
        trie.delete(key)
        del model[key]
    db.update(trie.commit())
    assert trie.root_hash() == trie_root(model, secure=True)
    assert all(trie.get(key) == value for key, value in model.items())


def test_shared_cache() -> None:
    db: dict[bytes, bytes] = {}
    cache: dict[bytes, mpt.Node] = {}
    first = Trie(db, secure=True, cache=cache)
    first.set(b"alice", b"1" * 40)
    first.set(b"bob", b"2" * 40)
    db.update(first.commit())
    second = Trie({}, first.root_hash(), secure=True, cache=cache)  # nodes come from the cache
    assert second.get(b"alice") == b"1" * 40


@settings(deadline=None)
@given(mappings)
def test_fast_branch_decoding_agrees(items: dict[bytes, bytes]) -> None:
    trie = _build(items)
    for encoded in trie.commit().values():
        assert decode_node(encoded) == _from_item(rlp.decode(encoded))


def test_bench_smoke() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.trie", *BENCH_SMOKE_ARGS],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert "ordered_trie_root" in result.stdout
