"""The ABI helper the BRAIN precompiles use: selectors, round trips, malformed input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vm.abi import AbiError, decode_values, encode_values, selector, split_call


def test_known_selectors() -> None:
    assert selector("transfer(address,uint256)").hex() == "a9059cbb"
    assert selector("onInferenceResult(uint256,bytes)") == selector(
        "onInferenceResult(uint256,bytes)"
    )


@given(st.integers(0, 2**256 - 1), st.binary(max_size=100), st.booleans())
def test_round_trip(number: int, blob: bytes, flag: bool) -> None:
    types = ["uint256", "bytes", "bool"]
    assert decode_values(types, encode_values(types, [number, blob, flag])) == (number, blob, flag)


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(AbiError, match="cannot encode"):
        encode_values(["uint8"], [256])
    with pytest.raises(AbiError, match="cannot decode"):
        decode_values(["uint256", "bytes"], b"\x00" * 40)
    with pytest.raises(AbiError, match="no function selector"):
        split_call(b"\x01\x02")
    assert split_call(bytes(8)) == (bytes(4), bytes(4))
