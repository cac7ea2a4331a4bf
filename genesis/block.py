"""Block 0: the state the genesis file allocates, under a header every node computes alike."""

from __future__ import annotations

from brainchain.crypto.keccak import keccak256
from brainchain.state.account import Account
from brainchain.state.state import State, commit_state, set_account
from brainchain.trie.mpt import EMPTY_TRIE_ROOT
from brainchain.types.block import Block, Header, evidence_root
from brainchain.types.receipt import EMPTY_BLOOM
from genesis.format import Genesis, validator_set_hash

ZERO_HASH = bytes(32)
ZERO_ADDRESS = bytes(20)
GENESIS_RANDOMNESS_TAG = b"brainchain genesis randomness"


def build_genesis_block(genesis: Genesis, state: State) -> tuple[Block, dict[bytes, bytes]]:
    """Fill the empty `state` with the allocation; return block 0 and the trie nodes to store."""
    for address, balance in genesis.alloc:
        set_account(state, address, Account(balance=balance))
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
