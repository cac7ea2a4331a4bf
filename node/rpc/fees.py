"""Fee suggestions: the priority fee eth_gasPrice adds to the base fee, and eth_feeHistory.

Read from committed blocks and their receipts only; the chain itself needs none of this to
admit or build transactions (it uses `Chain.next_base_fee`).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from brainchain.types.block import Block
from node.chain import Chain
from vm.fees import calculate_base_fee

DEFAULT_PRIORITY_FEE = 1_000_000_000  # 1 gwei, suggested when recent blocks carry no tips
PRIORITY_FEE_LOOKBACK = 20


@dataclass(frozen=True, slots=True)
class FeeHistory:
    """eth_feeHistory's answer, as integers."""

    oldest_block: int
    base_fees: list[int]
    gas_used_ratios: list[float]
    rewards: list[list[int]]


def suggested_priority_fee(chain: Chain) -> int:
    """Median tip of recent blocks' transactions (geth's oracle idea), 1 gwei without data."""
    head = chain.head.height
    tips: list[int] = []
    for height in range(max(1, head - PRIORITY_FEE_LOOKBACK + 1), head + 1):
        block = chain.block_by_height(height)
        if block is not None and block.transactions:
            tips.extend(tip for tip, _ in _tips(chain, block))
    return int(statistics.median_low(tips)) if tips else DEFAULT_PRIORITY_FEE


def fee_history(
    chain: Chain, block_count: int, newest: int, percentiles: list[float]
) -> FeeHistory:
    """Base fees, gas use and tip percentiles of the `block_count` blocks up to `newest`."""
    newest = min(newest, chain.head.height)
    oldest = max(0, newest - block_count + 1)
    base_fees: list[int] = []
    ratios: list[float] = []
    rewards: list[list[int]] = []
    last: Block | None = None
    for height in range(oldest, newest + 1):
        block = chain.block_by_height(height)
        assert block is not None, f"canonical block {height} missing"
        header = block.header
        base_fees.append(header.base_fee)
        ratios.append(header.gas_used / header.gas_limit if header.gas_limit else 0.0)
        if percentiles:
            rewards.append(_reward_percentiles(_tips(chain, block), header.gas_used, percentiles))
        last = block
    if last is not None:
        h = last.header
        base_fees.append(calculate_base_fee(h.gas_limit, h.gas_used, h.base_fee))
    return FeeHistory(oldest, base_fees, ratios, rewards)


def _tips(chain: Chain, block: Block) -> list[tuple[int, int]]:
    """(priority fee per gas, gas used) of each transaction in `block`."""
    base_fee = block.header.base_fee
    return [(r.effective_gas_price - base_fee, r.gas_used) for r in chain.receipts(block.hash)]


def _reward_percentiles(
    tips: list[tuple[int, int]], gas_used: int, percentiles: list[float]
) -> list[int]:
    """Tips at the given percentiles of gas used, as geth's eth_feeHistory weighs them."""
    if not tips:
        return [0] * len(percentiles)
    ordered = sorted(tips)
    out = []
    index, cumulative = 0, ordered[0][1]
    for p in percentiles:
        threshold = gas_used * p / 100
        while cumulative < threshold and index < len(ordered) - 1:
            index += 1
            cumulative += ordered[index][1]
        out.append(ordered[index][0])
    return out
