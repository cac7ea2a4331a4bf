"""Valid JUMP targets: JUMPDEST bytes outside PUSH data, analysed once per distinct code."""

from __future__ import annotations

from functools import lru_cache

from vm.opcodes import Ops

# Plain ints, bound once: the scans here and in vm/runs.py compare every byte of every new code
# with them, and an int compares with an int about twice as fast as with an IntEnum member.
JUMPDEST, PUSH1, PUSH32 = int(Ops.JUMPDEST), int(Ops.PUSH1), int(Ops.PUSH32)
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
