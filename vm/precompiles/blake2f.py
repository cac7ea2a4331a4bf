"""BLAKE2F: the BLAKE2b compression function F with a chosen round count (EIP-152).

The rounds come from the caller (up to 2**32 - 1, paid at 1 gas each), so F runs in
blake2b-py's compiled code, the implementation py-evm uses: pure Python manages about
100,000 rounds/s, which would turn a block's gas into hours of work.
"""

from __future__ import annotations

from blake2b import decode_and_compress

from vm.gas import GAS_BLAKE2_PER_ROUND
from vm.precompiles.costs import require
from vm.precompiles.errors import PrecompileFailure

INPUT_BYTES = 213
FINAL_FLAG_OFFSET = 212


def blake2f(data: bytes, gas: int) -> tuple[int, bytes]:
    """213 bytes in (rounds, h, m, t, final flag), 64 bytes of new state out."""
    if len(data) != INPUT_BYTES:
        raise PrecompileFailure(f"blake2f input must be {INPUT_BYTES} bytes, got {len(data)}")
    cost = require(gas, GAS_BLAKE2_PER_ROUND * int.from_bytes(data[:4], "big"))
    if data[FINAL_FLAG_OFFSET] not in (0, 1):
        raise PrecompileFailure("blake2f final-block flag must be 0 or 1")
    return cost, bytes(decode_and_compress(data))
