"""Account addresses as text: EIP-55 mixed-case checksums."""

from __future__ import annotations

from brainchain.crypto.keccak import keccak256

ADDRESS_BYTES = 20


def to_checksum_address(address: bytes) -> str:
    """The EIP-55 form: hex digits upper-cased where the keccak of the lowercase hex has bit 8."""
    lower = address.hex()
    digest = keccak256(lower.encode("ascii")).hex()
    return "0x" + "".join(
        c.upper() if c.isalpha() and int(digest[i], 16) >= 8 else c for i, c in enumerate(lower)
    )


def parse_address(text: str) -> bytes:
    """Parse "0x" + 40 hex digits; a mixed-case address must carry a valid EIP-55 checksum.

    Raises:
        ValueError: wrong length or prefix, non-hex digits, or a bad checksum.
    """
    body = text[2:] if text[:2] in ("0x", "0X") else None
    if body is None or len(body) != 2 * ADDRESS_BYTES:
        raise ValueError(f"invalid address {text!r}: expected 0x followed by 40 hex digits")
    try:
        address = bytes.fromhex(body)
    except ValueError:
        raise ValueError(f"invalid address {text!r}: not hexadecimal") from None
    if (
        body != body.lower()
        and body != body.upper()
        and to_checksum_address(address) != "0x" + body
    ):
        raise ValueError(f"invalid address {text!r}: bad EIP-55 checksum")
    return address
