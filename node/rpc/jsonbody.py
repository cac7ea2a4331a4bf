"""A JSON-RPC request body as JSON text (RFC 8259), its structure bounded before any parser runs.

CPython's json scanner recurses in C once per array or object level, guarded only by the
process's recursion limit; with that limit raised, one body of 100,000 nested arrays (200 KB)
overflowed the C stack and killed a node (issue 12). So the nesting of a body is measured on its
bytes first, with C-speed byte operations and no recursion, and json.loads runs only on a body
that nests at most MAX_DEPTH levels and holds at most MAX_CONTAINERS arrays and objects,
whatever the recursion limit. A request needs six levels (batch, call, params, filter, topics,
alternatives) and a few containers per call.
"""

from __future__ import annotations

import json
import math
from itertools import accumulate, count
from operator import sub
from typing import Any

from node.rpc.errors import PARSE_ERROR, RpcError

MAX_DEPTH = 32
MAX_CONTAINERS = 1 << 16  # arrays and objects in one body: 65 per call of a full batch

_OPENERS = (b"[", b"{")
# Every byte but the quote and the four brackets, for bytes.translate to delete.
_NOT_STRUCTURE = bytes(sorted(set(range(256)) - set(b'"[]{}')))
# An opener steps the running depth up by one, a closer down by one: as 2 and 0, less 1 a byte.
_DEPTH_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")


def parse_body(body: bytes) -> Any:
    """The JSON value of a request body.

    Raises:
        RpcError: PARSE_ERROR: not UTF-8 (RFC 8259 §8.1), not JSON (NaN and Infinity
            included), nested deeper than MAX_DEPTH, or holding more than MAX_CONTAINERS arrays
            and objects.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise RpcError(PARSE_ERROR, "parse error: the body is not UTF-8") from None
    _check_structure(body)
    try:
        return json.loads(text, parse_float=_finite, parse_constant=_refuse_constant)
    except ValueError as exc:
        raise RpcError(PARSE_ERROR, f"parse error: invalid JSON: {exc}") from None


def _refuse_constant(name: str) -> Any:
    """NaN and ±Infinity are Python's extensions, not JSON (RFC 8259 §6): echoed in an id, they
    would make the answer itself invalid JSON."""
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    """A number beyond a double's range (RFC 8259 §6 lets a parser limit them) would come back
    as Infinity, which is not JSON either."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of a double's range")
    return value


def _check_structure(body: bytes) -> None:
    """Refuse a body whose brackets outside strings nest or number too many.

    Sound for the part of `body` json.loads reads before it finds an error, which is all the
    parser could recurse on: there, strings end at the first quote not escaped, and escapes pair
    backslashes from the left, as the two replaces below do. In UTF-8 a quote, backslash or
    bracket byte is always that ASCII character.
    """
    if sum(body.count(opener) for opener in _OPENERS) <= MAX_DEPTH:
        return  # too few openers to nest deeper, the case of nearly every request
    marks = body.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_STRUCTURE)
    # A string without brackets leaves "" behind, as do two strings that only a comma or
    # colon parted: dropping those keeps every bracket on its side of the quotes.
    marks = marks.replace(b'""', b"")
    # Quotes now alternate with non-empty runs, every other one of them brackets outside
    # strings: too many quotes means too many containers, refused before splitting on them.
    if marks.count(b'"') > 4 * MAX_CONTAINERS + 2:
        raise _too_many()
    brackets = b"".join(marks.split(b'"')[::2])
    # Depth first, on no more brackets than a body within the bound can hold.
    steps = brackets[: 2 * MAX_CONTAINERS + 1].translate(_DEPTH_STEPS)
    if max(map(sub, accumulate(steps), count(1)), default=0) > MAX_DEPTH:
        raise RpcError(PARSE_ERROR, f"parse error: nested deeper than {MAX_DEPTH} levels")
    if len(brackets) > 2 * MAX_CONTAINERS:
        raise _too_many()


def _too_many() -> RpcError:
    return RpcError(PARSE_ERROR, f"parse error: more than {MAX_CONTAINERS} arrays and objects")
