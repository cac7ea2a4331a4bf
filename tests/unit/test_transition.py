"""The state transition for value transfers: fees, receipts, rejection, and block validation."""

from __future__ import annotations

from dataclasses import replace

import pytest

from brainchain.crypto.secp256k1 import private_key_to_address
from brainchain.errors import InvalidBlock
from brainchain.state.state import State, get_account
from brainchain.types.block import Block, decode_block
from brainchain.types.transaction import (
    TX_ACCESS_LIST,
    TX_FEE_MARKET,
    TX_LEGACY,
    Transaction,
    sign_transaction,
)
from genesis.block import build_genesis_block
from genesis.format import Genesis, GenesisValidator, validator_set_hash
from vm.fees import calculate_base_fee
from vm.transition import apply_block, build_block

CHAIN_ID = 1337
GWEI = 10**9
KEYS = [bytes([i + 1]) * 32 for i in range(3)]
ADDRS = [private_key_to_address(k) for k in KEYS]
PROPOSER = bytes.fromhex("11" * 20)
RECIPIENT = bytes.fromhex("22" * 20)


def make_genesis() -> Genesis:
    validator = GenesisValidator("v0", PROPOSER, bytes(32), bytes(32), 1)
    return Genesis(
        chain_id=CHAIN_ID,
        timestamp=1_700_000_000,
        gas_limit=30_000_000,
        base_fee=GWEI,
        validators=(validator,),
        alloc=tuple(sorted((a, 100 * 10**18) for a in ADDRS)),
    )


def genesis_state() -> tuple[dict[bytes, bytes], Block]:
    db: dict[bytes, bytes] = {}
    block0, nodes = build_genesis_block(make_genesis(), State(db))
    db.update(nodes)
    return db, block0


def transfer(
    key: int,
    nonce: int,
    value: int,
    *,
    tx_type: int = TX_FEE_MARKET,
    tip: int = GWEI,
    chain_id: int = CHAIN_ID,
) -> Transaction:
    fee_cap = 3 * GWEI
    return sign_transaction(
        private_key=KEYS[key],
        tx_type=tx_type,
        chain_id=chain_id,
        nonce=nonce,
        gas=21_000,
        to=RECIPIENT,
        value=value,
        max_fee_per_gas=fee_cap,
        max_priority_fee_per_gas=tip if tx_type == TX_FEE_MARKET else fee_cap,
    )


def build(db: dict[bytes, bytes], parent: Block, txs: list[Transaction]):
    state = State(db, parent.header.state_root)
    built = build_block(
        state,
        parent.header,
        txs,
        proposer=PROPOSER,
        timestamp=parent.header.timestamp + 1,
        validators_hash=validator_set_hash(make_genesis().validators),
    )
    db.update(built.nodes)
    return built


def test_transfer_fees_are_split_between_burn_and_proposer() -> None:
    db, block0 = genesis_state()
    value = 10**18
    built = build(db, block0, [transfer(0, 0, value)])
    assert len(built.block.transactions) == 1 and not built.rejected
    receipt = built.receipts[0]
    base_fee = built.block.header.base_fee
    assert base_fee == calculate_base_fee(30_000_000, 0, GWEI)
    assert receipt.gas_used == 21_000 and receipt.succeeded
    assert receipt.effective_gas_price == base_fee + GWEI
    state = State(db, built.block.header.state_root)
    sender = get_account(state, ADDRS[0])
    assert sender.nonce == 1
    assert sender.balance == 100 * 10**18 - value - 21_000 * (base_fee + GWEI)
    assert get_account(state, RECIPIENT).balance == value
    assert get_account(state, PROPOSER).balance == 21_000 * GWEI  # tip only: base fee burned


def test_all_transaction_types_apply() -> None:
    db, block0 = genesis_state()
    txs = [
        transfer(0, 0, 1, tx_type=TX_LEGACY),
        transfer(0, 1, 2, tx_type=TX_ACCESS_LIST),
        transfer(0, 2, 3),
    ]
    built = build(db, block0, txs)
    assert [r.cumulative_gas_used for r in built.receipts] == [21_000, 42_000, 63_000]
    assert built.block.header.gas_used == 63_000
    assert get_account(State(db, built.block.header.state_root), RECIPIENT).balance == 6


def test_invalid_candidates_are_left_out_and_change_nothing() -> None:
    db, block0 = genesis_state()
    good = transfer(1, 0, 5)
    gap = transfer(0, 3, 5)
    broke = transfer(2, 0, 1000 * 10**18)
    foreign = transfer(0, 0, 5, chain_id=1)
    built = build(db, block0, [gap, good, broke, foreign])
    assert built.block.transactions == (good,)
    assert {tx.hash for tx, _ in built.rejected} == {gap.hash, broke.hash, foreign.hash}
    state = State(db, built.block.header.state_root)
    assert get_account(state, ADDRS[0]).nonce == 0
    assert get_account(state, ADDRS[2]).balance == 100 * 10**18


def test_block_building_is_deterministic_and_round_trips() -> None:
    db1, block0 = genesis_state()
    db2, _ = genesis_state()
    txs = [transfer(0, n, n + 1) for n in range(5)] + [transfer(1, 0, 9)]
    one, two = build(db1, block0, txs), build(db2, block0, txs)
    assert one.block.hash == two.block.hash
    assert decode_block(one.block.encode()) == one.block


def test_apply_block_accepts_an_honest_block_and_names_a_bad_root() -> None:
    db, block0 = genesis_state()
    built = build(db, block0, [transfer(0, 0, 7), transfer(1, 0, 8)])
    replayed = apply_block(State(db, block0.header.state_root), block0.header, built.block)
    assert replayed.block.hash == built.block.hash
    forged = Block(replace(built.block.header, state_root=bytes(32)), built.block.transactions)
    with pytest.raises(InvalidBlock, match="state_root"):
        apply_block(State(db, block0.header.state_root), block0.header, forged)
    bad_tx = Block(built.block.header, (transfer(2, 5, 1),))
    with pytest.raises(InvalidBlock, match="invalid"):
        apply_block(State(db, block0.header.state_root), block0.header, bad_tx)


@pytest.mark.parametrize(
    ("limit", "used", "fee", "expected"),
    [
        (30_000_000, 15_000_000, GWEI, GWEI),  # at target: unchanged
        (30_000_000, 30_000_000, GWEI, GWEI + GWEI // 8),  # full: +12.5%
        (30_000_000, 0, GWEI, GWEI - GWEI // 8),  # empty: -12.5%
        (30_000_000, 15_000_001, 1, 2),  # above target moves at least 1 wei
        (30_000_000, 0, 7, 7),  # the floor where the decrease rounds to zero
    ],
)
def test_base_fee_follows_eip1559(limit: int, used: int, fee: int, expected: int) -> None:
    assert calculate_base_fee(limit, used, fee) == expected
