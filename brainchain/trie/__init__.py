"""Merkle Patricia Tries (Yellow Paper App. D): state, storage, transactions and receipts roots."""

from brainchain.trie.build import ordered_trie_root, trie_root
from brainchain.trie.mpt import NodeDB, Trie
from brainchain.trie.node import EMPTY_TRIE_ROOT
from brainchain.trie.proof import verify_proof

__all__ = ["EMPTY_TRIE_ROOT", "NodeDB", "Trie", "ordered_trie_root", "trie_root", "verify_proof"]
