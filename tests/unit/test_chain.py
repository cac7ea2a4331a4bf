"""The node's chain over a real LevelDB: genesis, admission, block production, reopening."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from brainchain.crypto import ecvrf
from brainchain.crypto.secp256k1 import private_key_to_address
from brainchain.errors import (
    InsufficientFunds,
    InvalidBlock,
    MalformedTransaction,
    NonceTooLow,
    OversizeTransaction,
    WrongChainId,
)
from brainchain.types.transaction import TX_FEE_MARKET, sign_transaction
from genesis.format import Genesis, GenesisValidator
from node.chain import CallRequest, Chain, ChainError
from node.rpc.fees import fee_history, suggested_priority_fee
from tests.unit.blocks import VRF_KEY, commit_next_block

GWEI = 10**9
KEY = bytes([7]) * 32
SENDER = private_key_to_address(KEY)
PROPOSER = bytes.fromhex("11" * 20)
TO = bytes.fromhex("22" * 20)
GENESIS = Genesis(
    chain_id=1337,
    timestamp=1_700_000_000,
    gas_limit=30_000_000,
    base_fee=GWEI,
    validators=(GenesisValidator("v0", PROPOSER, bytes(32), ecvrf.public_key(VRF_KEY), 1),),
    alloc=((SENDER, 10**21),),
)


def raw_transfer(nonce: int, value: int = 1, **overrides: object) -> bytes:
    fields: dict[str, object] = dict(
        private_key=KEY,
        tx_type=TX_FEE_MARKET,
        chain_id=1337,
        nonce=nonce,
        gas=21_000,
        to=TO,
        value=value,
        max_fee_per_gas=10 * GWEI,
        max_priority_fee_per_gas=GWEI,
    )
    fields.update(overrides)
    return sign_transaction(**fields).raw  # type: ignore[arg-type]


@pytest.fixture
def chain(tmp_path: Path):
    chain = Chain.open(tmp_path / "data", GENESIS, proposer=PROPOSER)
    yield chain
    chain.close()


def test_genesis_is_written_once_and_checked_on_reopen(tmp_path: Path) -> None:
    chain = Chain.open(tmp_path / "data", GENESIS, proposer=PROPOSER)
    block0 = chain.head
    assert block0.height == 0 and chain.account(SENDER).balance == 10**21
    chain.close()
    again = Chain.open(tmp_path / "data", GENESIS, proposer=PROPOSER)
    assert again.head.hash == block0.hash
    again.close()
    with pytest.raises(ChainError, match="genesis"):
        Chain.open(tmp_path / "data", replace(GENESIS, chain_id=1338), proposer=PROPOSER)


@pytest.mark.asyncio
async def test_submitted_transfer_is_committed_and_survives_reopen(tmp_path: Path) -> None:
    chain = Chain.open(tmp_path / "data", GENESIS, proposer=PROPOSER)
    tx_hash = chain.submit_transaction(raw_transfer(0, 5))
    assert chain.transaction(tx_hash)[1] is None  # pending
    assert chain.pending_nonce(SENDER) == 1
    block = await commit_next_block(chain)
    assert [tx.hash for tx in block.transactions] == [tx_hash]
    receipt, tx, location = chain.receipt(tx_hash)
    assert receipt.succeeded and location.height == 1 and tx.hash == tx_hash
    assert chain.account(TO).balance == 5
    assert chain.account(TO, height=0).balance == 0
    assert len(chain.mempool) == 0
    root = chain.head.header.state_root
    chain.close()
    reopened = Chain.open(tmp_path / "data", GENESIS, proposer=PROPOSER)
    assert reopened.head.hash == block.hash and reopened.head.header.state_root == root
    assert reopened.receipt(tx_hash)[0] == receipt
    assert reopened.account(TO).balance == 5
    reopened.close()


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"\xf8\x01", MalformedTransaction),
        (raw_transfer(0, chain_id=1), WrongChainId),
        (raw_transfer(0, value=10**22), InsufficientFunds),
        (raw_transfer(0, data=b"\x01" * 200_000, gas=5_000_000), OversizeTransaction),
    ],
)
def test_bad_transactions_are_refused_and_change_nothing(
    chain: Chain, raw: bytes, error: type
) -> None:
    with pytest.raises(error):
        chain.submit_transaction(raw)
    assert len(chain.mempool) == 0 and chain.pending_nonce(SENDER) == 0


@pytest.mark.asyncio
async def test_nonce_too_low_after_commit(chain: Chain) -> None:
    chain.submit_transaction(raw_transfer(0))
    await commit_next_block(chain)
    with pytest.raises(NonceTooLow):
        chain.submit_transaction(raw_transfer(0, value=2))


@pytest.mark.asyncio
async def test_fee_history_and_subscribers(chain: Chain) -> None:
    queue = chain.subscribe()
    for nonce in range(3):
        chain.submit_transaction(raw_transfer(nonce))
        await commit_next_block(chain)
    assert [(await asyncio.wait_for(queue.get(), 1)).height for _ in range(3)] == [1, 2, 3]
    history = fee_history(chain, 2, chain.head.height, [50.0])
    assert history.oldest_block == 2
    assert len(history.base_fees) == 3 and len(history.gas_used_ratios) == 2
    assert history.rewards == [[GWEI], [GWEI]]
    assert suggested_priority_fee(chain) == GWEI
    assert chain.estimate_gas(CallRequest(sender=SENDER, to=TO, value=1)) == 21_000
    assert (
        chain.estimate_gas(CallRequest(sender=SENDER, to=TO, data=b"\x01\x00")) == 21_000 + 16 + 4
    )


@pytest.mark.asyncio
async def test_a_block_is_checked_against_its_proposers_registered_vrf_key(chain: Chain) -> None:
    """The validator's own proof passes; another key's proof, or a proposer outside the
    validator set, makes the block invalid and leaves the head where it was."""
    chain.submit_transaction(raw_transfer(0))
    head = chain.head
    honest = chain.build_candidate(
        chain.select_candidates(), vrf_key=VRF_KEY, timestamp=1_700_000_001, last_commit=b""
    ).block
    assert chain.check_candidate(honest).block.hash == honest.hash
    forged = chain.build_candidate(
        chain.select_candidates(), vrf_key=bytes(32), timestamp=1_700_000_001, last_commit=b""
    ).block
    with pytest.raises(InvalidBlock, match="randomness_proof"):
        chain.check_candidate(forged)
    stranger = replace(honest, header=replace(honest.header, proposer=TO))
    with pytest.raises(InvalidBlock, match=f"proposer: {TO.hex()} is not a validator"):
        chain.check_candidate(stranger)
    assert chain.head == head and len(chain.mempool) == 1
    await chain.commit_block(chain.check_candidate(honest), b"")
    assert chain.head.hash == honest.hash
