"""The Merkle Patricia Trie behind the state, storage, transactions and receipts roots.

Yellow Paper App. D, with the node forms of `brainchain.trie.node`. Writes copy the nodes on
the key's path (copy-on-write: a dirty branch or extension is a list, then mutated in place)
and hash nothing; `root_hash` encodes and hashes only the dirty nodes, so a block's update
costs in proportion to the keys it touched. Clean nodes are read lazily by hash from the node
database and kept, decoded, in a cache; a node replaced by a write leaves the cache, so the
cache tracks the current trie rather than every version of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Protocol

from brainchain.crypto.keccak import keccak256
from brainchain.errors import DecodingError, MissingTrieNode
from brainchain.trie.build import ordered_trie_root, trie_root
from brainchain.trie.nibbles import (
    TERMINATOR,
    hp_encode_extension,
    hp_encode_leaf,
    key_to_path,
    nibbles_to_key,
)
from brainchain.trie.node import (
    BRANCH_WIDTH,
    EMPTY_REF,
    EMPTY_TRIE_ROOT,
    HASH_REF_PREFIX,
    HASH_SIZE,
    Node,
    Ref,
    decode_node,
    encode_node,
    encode_string,
    list_header,
)
from brainchain.trie.proof import verify_proof

__all__ = [
    "EMPTY_TRIE_ROOT",
    "NodeDB",
    "Trie",
    "ordered_trie_root",
    "trie_root",
    "verify_proof",
]

_EMPTY_SLOTS = (EMPTY_REF,) * 16
_PATH_MEMO_LIMIT = 1 << 16  # secure-key paths remembered between commits (keccak is ~3 µs)

CACHE_LIMIT = 1 << 19
"""Decoded nodes a cache keeps after a commit (about 0.5 KiB each)."""


class NodeDB(Protocol):
    """Where committed trie nodes are read: RLP encoding by keccak256 hash (a dict will do)."""

    def get(self, key: bytes) -> bytes | None:
        """The node whose hash is `key`, or None."""


class Trie:
    """A (secure) Merkle Patricia Trie over a node database (Yellow Paper App. D).

    With `secure=True` the path of a key is keccak256(key), as in the state and storage tries.
    `cache` may be shared by tries over the same database (nodes are content-addressed).
    """

    __slots__ = ("_cache", "_db", "_paths", "_pending", "_root", "_secure")

    def __init__(
        self,
        db: NodeDB,
        root: bytes = EMPTY_TRIE_ROOT,
        *,
        secure: bool = False,
        cache: dict[bytes, Node] | None = None,
    ) -> None:
        """Open the trie whose root hash is `root`; nothing is read until a key is.

        Raises:
            ValueError: `root` is not 32 bytes.
        """
        if len(root) != HASH_SIZE:
            raise ValueError(f"trie root must be {HASH_SIZE} bytes, got {len(root)}")
        self._db = db
        self._secure = secure
        self._root: Ref = EMPTY_REF if root == EMPTY_TRIE_ROOT else HASH_REF_PREFIX + root
        self._cache: dict[bytes, Node] = {} if cache is None else cache
        self._pending: dict[bytes, bytes] = {}  # hashed since the last commit: hash -> RLP
        self._paths: dict[bytes, bytes] = {}  # secure key -> path, cleared on commit

    # --- reads ------------------------------------------------------------------------------

    def get(self, key: bytes) -> bytes:
        """The value stored under `key`, or b"" when there is none.

        Raises:
            MissingTrieNode: a node on the key's path is not in the node database.
            DecodingError: a stored node on the path is not a valid trie node.
        """
        path = self._path(key)
        ref = self._root
        pos = 0
        cache = self._cache
        while True:
            if type(ref) is bytes:
                if ref == EMPTY_REF:
                    return b""
                node = cache.get(ref) or self._load(ref)
            else:
                node = ref  # type: ignore[assignment]
            if len(node) == BRANCH_WIDTH:
                nibble = path[pos]
                if nibble == TERMINATOR:
                    return node[16]  # type: ignore[no-any-return]
                ref = node[nibble]
                pos += 1
                continue
            node_path = node[0]
            if not path.startswith(node_path, pos):
                return b""
            if node_path[-1] == TERMINATOR:  # a leaf: its path ends where the key's does
                return node[1]  # type: ignore[no-any-return]
            ref = node[1]
            pos += len(node_path)

    def _path(self, key: bytes) -> bytes:
        if not self._secure:
            return key_to_path(key)
        paths = self._paths
        path = paths.get(key)
        if path is None:
            if len(paths) >= _PATH_MEMO_LIMIT:
                paths.clear()
            path = paths[key] = key_to_path(keccak256(key))
        return path

    def _load(self, ref: bytes) -> Node:
        """Decode the node behind a hash reference and cache it."""
        node_hash = ref[1:]
        encoded = self._pending.get(node_hash)
        if encoded is None:
            encoded = self._db.get(node_hash)
            if encoded is None:
                raise MissingTrieNode(node_hash)
        try:
            node = decode_node(encoded)
        except DecodingError as exc:
            raise DecodingError(f"stored trie node 0x{node_hash.hex()}: {exc}") from exc
        self._cache[ref] = node
        return node

    def _node(self, ref: Ref) -> Node | None:
        """The node behind any reference; None for an empty slot."""
        if type(ref) is bytes:
            if ref == EMPTY_REF:
                return None
            return self._cache.get(ref) or self._load(ref)
        return ref  # type: ignore[return-value]

    # --- writes -----------------------------------------------------------------------------

    def set(self, key: bytes, value: bytes) -> None:
        """Store `value` under `key`; an empty value deletes the key.

        Raises:
            MissingTrieNode: a node on the key's path is not in the node database.
            DecodingError: a stored node on the path is not a valid trie node.
        """
        if not value:
            self.delete(key)
            return
        value = bytes(value)
        path = self._path(key)
        cache = self._cache
        # Walk down making each branch and extension on the path dirty (a list, mutated in
        # place from then on); `holder[slot]` is where the replacement for `ref` goes.
        holder: list[Ref] | None = None
        slot = 0
        ref = self._root
        pos = 0
        while True:
            if type(ref) is bytes:
                if ref == EMPTY_REF:
                    new: Node = (path[pos:], value)
                    break
                node = cache.get(ref) or self._load(ref)
            else:
                node = ref  # type: ignore[assignment]
            if len(node) == BRANCH_WIDTH:
                if type(node) is not list:
                    node = list(node)
                    if type(ref) is bytes:
                        cache.pop(ref, None)  # replaced: this trie no longer needs it
                    if holder is None:
                        self._root = node
                    else:
                        holder[slot] = node
                nibble = path[pos]
                if nibble == TERMINATOR:
                    node[16] = value
                    return
                holder, slot = node, nibble
                ref = node[nibble]
                pos += 1
                continue
            node_path = node[0]
            if not path.startswith(node_path, pos):
                new = _split(node_path, node[1], path, pos, value)
            elif node_path[-1] == TERMINATOR:
                new = (node_path, value)  # the same key: a new leaf
            else:
                if type(node) is not list:
                    node = [node_path, node[1]]
                    if type(ref) is bytes:
                        cache.pop(ref, None)
                    if holder is None:
                        self._root = node
                    else:
                        holder[slot] = node
                holder, slot = node, 1
                ref = node[1]
                pos += len(node_path)
                continue
            if type(ref) is bytes:
                cache.pop(ref, None)
            break
        if holder is None:
            self._root = new
        else:
            holder[slot] = new

    def delete(self, key: bytes) -> None:
        """Remove `key`; nothing happens when it is absent.

        Raises:
            MissingTrieNode: a node on the key's path is not in the node database.
            DecodingError: a stored node on the path is not a valid trie node.
        """
        new = self._delete(self._root, self._path(key), 0)
        if new is not None:
            self._root = new

    def _delete(self, ref: Ref, path: bytes, pos: int) -> Ref | None:
        """The reference replacing `ref` once path[pos:] is gone; None if it was absent."""
        if type(ref) is bytes:
            if ref == EMPTY_REF:
                return None
            node = self._cache.get(ref) or self._load(ref)
        else:
            node = ref  # type: ignore[assignment]
        new: Ref
        if len(node) == BRANCH_WIDTH:
            nibble = path[pos]
            if nibble == TERMINATOR:
                if not node[16]:
                    return None
                branch = node if type(node) is list else list(node)
                branch[16] = b""
                new = self._normalize(branch)
            else:
                child = self._delete(node[nibble], path, pos + 1)
                if child is None:
                    return None
                branch = node if type(node) is list else list(node)
                branch[nibble] = child
                new = self._normalize(branch) if child == EMPTY_REF else branch
        else:
            node_path, second = node
            if not path.startswith(node_path, pos):
                return None
            if node_path[-1] == TERMINATOR:
                new = EMPTY_REF
            else:
                child = self._delete(second, path, pos + len(node_path))
                if child is None:
                    return None
                new = self._prefix_path(node_path, child)
        if type(ref) is bytes:
            self._cache.pop(ref, None)
        return new

    def _normalize(self, branch: list[Ref]) -> Ref:
        """A branch that lost an entry: keep it if two remain, else collapse it (App. D)."""
        children = 16 - branch[:16].count(EMPTY_REF)
        value = branch[16]
        if children + (1 if value else 0) > 1:
            return branch
        if value:
            return (bytes((TERMINATOR,)), value)
        if not children:
            return EMPTY_REF
        nibble = next(i for i in range(16) if branch[i] != EMPTY_REF)
        return self._prefix_path(bytes((nibble,)), branch[nibble])

    def _prefix_path(self, prefix: bytes, child: Ref) -> Ref:
        """`child` reached through `prefix` nibbles: merged into a leaf/extension, or extended."""
        node = self._node(child)
        if node is None:
            return EMPTY_REF
        if len(node) == BRANCH_WIDTH:
            return (prefix, child)
        if type(child) is bytes:
            self._cache.pop(child, None)  # merged into a new node
        return (prefix + node[0], node[1])

    # --- hashing ----------------------------------------------------------------------------

    def root_hash(self) -> bytes:
        """The root hash, hashing the nodes changed since the last call (App. D eq. 192).

        Dirty nodes are all in memory, so this reads nothing from the node database and
        raises nothing.
        """
        root = self._root
        if type(root) is bytes:
            return EMPTY_TRIE_ROOT if root == EMPTY_REF else root[1:]
        ref = self._seal(root)  # type: ignore[arg-type]
        if type(ref) is not bytes:  # the root is stored by hash even when short
            encoded = encode_node(ref)  # type: ignore[arg-type]
            node_hash = keccak256(encoded)
            self._pending[node_hash] = encoded
            self._cache[HASH_REF_PREFIX + node_hash] = ref  # type: ignore[assignment]
            ref = HASH_REF_PREFIX + node_hash
        self._root = ref
        return ref[1:]

    def _seal(self, node: Node) -> Ref:
        """Encode a dirty node, hashing and caching it when long (App. D eq. 193).

        Returns the reference its parent keeps: the hash reference, or the clean node itself
        when it is short enough to be inlined (the parent then encodes it in place).
        """
        if len(node) == BRANCH_WIDTH:
            items = node if type(node) is list else list(node)
            inline = False
            for i in range(16):
                child = items[i]
                if type(child) is not bytes:
                    child = items[i] = self._seal(child)
                    if type(child) is not bytes:
                        inline = True
            value = items[16]
            if inline:
                pieces = [c if type(c) is bytes else encode_node(c) for c in items[:16]]
                payload = b"".join(pieces)
            else:
                payload = b"".join(items[:16])
            payload += encode_string(value) if value else EMPTY_REF
            encoded = list_header(len(payload)) + payload
            clean: Node = tuple(items)
        else:
            path, second = node
            if path[-1] == TERMINATOR:
                payload = encode_string(hp_encode_leaf(path)) + encode_string(second)
                clean = node if type(node) is tuple else (path, second)
            else:
                if type(second) is not bytes:
                    second = self._seal(second)
                piece = second if type(second) is bytes else encode_node(second)
                payload = encode_string(hp_encode_extension(path)) + piece
                clean = (path, second)
            encoded = list_header(len(payload)) + payload
        if len(encoded) < HASH_SIZE:
            return clean
        node_hash = keccak256(encoded)
        ref = HASH_REF_PREFIX + node_hash
        self._pending[node_hash] = encoded
        self._cache[ref] = clean
        return ref

    def commit(self) -> dict[bytes, bytes]:
        """Hash the changes and hand over the nodes created since the last commit.

        Returns keccak256 hash -> RLP for every node stored by hash that is new since the last
        commit. The caller must persist them (one write batch) before it commits this trie
        again: that next commit first trims the cache, oldest first, to `CACHE_LIMIT` nodes,
        and the trie then reads what it dropped from the node database.
        """
        cache = self._cache
        excess = len(cache) - CACHE_LIMIT
        if excess > 0:  # everything cached is in the database by now, or still pending
            for ref in list(islice(cache, excess)):
                del cache[ref]
        self.root_hash()
        nodes, self._pending = self._pending, {}
        self._paths.clear()
        return nodes

    # --- proofs -----------------------------------------------------------------------------

    def prove(self, key: bytes) -> list[bytes]:
        """The RLP nodes from the root towards `key`, as eth_getProof returns them (EIP-1186).

        For an absent key the list ends at the node that proves the absence; it is empty for
        the empty trie. Dirty nodes are hashed first.

        Raises:
            MissingTrieNode: a node on the key's path is not in the node database.
            DecodingError: a stored node on the path is not a valid trie node.
        """
        self.root_hash()
        path = self._path(key)
        proof: list[bytes] = []
        ref = self._root
        pos = 0
        while True:
            if type(ref) is bytes:
                if ref == EMPTY_REF:
                    return proof
                node = self._cache.get(ref) or self._load(ref)
                proof.append(encode_node(node))
            else:
                node = ref  # type: ignore[assignment]  # inline: inside its parent's RLP
            if len(node) == BRANCH_WIDTH:
                nibble = path[pos]
                if nibble == TERMINATOR:
                    return proof
                ref = node[nibble]
                pos += 1
                continue
            node_path = node[0]
            if node_path[-1] == TERMINATOR or not path.startswith(node_path, pos):
                return proof
            ref = node[1]
            pos += len(node_path)

    # --- iteration --------------------------------------------------------------------------

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """Every (key, value) in key order; a secure trie yields the hashed keys.

        Raises:
            MissingTrieNode: a node is not in the node database.
        """
        return self._walk(self._root, b"")

    def next_key(self, key: bytes) -> bytes | None:
        """The smallest key greater than `key` (hashed keys in a secure trie), or None.

        Raises:
            MissingTrieNode: a node on the way is not in the node database.
        """
        found = self._after(self._root, b"", key_to_path(key)[:-1])
        return None if found is None else nibbles_to_key(found)

    def prev_key(self, key: bytes) -> bytes | None:
        """The greatest key smaller than `key` (hashed keys in a secure trie), or None.

        Raises:
            MissingTrieNode: a node on the way is not in the node database.
        """
        found = self._before(self._root, b"", key_to_path(key)[:-1])
        return None if found is None else nibbles_to_key(found)

    def _walk(self, ref: Ref, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        node = self._node(ref)
        if node is None:
            return
        if len(node) == BRANCH_WIDTH:
            if node[16]:
                yield nibbles_to_key(prefix), node[16]
            for nibble in range(16):
                yield from self._walk(node[nibble], prefix + bytes((nibble,)))
            return
        node_path, second = node
        if node_path[-1] == TERMINATOR:
            yield nibbles_to_key(prefix + node_path[:-1]), second
        else:
            yield from self._walk(second, prefix + node_path)

    def _after(self, ref: Ref, prefix: bytes, target: bytes) -> bytes | None:
        """Smallest key path under `ref` (reached by `prefix`) greater than `target`."""
        node = self._node(ref)
        if node is None:
            return None
        if len(node) == BRANCH_WIDTH:
            if node[16] and prefix > target:
                return prefix
            for nibble in range(16):
                sub = prefix + bytes((nibble,))
                if node[nibble] == EMPTY_REF or sub < target[: len(sub)]:
                    continue  # empty, or every key below is smaller than the target
                found = self._after(node[nibble], sub, target)
                if found is not None:
                    return found
            return None
        node_path, second = node
        if node_path[-1] == TERMINATOR:
            full = prefix + node_path[:-1]
            return full if full > target else None
        sub = prefix + node_path
        return None if sub < target[: len(sub)] else self._after(second, sub, target)

    def _before(self, ref: Ref, prefix: bytes, target: bytes) -> bytes | None:
        """Greatest key path under `ref` (reached by `prefix`) smaller than `target`."""
        node = self._node(ref)
        if node is None:
            return None
        if len(node) == BRANCH_WIDTH:
            for nibble in range(15, -1, -1):
                sub = prefix + bytes((nibble,))
                if node[nibble] == EMPTY_REF or sub > target[: len(sub)]:
                    continue  # empty, or every key below is greater than the target
                found = self._before(node[nibble], sub, target)
                if found is not None:
                    return found
            return prefix if node[16] and prefix < target else None
        node_path, second = node
        if node_path[-1] == TERMINATOR:
            full = prefix + node_path[:-1]
            return full if full < target else None
        sub = prefix + node_path
        return None if sub > target[: len(sub)] else self._before(second, sub, target)


def _split(node_path: bytes, second: Ref, path: bytes, pos: int, value: bytes) -> Node:
    """Replace a leaf or extension that diverges from path[pos:] by a branch holding both."""
    common = 0
    limit = min(len(node_path), len(path) - pos)
    while common < limit and node_path[common] == path[pos + common]:
        common += 1
    branch: list[Ref] = [*_EMPTY_SLOTS, b""]
    old = node_path[common]
    if node_path[-1] == TERMINATOR:  # a leaf; the terminator keeps it from being a prefix
        if old == TERMINATOR:
            branch[16] = second
        else:
            branch[old] = (node_path[common + 1 :], second)
    elif common + 1 == len(node_path):
        branch[old] = second  # the extension's child hangs directly off the branch
    else:
        branch[old] = (node_path[common + 1 :], second)
    new = path[pos + common]
    if new == TERMINATOR:
        branch[16] = value
    else:
        branch[new] = (path[pos + common + 1 :], value)
    if common:
        return (node_path[:common], branch)
    return branch
