"""Block 0: the state the genesis file allocates, under a header every node computes alike.

Besides the allocation, block 0 holds the validator registry that the COMMITTEE precompile reads
(DESIGN.md §3: precompiles keep their state in the state trie): the storage of the COMMITTEE
account, in the layout vm/precompiles/registry.py defines for the precompile that reads it.
The account gets nonce 1 so that, like a system contract, it is never empty (EIP-161) and a call
that touches it cannot delete it.

Block 0 has no proposer, so nobody proves its randomness: it is keccak(tag ‖ chain id), the same
on every node, and its `randomness_proof` is empty. Each later block's randomness is its
proposer's VRF output over its parent's (brainchain/randomness.py): this public value only
seeds that chain, and block 1's randomness is still known to nobody but its proposer.
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
from genesis.inference import write_inference_registry
from vm.precompiles.addresses import COMMITTEE_ADDRESS
from vm.precompiles.registry import (
    COMMITTEE_SIZE_SLOT,
    TOTAL_STAKE_SLOT,
    member_key_slot,
    member_stake_slot,
)

ZERO_HASH = bytes(32)
ZERO_ADDRESS = bytes(20)
GENESIS_RANDOMNESS_TAG = b"brainchain genesis randomness"


def write_committee_registry(genesis: Genesis, state: State) -> None:
    """Store W, k and every validator's (VRF key, stake) in the COMMITTEE account."""
    registry = COMMITTEE_ADDRESS
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
    write_inference_registry(
        state, genesis.inference, genesis.models, [v.address for v in genesis.validators]
    )
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
        randomness_proof=b"",
        evidence_hash=evidence_root(()),
    )
    return Block(header, ()), nodes
