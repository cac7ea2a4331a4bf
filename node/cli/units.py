"""Ether amounts as people type them: 1.5ether, 2gwei, 100wei, or plain wei."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

UNITS = {
    "wei": 1,
    "kwei": 10**3,
    "mwei": 10**6,
    "gwei": 10**9,
    "szabo": 10**12,
    "finney": 10**15,
    "ether": 10**18,
    "eth": 10**18,
}


def parse_amount(text: str) -> int:
    """Wei in `text`.

    Raises:
        ValueError: not a number with an optional unit, negative, or a fraction of a wei.
    """
    raw = text.strip().lower().replace("_", "")
    unit = next((u for u in sorted(UNITS, key=len, reverse=True) if raw.endswith(u)), "wei")
    number = raw[: len(raw) - len(unit)] if raw.endswith(unit) else raw
    try:
        value = Decimal(number.strip()) * UNITS[unit]
    except InvalidOperation:
        raise ValueError(f"invalid amount {text!r}: use e.g. 1.5ether, 2gwei or 100wei") from None
    if value < 0 or value != value.to_integral_value():
        raise ValueError(f"invalid amount {text!r}: must be a whole, non-negative number of wei")
    return int(value)


def format_ether(wei: int) -> str:
    """Wei as ether with up to 18 decimals, trailing zeros trimmed."""
    whole, frac = divmod(wei, 10**18)
    return f"{whole}.{frac:018d}".rstrip("0").rstrip(".") + " ETH"
