"""ethereum/tests RLPTests: canonical encoding, strict decoding, and every invalid form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brainchain.encoding import rlp
from brainchain.errors import DecodingError
from tests.fixtures import ETHEREUM_TESTS, fixture_files, load


def _cases() -> list[tuple[str, object, str]]:
    cases = []
    for path in fixture_files("RLPTests"):
        rel = path.relative_to(ETHEREUM_TESTS / "RLPTests")
        for name, case in load(path).items():
            cases.append((f"{rel}:{name}", case["in"], case["out"]))
    return cases


CASES = _cases()


def _to_item(value: object) -> rlp.Item:
    """Fixture input → RLP item: strings are bytes, "#N" and ints are big-endian integers."""
    if isinstance(value, list):
        return [_to_item(v) for v in value]
    if isinstance(value, int):
        return rlp.encode_uint(value)
    assert isinstance(value, str)
    if value.startswith("#"):
        return rlp.encode_uint(int(value[1:]))
    return value.encode("utf-8")


@pytest.mark.parametrize(("given_in", "out"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rlp_vector(given_in: object, out: str) -> None:
    encoded = bytes.fromhex(out.removeprefix("0x"))
    if given_in == "INVALID":
        with pytest.raises(DecodingError):
            rlp.decode(encoded)
    elif given_in == "VALID":
        assert rlp.encode(rlp.decode(encoded)) == encoded
    else:
        item = _to_item(given_in)
        assert rlp.encode(item) == encoded
        assert rlp.decode(encoded) == item


def test_every_fixture_file_is_read() -> None:
    names = {c[0].split(":")[0] for c in CASES}
    assert {"rlptest.json", "invalidRLPTest.json", "RandomRLPTests/example.json"} <= names


items = st.recursive(st.binary(max_size=80), lambda children: st.lists(children, max_size=6))


@given(items)
def test_round_trip(item: rlp.Item) -> None:
    assert rlp.decode(rlp.encode(item)) == item


@given(st.binary(max_size=64))
def test_garbage_never_escapes_as_another_error(data: bytes) -> None:
    try:
        item = rlp.decode(data)
    except DecodingError:
        return
    assert rlp.encode(item) == data  # whatever decodes is canonical
