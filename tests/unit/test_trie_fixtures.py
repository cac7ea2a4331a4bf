"""ethereum/tests TrieTests: roots of plain and secure tries, and next/prev key iteration.

Fixtures are read in place from ../shared/ethereum-tests beside the repository; a missing
file fails its tests rather than skipping them.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from brainchain.trie import Trie, trie_root, verify_proof

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "ethereum-tests" / "TrieTests"

ROOT_FILES = {
    "trietest.json": False,
    "trieanyorder.json": False,
    "trietest_secureTrie.json": True,
    "trieanyorder_secureTrie.json": True,
    "hex_encoded_securetrie_test.json": True,
}
NEXT_PREV_FILE = "trietestnextprev.json"
SHUFFLES = 5


def _bytes(text: str | None) -> bytes:
    """Fixture strings: 0x-prefixed hex, else the UTF-8 text itself; null (delete) is b""."""
    if text is None:
        return b""
    if text.startswith("0x"):
        return bytes.fromhex(text[2:])
    return text.encode()


def _load(name: str) -> dict[str, Any]:
    path = FIXTURES / name
    if not path.is_file():
        pytest.fail(f"fixture file missing: {path}")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _root_cases() -> list[Any]:
    params = []
    for name, secure in ROOT_FILES.items():
        path = FIXTURES / name
        if not path.is_file():
            params.append(pytest.param(name, secure, None, id=f"{name}:missing"))
            continue
        for case in json.loads(path.read_text()):
            params.append(pytest.param(name, secure, case, id=f"{name}:{case}"))
    return params


def test_fixture_directory_present() -> None:
    assert FIXTURES.is_dir(), f"fixture directory missing: {FIXTURES}"
    for name in [*ROOT_FILES, NEXT_PREV_FILE]:
        assert (FIXTURES / name).is_file(), f"fixture file missing: {FIXTURES / name}"


@pytest.mark.parametrize(("name", "secure", "case"), _root_cases())
def test_root(name: str, secure: bool, case: str | None) -> None:
    if case is None:
        pytest.fail(f"fixture file missing: {FIXTURES / name}")
    fixture = _load(name)[case]
    raw = fixture["in"]
    ops = [(_bytes(k), _bytes(v)) for k, v in (raw.items() if isinstance(raw, dict) else raw)]
    expected = _bytes(fixture["root"])

    trie = Trie({}, secure=secure)
    model: dict[bytes, bytes] = {}
    for key, value in ops:
        trie.set(key, value)
        if value:
            model[key] = value
        else:
            model.pop(key, None)
    assert trie.root_hash() == expected
    assert trie_root(model, secure=secure) == expected  # the bottom-up builder agrees

    db: dict[bytes, bytes] = {}
    db.update(trie.commit())
    reopened = Trie(db, expected, secure=secure)
    for key, _ in ops:
        wanted = model.get(key, b"")
        assert reopened.get(key) == wanted
        assert verify_proof(expected, key, reopened.prove(key), secure=secure) == wanted

    if isinstance(raw, dict):  # "any order": every insertion order gives the same root
        rng = random.Random(case)
        for _ in range(SHUFFLES):
            rng.shuffle(ops)
            shuffled = Trie({}, secure=secure)
            for key, value in ops:
                shuffled.set(key, value)
            assert shuffled.root_hash() == expected


def test_next_prev() -> None:
    for case, fixture in _load(NEXT_PREV_FILE).items():
        trie = Trie({})
        for key in fixture["in"]:
            trie.set(_bytes(key), _bytes(key))
        for key, prev, following in fixture["tests"]:
            assert trie.prev_key(_bytes(key)) == (_bytes(prev) or None), (case, key)
            assert trie.next_key(_bytes(key)) == (_bytes(following) or None), (case, key)
