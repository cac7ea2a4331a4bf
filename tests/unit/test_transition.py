"""The state transition for value transfers: fees, receipts, rejection, and block validation."""

from __future__ import annotations

from dataclasses import replace

import pytest

from brainchain.crypto import ecvrf
from brainchain.crypto.secp256k1 import private_key_to_address
from brainchain.errors import InvalidBlock, InvalidVrfProof
from brainchain.randomness import prove_randomness, randomness_from_proof, verify_randomness
from brainchain.state.state import State, get_account, get_storage
from brainchain.types.block import Block, Header, decode_block
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
from vm.instructions.system import compute_contract_address
from vm.opcodes import Ops
from vm.transition import BuiltBlock, apply_block, build_block

CHAIN_ID = 1337
GWEI = 10**9
KEYS = [bytes([i + 1]) * 32 for i in range(3)]
ADDRS = [private_key_to_address(k) for k in KEYS]
PROPOSER = bytes.fromhex("11" * 20)
VRF_KEY = bytes([0x5A]) * 32  # the proposer's
VRF_PUBKEY = ecvrf.public_key(VRF_KEY)
OTHER_VRF_KEY = bytes([0x5B]) * 32  # another validator's
RECIPIENT = bytes.fromhex("22" * 20)


def make_genesis() -> Genesis:
    validator = GenesisValidator("v0", PROPOSER, bytes(32), VRF_PUBKEY, 1)
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


def build(
    db: dict[bytes, bytes], parent: Block, txs: list[Transaction], vrf_key: bytes = VRF_KEY
) -> BuiltBlock:
    state = State(db, parent.header.state_root)
    built = build_block(
        state,
        parent.header,
        txs,
        proposer=PROPOSER,
        timestamp=parent.header.timestamp + 1,
        validators_hash=validator_set_hash(make_genesis().validators),
        randomness_proof=prove_randomness(vrf_key, parent.header),
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
    replayed = replay(db, block0.header, built.block)
    assert replayed.block.hash == built.block.hash
    forged = Block(replace(built.block.header, state_root=bytes(32)), built.block.transactions)
    with pytest.raises(InvalidBlock, match="state_root"):
        replay(db, block0.header, forged)
    bad_tx = Block(built.block.header, (transfer(2, 5, 1),))
    with pytest.raises(InvalidBlock, match="invalid"):
        replay(db, block0.header, bad_tx)


def replay(db: dict[bytes, bytes], parent: Header, block: Block) -> BuiltBlock:
    """apply_block as every validator runs it, with the genesis proposer's registered VRF key."""
    return apply_block(State(db, parent.state_root), parent, block, proposer_vrf_key=VRF_PUBKEY)


def test_block_randomness_is_the_proposers_vrf_output_over_the_parents() -> None:
    db, block0 = genesis_state()
    one = build(db, block0, [transfer(0, 0, 1)]).block.header
    assert len(one.randomness_proof) == ecvrf.PROOF_BYTES
    assert one.randomness == verify_randomness(VRF_PUBKEY, block0.header, one.randomness_proof)
    # One output per key and parent: the transactions (the proposer's free choice) change nothing.
    again = build(genesis_state()[0], block0, [transfer(1, 0, 2)]).block.header
    assert (again.randomness, again.randomness_proof) == (one.randomness, one.randomness_proof)
    other = build(genesis_state()[0], block0, [], vrf_key=OTHER_VRF_KEY).block.header
    assert other.randomness != one.randomness
    two = build(db, build(db, block0, []).block, []).block.header
    assert two.randomness not in (one.randomness, block0.header.randomness)
    # The header hash commits to the proof.
    assert replace(one, randomness_proof=other.randomness_proof).hash != one.hash


def test_a_randomness_proof_holds_for_one_chain_height_and_parent_only() -> None:
    parent = genesis_state()[1].header
    proof = prove_randomness(VRF_KEY, parent)
    assert prove_randomness(VRF_KEY, parent) == proof
    output = randomness_from_proof(proof)
    others = [
        replace(parent, chain_id=CHAIN_ID + 1),
        replace(parent, height=parent.height + 1),
        replace(parent, randomness=bytes(32)),
    ]
    for other in others:
        assert randomness_from_proof(prove_randomness(VRF_KEY, other)) != output
        with pytest.raises(InvalidVrfProof):
            verify_randomness(VRF_PUBKEY, other, proof)
    # A committee proof over a 32-byte seed (DESIGN.md §5) never passes as a block's proof.
    with pytest.raises(InvalidVrfProof):
        verify_randomness(VRF_PUBKEY, parent, ecvrf.prove(VRF_KEY, parent.randomness))


def test_apply_block_rejects_randomness_the_proposer_did_not_prove() -> None:
    db, block0 = genesis_state()
    block1 = build(db, block0, []).block
    block2 = build(db, block1, []).block
    by_other = build(genesis_state()[0], block0, [], vrf_key=OTHER_VRF_KEY).block
    header = block1.header
    cases = [
        (replace(header, randomness=bytes(32)), "randomness: expected"),
        # another validator's proof and output, in a block that names our proposer
        (by_other.header, "randomness_proof: invalid VRF proof"),
        # a proof over another parent: block 2's, moved to block 1
        (replace(header, randomness_proof=block2.header.randomness_proof), "randomness_proof"),
        (replace(header, randomness_proof=bytes(ecvrf.PROOF_BYTES)), "randomness_proof"),
        (replace(header, randomness_proof=b""), "randomness_proof"),
    ]
    for bad, reason in cases:
        with pytest.raises(InvalidBlock, match=reason):
            replay(db, block0.header, Block(bad, ()))
    assert replay(db, block0.header, block1).block.hash == block1.hash


def test_a_contract_reading_prevrandao_sees_the_vrf_output() -> None:
    db, block0 = genesis_state()
    # Init code that stores PREVRANDAO in slot 0 and deploys nothing.
    init_code = bytes([Ops.PREVRANDAO, Ops.PUSH0, Ops.SSTORE, Ops.STOP])
    create = sign_transaction(
        private_key=KEYS[0],
        tx_type=TX_FEE_MARKET,
        chain_id=CHAIN_ID,
        nonce=0,
        gas=100_000,
        to=None,
        value=0,
        data=init_code,
        max_fee_per_gas=3 * GWEI,
        max_priority_fee_per_gas=GWEI,
    )
    built = build(db, block0, [create])
    assert built.receipts[0].succeeded
    header = built.block.header
    contract = compute_contract_address(ADDRS[0], 0)
    stored = get_storage(State(db, header.state_root), contract, 0)
    assert stored == int.from_bytes(header.randomness, "big") != 0
    assert replay(db, block0.header, built.block).block.hash == built.block.hash


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
