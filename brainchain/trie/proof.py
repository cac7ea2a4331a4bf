"""Checking Merkle proofs of trie membership and absence (EIP-1186, Yellow Paper App. D).

A proof is the list `Trie.prove` and eth_getProof return: the RLP of every node stored by hash
on the key's path, root first. Nodes inlined in their parent come inside the parent's RLP.
"""

from __future__ import annotations

from collections.abc import Sequence

from brainchain.crypto.keccak import keccak256
from brainchain.errors import DecodingError, InvalidProof
from brainchain.trie.nibbles import TERMINATOR, key_to_path
from brainchain.trie.node import (
    BRANCH_WIDTH,
    EMPTY_REF,
    EMPTY_TRIE_ROOT,
    HASH_REF_PREFIX,
    HASH_SIZE,
    Ref,
    decode_node,
)


def verify_proof(root: bytes, key: bytes, proof: Sequence[bytes], *, secure: bool) -> bytes:
    """The value `proof` shows under `key` in the trie with root hash `root`; b"" if absent.

    Every node must be used, in order: each one hashes to the reference the previous one
    holds on the key's path. The empty trie is proven by an empty proof.

    Raises:
        InvalidProof: a node does not hash to its reference, is not a valid trie node, is
            missing, or is left over after the key's path ends.
        ValueError: `root` is not 32 bytes.
    """
    if len(root) != HASH_SIZE:
        raise ValueError(f"trie root must be {HASH_SIZE} bytes, got {len(root)}")
    path = key_to_path(keccak256(key) if secure else key)
    ref: Ref = HASH_REF_PREFIX + root
    pos = 0
    used = 0
    while True:
        if type(ref) is bytes:
            if ref == EMPTY_REF:
                value = b""
                break
            node_hash = ref[1:]
            if used == len(proof):
                if used == 0 and node_hash == EMPTY_TRIE_ROOT:
                    value = b""
                    break
                raise InvalidProof(f"proof ends after {used} nodes; 0x{node_hash.hex()} needed")
            encoded = proof[used]
            if keccak256(encoded) != node_hash:
                raise InvalidProof(f"proof node {used} does not hash to 0x{node_hash.hex()}")
            used += 1
            if encoded == EMPTY_REF:  # the empty trie's root node
                value = b""
                break
            try:
                node = decode_node(encoded)
            except DecodingError as exc:
                raise InvalidProof(f"proof node {used - 1} is not a trie node: {exc}") from exc
        else:
            node = ref  # type: ignore[assignment]
        if len(node) == BRANCH_WIDTH:
            nibble = path[pos]
            if nibble == TERMINATOR:
                value = node[16]
                break
            ref = node[nibble]
            pos += 1
            continue
        node_path, second = node
        if not path.startswith(node_path, pos):
            value = b""  # the path leaves the trie here: proven absent
            break
        if node_path[-1] == TERMINATOR:
            value = second
            break
        ref = second
        pos += len(node_path)
    if used != len(proof):
        raise InvalidProof(f"{len(proof) - used} proof nodes left after the key's path ends")
    return value
