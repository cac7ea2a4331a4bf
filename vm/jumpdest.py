"""Valid JUMP targets: JUMPDEST bytes outside PUSH data, analysed once per distinct code."""

from __future__ import annotations

from functools import lru_cache

JUMPDEST = 0x5B
PUSH1 = 0x60
PUSH32 = 0x7F
CACHE_SIZE = 4096


@lru_cache(maxsize=CACHE_SIZE)
def valid_jump_destinations(code: bytes) -> frozenset[int]:
    """Offsets of JUMPDEST opcodes that are not inside PUSH immediate data."""
    destinations = []
    pc, size = 0, len(code)
    while pc < size:
        op = code[pc]
        if op == JUMPDEST:
            destinations.append(pc)
        elif PUSH1 <= op <= PUSH32:
            pc += op - PUSH1 + 1
        pc += 1
    return frozenset(destinations)
