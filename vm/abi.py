"""The Solidity contract ABI for precompiles that speak it (DESIGN.md §3), on top of eth-abi.

eth-abi is the reference implementation; measured here it encodes or decodes a typical
precompile call (a few words and a bytes argument) in about 10 µs, small next to what those
calls charge in gas, so it is used as is rather than rewritten.
"""

from __future__ import annotations

from typing import Any

from eth_abi.abi import decode, encode
from eth_abi.exceptions import DecodingError as EthAbiDecodingError
from eth_abi.exceptions import EncodingError

from brainchain.crypto.keccak import keccak256
from brainchain.errors import BrainchainError

SELECTOR_BYTES = 4


class AbiError(BrainchainError):
    """Call data or return values that do not fit the declared ABI types."""


def selector(signature: str) -> bytes:
    """The 4-byte function selector: keccak-256 of the canonical signature, e.g. `f(uint256)`."""
    return keccak256(signature.encode("ascii"))[:SELECTOR_BYTES]


def encode_values(types: list[str], values: list[Any]) -> bytes:
    """ABI-encode values as a tuple of `types`.

    Raises:
        AbiError: a value does not fit its type.
    """
    try:
        return encode(types, values)
    except (EncodingError, TypeError, ValueError) as exc:
        raise AbiError(f"cannot encode {values!r} as ({', '.join(types)}): {exc}") from None


def decode_values(types: list[str], data: bytes) -> tuple[Any, ...]:
    """Decode `data` as a tuple of `types` (strict: padding and lengths are checked).

    Raises:
        AbiError: malformed or too short data.
    """
    try:
        return tuple(decode(types, data, strict=True))
    # eth-abi reads a dynamic value's length word as given: one over 2**63 makes its stream
    # read raise OverflowError (issue 12), which must end the call as bad data does.
    except (EthAbiDecodingError, TypeError, ValueError, OverflowError) as exc:
        raise AbiError(f"cannot decode ({', '.join(types)}): {exc}") from None


def split_call(data: bytes) -> tuple[bytes, bytes]:
    """(selector, arguments) of call data.

    Raises:
        AbiError: shorter than a selector.
    """
    if len(data) < SELECTOR_BYTES:
        raise AbiError(f"call data of {len(data)} bytes has no function selector")
    return data[:SELECTOR_BYTES], data[SELECTOR_BYTES:]
