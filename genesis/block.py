"""Block 0: the state the genesis file allocates, under a header every node computes alike.

Besides the allocation, block 0 holds the validator registry that the COMMITTEE precompile reads
(DESIGN.md §3: precompiles keep their state in the state trie). It is the storage of the
COMMITTEE account 0x…0b02, laid out as a Solidity contract would lay out

    uint256 totalStake;                          // slot 0: W
    uint256 committeeSize;                       // slot 1: k, expected committee size
    mapping(address => Member) members;          // slot 2
    struct Member { bytes32 vrfKey; uint256 stake; }

so member V's VRF key is at keccak256(pad32(V) ‖ pad32(2)) and its stake one slot after, and
eth_getStorageAt / eth_getProof show the registry. An empty key slot means "not a validator": the
all-zero string encodes a point of small order, which is no valid VRF key (RFC 9381 §5.4.5).
The account gets nonce 1 so that, like a system contract, it is never empty (EIP-161) and a call
that touches it cannot delete it. genesis sits below vm in the layers, so the registry's address
is spelled here and vm/precompiles/addresses.py takes it from here.
"""

from __future__ import annotations

from dataclasses import replace

from brainchain.crypto.keccak import keccak256
from brainchain.state.account import Account
from brainchain.state.state import State, commit_state, get_account, set_account, set_storage
from brainchain.trie.mpt import EMPTY_TRIE_ROOT
from brainchain.types.block import Block, Header, evidence_root
from brainchain.types.receipt import EMPTY_BLOOM
from genesis.format import Genesis, validator_set_hash

ZERO_HASH = bytes(32)
ZERO_ADDRESS = bytes(20)
GENESIS_RANDOMNESS_TAG = b"brainchain genesis randomness"

COMMITTEE_REGISTRY_ADDRESS = (0x0B02).to_bytes(20, "big")
TOTAL_STAKE_SLOT = 0
COMMITTEE_SIZE_SLOT = 1
MEMBERS_SLOT = 2
WORD_BYTES = 32
SLOT_COUNT = 2**256


def member_key_slot(validator: bytes) -> int:
    """The slot of a validator's VRF key in the registry (Solidity mapping layout)."""
    key = validator.rjust(WORD_BYTES, b"\0") + MEMBERS_SLOT.to_bytes(WORD_BYTES, "big")
    return int.from_bytes(keccak256(key), "big")


def member_stake_slot(validator: bytes) -> int:
    """The slot of a validator's stake: the struct's next slot, wrapping as Solidity's do."""
    return (member_key_slot(validator) + 1) % SLOT_COUNT


def write_committee_registry(genesis: Genesis, state: State) -> None:
    """Store W, k and every validator's (VRF key, stake) in the COMMITTEE account."""
    registry = COMMITTEE_REGISTRY_ADDRESS
    set_account(state, registry, replace(get_account(state, registry), nonce=1))
    set_storage(state, registry, TOTAL_STAKE_SLOT, genesis.total_stake)
    set_storage(state, registry, COMMITTEE_SIZE_SLOT, genesis.committee_size)
    for validator in genesis.validators:
        vrf_key = int.from_bytes(validator.vrf_pubkey, "big")
        set_storage(state, registry, member_key_slot(validator.address), vrf_key)
        set_storage(state, registry, member_stake_slot(validator.address), validator.stake)


def build_genesis_block(genesis: Genesis, state: State) -> tuple[Block, dict[bytes, bytes]]:
    """Fill the empty `state` with the allocation and the validator registry; return block 0
    and the trie nodes to store."""
    for address, balance in genesis.alloc:
        set_account(state, address, Account(balance=balance))
    write_committee_registry(genesis, state)
    root, nodes, _ = commit_state(state)
    header = Header(
        chain_id=genesis.chain_id,
        height=0,
        timestamp=genesis.timestamp,
        parent_hash=ZERO_HASH,
        proposer=ZERO_ADDRESS,
        transactions_root=EMPTY_TRIE_ROOT,
        state_root=root,
        receipts_root=EMPTY_TRIE_ROOT,
        logs_bloom=EMPTY_BLOOM,
        gas_used=0,
        gas_limit=genesis.gas_limit,
        base_fee=genesis.base_fee,
        last_commit_hash=keccak256(b""),
        validators_hash=validator_set_hash(genesis.validators),
        randomness=keccak256(GENESIS_RANDOMNESS_TAG + genesis.chain_id.to_bytes(32, "big")),
        evidence_hash=evidence_root(()),
    )
    return Block(header, ()), nodes
