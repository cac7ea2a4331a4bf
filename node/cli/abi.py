"""Constructor arguments typed on the command line, encoded with eth-abi (Solidity ABI spec)."""

from __future__ import annotations

from typing import Any

from eth_abi import encode

from brainchain.crypto.address import parse_address, to_checksum_address


def _value(abi_type: str, text: str) -> Any:
    """A command-line string as the Python value eth-abi expects for `abi_type`."""
    if abi_type.startswith(("uint", "int")):
        return int(text, 0)
    if abi_type == "address":
        return to_checksum_address(parse_address(text))
    if abi_type == "bool":
        if text.lower() not in ("true", "false", "1", "0"):
            raise ValueError(f"invalid bool {text!r}: use true or false")
        return text.lower() in ("true", "1")
    if abi_type.startswith("bytes"):
        return bytes.fromhex(text.removeprefix("0x"))
    if abi_type == "string":
        return text
    raise ValueError(f"constructor parameter type {abi_type} is not supported on the command line")


def constructor_arguments(abi: list[dict[str, Any]], args: list[str]) -> bytes:
    """ABI-encode `args` for the constructor the ABI declares (none declared: no args).

    Raises:
        ValueError: wrong number of arguments, or one that does not parse as its type.
    """
    constructor = next((item for item in abi if item.get("type") == "constructor"), None)
    types = [p["type"] for p in constructor.get("inputs", [])] if constructor else []
    if len(types) != len(args):
        raise ValueError(
            f"constructor takes {len(types)} arguments ({', '.join(types)}), got {len(args)}"
        )
    return encode(types, [_value(t, a) for t, a in zip(types, args, strict=True)])
