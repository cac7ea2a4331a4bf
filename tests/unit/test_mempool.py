"""The mempool: nonce order, gaps, replacement, limits, eviction, block selection, determinism."""

from __future__ import annotations

import contextlib
import hashlib
import random
from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brainchain.errors import (
    AlreadyKnown,
    InsufficientFunds,
    MempoolFull,
    NonceTooHigh,
    NonceTooLow,
    ReplacementUnderpriced,
    SenderLimitReached,
)
from brainchain.mempool.ordering import pays_replacement_bump, priority_fee_at
from brainchain.mempool.pool import Mempool
from brainchain.types.transaction import TX_FEE_MARKET, TX_LEGACY, Transaction

GWEI = 10**9
BASE_FEE = 10 * GWEI
RICH = 10**30
TRANSFER_GAS = 21_000
REJECTIONS = (MempoolFull, ReplacementUnderpriced, AlreadyKnown, NonceTooHigh, SenderLimitReached)


def addr(i: int) -> bytes:
    return bytes([0xA0]) + i.to_bytes(19, "big")


def make_tx(
    sender: int,
    nonce: int,
    *,
    tip: int = GWEI,
    fee_cap: int = 20 * GWEI,
    gas: int = TRANSFER_GAS,
    value: int = 0,
    tx_type: int = TX_FEE_MARKET,
) -> Transaction:
    """A transaction with a fake sender and a hash derived from its fields (no signature)."""
    if tx_type == TX_LEGACY:
        tip = fee_cap
    fields = repr((tx_type, sender, nonce, tip, fee_cap, gas, value)).encode()
    return Transaction(
        tx_type=tx_type,
        chain_id=1337,
        nonce=nonce,
        max_priority_fee_per_gas=tip,
        max_fee_per_gas=fee_cap,
        gas=gas,
        to=bytes(20),
        value=value,
        data=b"",
        access_list=(),
        v=0,
        r=1,
        s=1,
        sender=addr(sender),
        hash=hashlib.sha256(fields).digest(),
        raw=fields,
    )


def nonces_from(table: dict[bytes, int]) -> Callable[[bytes], int]:
    return lambda sender: table.get(sender, 0)


def add(
    pool: Mempool,
    tx: Transaction,
    *,
    account_nonce: int = 0,
    balance: int = RICH,
    base_fee: int = BASE_FEE,
) -> bool:
    return pool.add(tx, account_nonce=account_nonce, account_balance=balance, base_fee=base_fee)


def select(
    pool: Mempool,
    *,
    gas_limit: int = 30_000_000,
    base_fee: int = BASE_FEE,
    nonces: dict[bytes, int] | None = None,
    max_count: int | None = None,
) -> list[Transaction]:
    return pool.select(
        base_fee=base_fee,
        gas_limit=gas_limit,
        nonce_of=nonces_from(nonces or {}),
        max_count=max_count,
    )


def ids(txs: list[Transaction]) -> list[tuple[int, int]]:
    return [(tx.sender[-1], tx.nonce) for tx in txs]


# --- fee arithmetic -------------------------------------------------------------------------


def test_priority_fee_is_capped_by_fee_cap_minus_base_fee() -> None:
    assert priority_fee_at(make_tx(0, 0, tip=2 * GWEI, fee_cap=20 * GWEI), 10 * GWEI) == 2 * GWEI
    assert priority_fee_at(make_tx(0, 0, tip=5 * GWEI, fee_cap=12 * GWEI), 10 * GWEI) == 2 * GWEI
    legacy = make_tx(0, 0, fee_cap=15 * GWEI, tx_type=TX_LEGACY)
    assert priority_fee_at(legacy, 10 * GWEI) == 5 * GWEI
    assert priority_fee_at(make_tx(0, 0, tip=1, fee_cap=5 * GWEI), 10 * GWEI) < 0


def test_replacement_bump_is_exact_integer_percent() -> None:
    old = make_tx(0, 0, tip=100, fee_cap=1000)
    assert pays_replacement_bump(old, make_tx(0, 0, tip=110, fee_cap=1100), 10)
    assert not pays_replacement_bump(old, make_tx(0, 0, tip=109, fee_cap=1100), 10)
    assert not pays_replacement_bump(old, make_tx(0, 0, tip=110, fee_cap=1099), 10)
    zero_tip = make_tx(0, 0, tip=0, fee_cap=1000)
    assert not pays_replacement_bump(zero_tip, make_tx(0, 0, tip=0, fee_cap=2000), 10)


# --- admission ------------------------------------------------------------------------------


def test_add_get_contains_len() -> None:
    pool = Mempool()
    tx = make_tx(1, 0)
    assert add(pool, tx) is False
    assert len(pool) == 1 and tx.hash in pool and pool.get(tx.hash) == tx
    assert pool.get(b"\x00" * 32) is None and b"\x00" * 32 not in pool
    with pytest.raises(AlreadyKnown):
        add(pool, tx)


def test_nonce_order_per_sender_regardless_of_arrival() -> None:
    pool = Mempool()
    for nonce in (2, 0, 1, 3):
        add(pool, make_tx(1, nonce))
    assert ids(select(pool)) == [(1, 0), (1, 1), (1, 2), (1, 3)]
    assert [tx.nonce for tx in pool.txs_of(addr(1))] == [0, 1, 2, 3]


def test_gap_is_held_back_then_released() -> None:
    pool = Mempool()
    add(pool, make_tx(1, 0))
    add(pool, make_tx(1, 2))
    add(pool, make_tx(1, 3))
    assert ids(select(pool)) == [(1, 0)]
    assert pool.pending_nonce(addr(1), 0) == 1
    assert pool.counts(nonces_from({})) == (1, 2)
    add(pool, make_tx(1, 1))
    assert ids(select(pool)) == [(1, 0), (1, 1), (1, 2), (1, 3)]
    assert pool.pending_nonce(addr(1), 0) == 4
    assert pool.counts(nonces_from({})) == (4, 0)


def test_pending_nonce_and_content() -> None:
    pool = Mempool()
    for nonce in (5, 6, 7, 9):
        add(pool, make_tx(1, nonce), account_nonce=5)
    assert pool.pending_nonce(addr(1), 5) == 8
    assert pool.pending_nonce(addr(1), 4) == 4
    assert pool.pending_nonce(addr(2), 3) == 3
    pending, queued = pool.content(nonces_from({addr(1): 5}))
    assert ids(pending) == [(1, 5), (1, 6), (1, 7)] and ids(queued) == [(1, 9)]


def test_nonce_too_low() -> None:
    pool = Mempool()
    with pytest.raises(NonceTooLow) as info:
        add(pool, make_tx(1, 4), account_nonce=5)
    assert (info.value.expected, info.value.got) == (5, 4)


def test_nonce_too_far_ahead() -> None:
    pool = Mempool(max_nonce_gap=3)
    add(pool, make_tx(1, 3))  # gap of 3 past pending nonce 0: allowed
    with pytest.raises(NonceTooHigh):
        add(pool, make_tx(1, 4))
    add(pool, make_tx(1, 0))  # pending nonce is now 1, so 4 fits
    add(pool, make_tx(1, 4))
    assert len(pool) == 3


def test_insufficient_funds_single_and_cumulative() -> None:
    pool = Mempool()
    cost = TRANSFER_GAS * 20 * GWEI + 5
    with pytest.raises(InsufficientFunds) as info:
        add(pool, make_tx(1, 0, value=5), balance=cost - 1)
    assert info.value.cost == cost
    add(pool, make_tx(1, 0, value=5), balance=cost)
    with pytest.raises(InsufficientFunds):
        add(pool, make_tx(1, 1, value=5), balance=cost)  # needs both nonce 0 and 1
    add(pool, make_tx(1, 1, value=5), balance=2 * cost)


def test_replacement_needs_the_bump_and_succeeds_with_it() -> None:
    pool = Mempool(price_bump_percent=10)
    old = make_tx(1, 0, tip=10 * GWEI, fee_cap=100 * GWEI)
    add(pool, old)
    with pytest.raises(ReplacementUnderpriced):
        add(pool, make_tx(1, 0, tip=10 * GWEI + 1, fee_cap=200 * GWEI))  # tip too small
    with pytest.raises(ReplacementUnderpriced):
        add(pool, make_tx(1, 0, tip=20 * GWEI, fee_cap=109 * GWEI))  # fee cap too small
    new = make_tx(1, 0, tip=11 * GWEI, fee_cap=110 * GWEI)
    assert add(pool, new) is True
    assert len(pool) == 1 and old.hash not in pool and pool.get(new.hash) == new
    assert select(pool) == [new]


def test_replacement_ignores_sender_limit_and_full_pool() -> None:
    pool = Mempool(max_size=2, max_per_sender=2)
    add(pool, make_tx(1, 0))
    add(pool, make_tx(1, 1))
    assert add(pool, make_tx(1, 1, tip=2 * GWEI, fee_cap=40 * GWEI)) is True
    assert len(pool) == 2


def test_per_sender_limit() -> None:
    pool = Mempool(max_per_sender=3)
    for nonce in range(3):
        add(pool, make_tx(1, nonce))
    with pytest.raises(SenderLimitReached):
        add(pool, make_tx(1, 3))
    add(pool, make_tx(2, 0))  # other senders unaffected


def test_add_drops_stale_nonces_of_the_sender() -> None:
    pool = Mempool(max_per_sender=2)
    add(pool, make_tx(1, 0))
    add(pool, make_tx(1, 1))
    add(pool, make_tx(1, 2), account_nonce=2)  # 0 and 1 were mined meanwhile
    assert ids(pool.pending()) == [(1, 2)]


# --- eviction -------------------------------------------------------------------------------


def test_full_pool_evicts_the_cheapest() -> None:
    pool = Mempool(max_size=3)
    cheap = make_tx(1, 0, tip=1 * GWEI)
    add(pool, cheap)
    add(pool, make_tx(2, 0, tip=3 * GWEI))
    add(pool, make_tx(3, 0, tip=5 * GWEI))
    newcomer = make_tx(4, 0, tip=2 * GWEI)
    assert add(pool, newcomer) is False
    assert len(pool) == 3 and cheap.hash not in pool and newcomer.hash in pool


def test_full_pool_rejects_a_newcomer_that_is_cheapest() -> None:
    pool = Mempool(max_size=2)
    add(pool, make_tx(1, 0, tip=2 * GWEI))
    add(pool, make_tx(2, 0, tip=3 * GWEI))
    with pytest.raises(MempoolFull):
        add(pool, make_tx(3, 0, tip=2 * GWEI))  # equal is not enough
    with pytest.raises(MempoolFull):
        add(pool, make_tx(3, 0, tip=1 * GWEI))
    assert len(pool) == 2


def test_eviction_compares_priority_fee_at_the_base_fee() -> None:
    pool = Mempool(max_size=2)
    # High tip but fee cap barely above the base fee: effective tip 1 gwei.
    capped = make_tx(1, 0, tip=50 * GWEI, fee_cap=BASE_FEE + GWEI)
    add(pool, capped)
    add(pool, make_tx(2, 0, tip=5 * GWEI))
    add(pool, make_tx(3, 0, tip=2 * GWEI))
    assert capped.hash not in pool


def test_eviction_takes_a_sender_tail_and_leaves_no_gap() -> None:
    pool = Mempool(max_size=3)
    add(pool, make_tx(1, 0, tip=1 * GWEI))
    add(pool, make_tx(1, 1, tip=4 * GWEI))
    add(pool, make_tx(2, 0, tip=3 * GWEI))
    # Sender 1's nonce 0 is cheapest but not evictable; the cheapest tail is sender 2's.
    add(pool, make_tx(3, 0, tip=3 * GWEI + 1))
    assert ids(pool.pending()) == [(1, 0), (1, 1), (3, 0)]
    assert pool.counts(nonces_from({})) == (3, 0)


def test_eviction_never_strands_the_newcomer_behind_a_gap() -> None:
    pool = Mempool(max_size=2)
    add(pool, make_tx(1, 0, tip=1 * GWEI))
    add(pool, make_tx(2, 0, tip=5 * GWEI))
    # Sender 1's tail is cheapest, but it is the newcomer's own predecessor.
    with pytest.raises(MempoolFull):
        add(pool, make_tx(1, 1, tip=3 * GWEI))
    add(pool, make_tx(1, 1, tip=6 * GWEI))  # outbids sender 2
    assert ids(pool.pending()) == [(1, 0), (1, 1)]


def sized(tx: Transaction, size: int) -> Transaction:
    return replace(tx, raw=bytes(size))


def test_full_bytes_evict_as_many_cheaper_tails_as_free_the_room() -> None:
    pool = Mempool(max_bytes=1_000)
    add(pool, sized(make_tx(1, 0, tip=1 * GWEI), 300))
    add(pool, sized(make_tx(2, 0, tip=2 * GWEI), 300))
    add(pool, sized(make_tx(3, 0, tip=6 * GWEI), 300))
    assert pool.bytes == 900
    add(pool, sized(make_tx(4, 0, tip=3 * GWEI), 600))  # needs 500 bytes: two tails go
    assert ids(pool.pending()) == [(3, 0), (4, 0)] and pool.bytes == 900


def test_full_bytes_evict_all_that_is_needed_or_nothing() -> None:
    pool = Mempool(max_bytes=1_000)
    add(pool, sized(make_tx(1, 0, tip=1 * GWEI), 300))
    add(pool, sized(make_tx(2, 0, tip=5 * GWEI), 300))
    add(pool, sized(make_tx(3, 0, tip=6 * GWEI), 300))
    with pytest.raises(MempoolFull):  # outbids only sender 1's 300 bytes; 500 are needed
        add(pool, sized(make_tx(4, 0, tip=3 * GWEI), 600))
    with pytest.raises(MempoolFull):  # no room however much it pays
        add(pool, sized(make_tx(4, 0, tip=99 * GWEI), 1_001))
    assert ids(pool.pending()) == [(1, 0), (2, 0), (3, 0)] and pool.bytes == 900


def test_a_larger_replacement_makes_room_from_others_never_from_its_predecessors() -> None:
    pool = Mempool(max_bytes=1_000)
    add(pool, sized(make_tx(1, 0, tip=1 * GWEI), 300))
    add(pool, sized(make_tx(1, 1, tip=1 * GWEI), 300))
    add(pool, sized(make_tx(2, 0, tip=2 * GWEI), 300))
    bigger = sized(make_tx(1, 1, tip=3 * GWEI, fee_cap=30 * GWEI), 500)
    assert add(pool, bigger) is True  # 100 bytes over: sender 2's tail goes, not (1, 0)
    assert ids(pool.pending()) == [(1, 0), (1, 1)] and pool.bytes == 800
    with pytest.raises(MempoolFull):
        add(pool, sized(make_tx(1, 1, tip=9 * GWEI, fee_cap=40 * GWEI), 800))
    assert pool.get(bigger.hash) == bigger


def test_eviction_follows_base_fee_changes() -> None:
    pool = Mempool(max_size=2)
    a = make_tx(1, 0, tip=5 * GWEI, fee_cap=16 * GWEI)  # 5 at base 10, 1 at base 15
    b = make_tx(2, 0, tip=3 * GWEI, fee_cap=100 * GWEI)  # 3 at either
    add(pool, a)
    add(pool, b)
    add(pool, make_tx(3, 0, tip=4 * GWEI), base_fee=10 * GWEI)
    assert b.hash not in pool and a.hash in pool
    add(pool, make_tx(4, 0, tip=4 * GWEI, fee_cap=100 * GWEI), base_fee=15 * GWEI)
    assert a.hash not in pool


# --- selection ------------------------------------------------------------------------------


def test_priority_ordering_across_senders() -> None:
    pool = Mempool()
    add(pool, make_tx(1, 0, tip=1 * GWEI))
    add(pool, make_tx(2, 0, tip=3 * GWEI))
    add(pool, make_tx(3, 0, tip=2 * GWEI))
    add(pool, make_tx(2, 1, tip=1 * GWEI // 2))
    add(pool, make_tx(4, 0, tip=2 * GWEI))  # ties with sender 3: later arrival goes second
    assert ids(select(pool)) == [(2, 0), (3, 0), (4, 0), (1, 0), (2, 1)]


def test_low_tip_head_holds_back_a_rich_successor() -> None:
    pool = Mempool()
    add(pool, make_tx(1, 0, tip=1))
    add(pool, make_tx(1, 1, tip=9 * GWEI))
    add(pool, make_tx(2, 0, tip=2 * GWEI))
    assert ids(select(pool)) == [(2, 0), (1, 0), (1, 1)]


def test_select_respects_gas_limit_and_keeps_filling() -> None:
    pool = Mempool()
    add(pool, make_tx(1, 0, tip=9 * GWEI, gas=50_000))
    add(pool, make_tx(1, 1, tip=9 * GWEI, gas=60_000))  # will not fit: sender 1 stops
    add(pool, make_tx(1, 2, tip=9 * GWEI, gas=21_000))
    add(pool, make_tx(2, 0, tip=1 * GWEI, gas=21_000))
    add(pool, make_tx(3, 0, tip=2 * GWEI, gas=40_000))
    chosen = select(pool, gas_limit=100_000)
    assert ids(chosen) == [(1, 0), (3, 0)]
    assert sum(tx.gas for tx in chosen) <= 100_000
    assert ids(select(pool, gas_limit=120_000)) == [(1, 0), (1, 1)]  # 10,000 gas left over
    assert ids(select(pool, gas_limit=131_000)) == [(1, 0), (1, 1), (1, 2)]
    assert ids(select(pool, max_count=4)) == [(1, 0), (1, 1), (1, 2), (3, 0)]


def test_fee_cap_below_base_fee_is_skipped_but_stays_pooled() -> None:
    pool = Mempool()
    low = make_tx(1, 0, tip=GWEI, fee_cap=BASE_FEE - 1)
    add(pool, low)
    add(pool, make_tx(1, 1, tip=GWEI))
    add(pool, make_tx(2, 0, tip=GWEI))
    assert ids(select(pool)) == [(2, 0)]
    assert low.hash in pool and len(pool) == 3
    # Once the base fee falls to its cap, sender 1's head pays a zero tip: it goes last.
    assert ids(select(pool, base_fee=BASE_FEE - 1)) == [(2, 0), (1, 0), (1, 1)]


def test_select_starts_at_the_account_nonce() -> None:
    pool = Mempool()
    for nonce in range(4):
        add(pool, make_tx(1, nonce))
    assert ids(select(pool, nonces={addr(1): 2})) == [(1, 2), (1, 3)]
    assert select(pool, nonces={addr(1): 7}) == []


def test_remove_committed_prunes_stale_nonces() -> None:
    pool = Mempool()
    for nonce in range(4):
        add(pool, make_tx(1, nonce))
    add(pool, make_tx(2, 0))
    rival = make_tx(2, 0, tip=5 * GWEI, fee_cap=50 * GWEI)  # a block may carry another tx 2/0
    block = [make_tx(1, 0), make_tx(1, 1), rival]
    nonces = {addr(1): 3, addr(2): 1}  # sender 1's nonce 2 was also mined elsewhere
    pool.remove_committed(block, nonces_from(nonces))
    assert ids(pool.pending()) == [(1, 3)]
    assert ids(select(pool, nonces=nonces)) == [(1, 3)]


def test_remove_leaves_later_nonces_queued() -> None:
    pool = Mempool()
    txs = [make_tx(1, n) for n in range(3)]
    for tx in txs:
        add(pool, tx)
    pool.remove(txs[1].hash)
    pool.remove(b"unknown")
    assert len(pool) == 2 and ids(select(pool)) == [(1, 0)]
    assert pool.counts(nonces_from({})) == (1, 1)


def test_eviction_stays_right_after_replacement_churn() -> None:
    pool = Mempool(max_size=3)
    for sender in range(3):
        add(pool, make_tx(sender, 0, tip=(sender + 1) * GWEI))
    add(pool, make_tx(9, 0, tip=5 * GWEI))  # full: evicts sender 0, eviction index now kept
    tip, fee_cap = 2 * GWEI, 20 * GWEI
    for _ in range(300):  # each replacement leaves a stale index entry behind
        tip, fee_cap = tip * 11 // 10 + 1, fee_cap * 11 // 10 + 1
        assert add(pool, make_tx(1, 0, tip=tip, fee_cap=fee_cap)) is True
    add(pool, make_tx(7, 0, tip=4 * GWEI))  # evicts sender 2 (3 gwei), the cheapest left
    assert sorted(tx.sender[-1] for tx in pool.pending()) == [1, 7, 9]


def test_eviction_matches_a_brute_force_reference() -> None:
    """Many adds into a small full pool, base fee moving: each victim is the reference one."""
    rng = random.Random(11)
    pool = Mempool(max_size=40, max_per_sender=8, max_nonce_gap=4)
    arrival: dict[bytes, int] = {}
    full_rejections = evictions = 0
    for step in range(4_000):
        base_fee = rng.choice((8, 10, 14)) * GWEI
        tx = make_tx(
            rng.randrange(25),
            rng.randrange(10),
            tip=rng.randrange(0, 8) * GWEI,
            fee_cap=rng.randrange(6, 24) * GWEI,
        )
        before = {t.hash: t for t in pool.pending()}
        tails = {}
        for t in before.values():  # pending() is sorted by (sender, nonce): last one wins
            tails[t.sender] = t
        candidates = [
            t for t in tails.values() if not (t.sender == tx.sender and t.nonce < tx.nonce)
        ]
        try:
            replaced = add(pool, tx, base_fee=base_fee)
        except REJECTIONS as exc:
            assert {t.hash for t in pool.pending()} == set(before)
            if isinstance(exc, MempoolFull):
                fee = priority_fee_at(tx, base_fee)
                assert all(fee <= priority_fee_at(t, base_fee) for t in candidates)
                full_rejections += 1
            continue
        arrival[tx.hash] = step
        gone = set(before) - {t.hash for t in pool.pending()}
        if replaced:
            assert len(gone) == 1 and before[gone.pop()].nonce == tx.nonce
        elif len(before) == pool.max_size:
            victim = min(candidates, key=lambda t: (priority_fee_at(t, base_fee), -arrival[t.hash]))
            assert gone == {victim.hash}
            evictions += 1
            assert priority_fee_at(tx, base_fee) > priority_fee_at(victim, base_fee)
        else:
            assert not gone
    assert len(pool) == pool.max_size and evictions > 100 and full_rejections > 100


def _random_run(seed: int) -> tuple[list[tuple[int, int]], int]:
    rng = random.Random(seed)
    pool = Mempool(max_size=300, max_per_sender=16)
    for _ in range(600):
        tx = make_tx(
            rng.randrange(40),
            rng.randrange(12),
            tip=rng.randrange(1, 5) * GWEI,
            fee_cap=rng.randrange(5, 30) * GWEI,
            gas=rng.choice((21_000, 50_000)),
        )
        with contextlib.suppress(*REJECTIONS):
            add(pool, tx)
    return ids(select(pool, gas_limit=2_000_000)), len(pool)


def test_determinism_same_inputs_same_selection() -> None:
    first = _random_run(7)
    assert first[0]  # the run selected something
    assert _random_run(7) == first


# --- properties -----------------------------------------------------------------------------

_op = st.one_of(
    st.tuples(
        st.just("add"),
        st.integers(0, 5),  # sender
        st.integers(0, 8),  # nonce offset above the account nonce
        st.integers(0, 6),  # tip (gwei)
        st.integers(5, 20),  # fee cap (gwei)
        st.sampled_from((21_000, 40_000, 90_000)),
    ),
    st.tuples(st.just("block"), st.integers(5, 20), st.integers(0, 200_000)),
    st.tuples(st.just("remove"), st.integers(0, 200)),
)


@settings(max_examples=200, deadline=None)
@given(
    ops=st.lists(_op, max_size=80),
    max_size=st.integers(1, 12),
    max_bytes=st.integers(100, 1_200),
)
def test_selection_never_has_gaps_or_duplicates(
    ops: list[tuple], max_size: int, max_bytes: int
) -> None:
    pool = Mempool(max_size=max_size, max_bytes=max_bytes, max_per_sender=4, max_nonce_gap=3)
    chain: dict[bytes, int] = {}
    nonce_of = nonces_from(chain)
    known: list[bytes] = []
    for op in ops:
        if op[0] == "add":
            _, sender, offset, tip, fee_cap, gas = op
            tx = make_tx(
                sender,
                chain.get(addr(sender), 0) + offset,
                tip=tip * GWEI,
                fee_cap=fee_cap * GWEI,
                gas=gas,
            )
            tx = replace(tx, raw=tx.raw + b"." * (gas // 500))  # 42 to 180 bytes more
            known.append(tx.hash)
            with contextlib.suppress(*REJECTIONS):
                pool.add(
                    tx, account_nonce=nonce_of(tx.sender), account_balance=RICH, base_fee=10 * GWEI
                )
        elif op[0] == "block":
            _, base_gwei, gas_limit = op
            chosen = pool.select(base_fee=base_gwei * GWEI, gas_limit=gas_limit, nonce_of=nonce_of)
            assert sum(tx.gas for tx in chosen) <= gas_limit
            assert all(tx.max_fee_per_gas >= base_gwei * GWEI for tx in chosen)
            seen: set[tuple[bytes, int]] = set()
            for tx in chosen:
                assert (tx.sender, tx.nonce) not in seen
                seen.add((tx.sender, tx.nonce))
                assert tx.nonce == nonce_of(tx.sender)  # no gap: next nonce, in order
                chain[tx.sender] = tx.nonce + 1
            pool.remove_committed(chosen, nonce_of)
        else:
            if known:
                pool.remove(known[op[1] % len(known)])
        assert len(pool) <= max_size
        pooled = pool.pending()
        assert pool.bytes == sum(len(tx.raw) for tx in pooled) <= max_bytes
        assert len(pooled) == len(pool) == len({tx.hash for tx in pooled})
        assert len({(tx.sender, tx.nonce) for tx in pooled}) == len(pooled)
        assert sum(pool.counts(nonce_of)) == len(pool)
