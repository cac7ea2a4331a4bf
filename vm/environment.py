"""What a block gives the transactions in it (execution-specs `BlockEnvironment`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BlockEnvironment:
    """Chain id, height, time, proposer, gas limit, base fee and randomness of one block."""

    chain_id: int
    height: int
    timestamp: int
    proposer: bytes  # COINBASE: receives the priority fees
    gas_limit: int
    base_fee: int
    randomness: bytes  # PREVRANDAO
