"""World state: accounts, storage and code over secure tries, with a journal for reverts.

Shaped like execution-specs `cancun/state.py` (a `State` object with private tables and free
functions named as the spec names them), but snapshots journal the previous value of each
write instead of copying tries (the spec's own fast path, `ethereum_optimized/state_db.py`).
Only touched accounts and slots reach the tries, so `state_root` costs in proportion to what a
block changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from brainchain.crypto.keccak import EMPTY_KECCAK, keccak256
from brainchain.encoding import rlp
from brainchain.state.account import EMPTY_ACCOUNT, Account, decode_account, encode_account
from brainchain.trie.mpt import EMPTY_TRIE_ROOT, NodeDB, Trie


@dataclass(frozen=True, slots=True)
class AccountWrite:
    """Undo record: `address` held `previous` (None: did not exist)."""

    address: bytes
    previous: Account | None


@dataclass(frozen=True, slots=True)
class StorageWrite:
    """Undo record: slot `key` of `address` held `previous`."""

    address: bytes
    key: int
    previous: int


@dataclass(frozen=True, slots=True)
class StorageCleared:
    """Undo record: all of `address`'s storage was wiped; `previous` is what the cache held."""

    address: bytes
    previous: dict[int, int]
    previously_cleared: bool
    previous_trie: Trie | None


@dataclass(frozen=True, slots=True)
class TransientWrite:
    """Undo record: transient slot `key` of `address` held `previous` (EIP-1153)."""

    address: bytes
    key: int
    previous: int


JournalEntry = AccountWrite | StorageWrite | StorageCleared | TransientWrite


class CodeDB:
    """Where contract code is read by hash; the node backs it with LevelDB."""

    def get(self, key: bytes) -> bytes | None:  # pragma: no cover - protocol
        raise NotImplementedError


@dataclass(slots=True)
class State:
    """Accounts and storage of one chain head, plus the uncommitted changes on top of it."""

    db: NodeDB
    root: bytes = EMPTY_TRIE_ROOT
    code_db: NodeDB | None = None
    _trie: Trie = field(init=False)
    _accounts: dict[bytes, Account | None] = field(default_factory=dict)
    _storage: dict[bytes, dict[int, int]] = field(default_factory=dict)
    _cleared: set[bytes] = field(default_factory=set)  # storage wiped since the last commit
    _storage_tries: dict[bytes, Trie] = field(default_factory=dict)
    _code: dict[bytes, bytes] = field(default_factory=dict)
    _new_code: dict[bytes, bytes] = field(default_factory=dict)
    _dirty_accounts: set[bytes] = field(default_factory=set)
    _dirty_storage: dict[bytes, set[int]] = field(default_factory=dict)
    _journal: list[JournalEntry] = field(default_factory=list)
    _snapshots: list[int] = field(default_factory=list)
    _transient: dict[tuple[bytes, int], int] = field(default_factory=dict)  # EIP-1153

    def __post_init__(self) -> None:
        self._trie = Trie(self.db, self.root, secure=True)


# --- accounts -----------------------------------------------------------------------------


def get_account_optional(state: State, address: bytes) -> Account | None:
    """The account at `address`, or None if it does not exist."""
    accounts = state._accounts
    if address in accounts:
        return accounts[address]
    encoded = state._trie.get(address)
    account = decode_account(encoded) if encoded else None
    accounts[address] = account
    return account


def get_account(state: State, address: bytes) -> Account:
    """The account at `address`; a non-existent one reads as the empty account."""
    account = get_account_optional(state, address)
    return EMPTY_ACCOUNT if account is None else account


def account_exists(state: State, address: bytes) -> bool:
    """Whether `address` is in the state, empty or not."""
    return get_account_optional(state, address) is not None


def set_account(state: State, address: bytes, account: Account | None) -> None:
    """Write (or, with None, delete) the account at `address`, journalled."""
    previous = get_account_optional(state, address)
    state._journal.append(AccountWrite(address, previous))
    state._accounts[address] = account
    state._dirty_accounts.add(address)


def _modify_balance(state: State, address: bytes, delta: int) -> None:
    """Add `delta` wei; an account left empty is deleted (spec: modify_state, EIP-161)."""
    account = get_account(state, address)
    updated = replace(account, balance=account.balance + delta)
    set_account(state, address, None if updated.is_empty else updated)


def set_account_balance(state: State, address: bytes, balance: int) -> None:
    """Set the balance, creating the account if needed (deleting it if left empty)."""
    _modify_balance(state, address, balance - get_account(state, address).balance)


def move_ether(state: State, sender: bytes, recipient: bytes, amount: int) -> None:
    """Transfer `amount` wei; the caller has checked the sender can afford it."""
    _modify_balance(state, sender, -amount)
    _modify_balance(state, recipient, amount)


def increment_nonce(state: State, address: bytes) -> None:
    """Add one to the account's nonce."""
    account = get_account(state, address)
    set_account(state, address, replace(account, nonce=account.nonce + 1))


def destroy_touched_empty_accounts(state: State, touched: set[bytes]) -> None:
    """EIP-161: remove every touched account that exists and is empty."""
    for address in sorted(touched):
        account = get_account_optional(state, address)
        if account is not None and account.is_empty:
            destroy_account(state, address)


def destroy_account(state: State, address: bytes) -> None:
    """Remove the account and all its storage."""
    destroy_storage(state, address)
    set_account(state, address, None)


def prove_account(state: State, address: bytes) -> list[bytes]:
    """EIP-1186 account proof: the state-trie nodes from the root to `address`'s leaf."""
    _flush(state)
    return state._trie.prove(address)


def prove_storage(state: State, address: bytes, key: int) -> list[bytes]:
    """EIP-1186 storage proof: the storage-trie nodes from the account's root to `key`."""
    _flush(state)
    return _storage_trie(state, address).prove(key.to_bytes(32, "big"))


# --- storage ------------------------------------------------------------------------------


def _storage_trie(state: State, address: bytes) -> Trie:
    trie = state._storage_tries.get(address)
    if trie is None:
        root = (
            EMPTY_TRIE_ROOT
            if address in state._cleared
            else get_account(state, address).storage_root
        )
        trie = Trie(state.db, root, secure=True)
        state._storage_tries[address] = trie
    return trie


def get_storage(state: State, address: bytes, key: int) -> int:
    """The value of storage slot `key` (0 when unset)."""
    slots = state._storage.get(address)
    if slots is not None and key in slots:
        return slots[key]
    if address in state._cleared:
        value = 0
    else:
        encoded = _storage_trie(state, address).get(key.to_bytes(32, "big"))
        value = int.from_bytes(rlp.decode(encoded), "big") if encoded else 0  # type: ignore[arg-type]
    state._storage.setdefault(address, {})[key] = value
    return value


def set_storage(state: State, address: bytes, key: int, value: int) -> None:
    """Write storage slot `key`, journalled."""
    previous = get_storage(state, address, key)
    state._journal.append(StorageWrite(address, key, previous))
    state._storage[address][key] = value
    state._dirty_storage.setdefault(address, set()).add(key)


def account_has_storage(state: State, address: bytes) -> bool:
    """Whether any storage slot of `address` is non-zero (EIP-7610 creation collisions)."""
    if any(state._storage.get(address, {}).values()):
        return True
    if address in state._cleared:
        return False  # wiped in this block: only the cache holds its slots
    return get_account(state, address).storage_root != EMPTY_TRIE_ROOT


def destroy_storage(state: State, address: bytes) -> None:
    """Wipe all storage of `address` (self-destruct, or creation over a used address)."""
    state._journal.append(
        StorageCleared(
            address,
            state._storage.get(address, {}),
            address in state._cleared,
            state._storage_tries.pop(address, None),
        )
    )
    state._storage[address] = {}
    state._cleared.add(address)
    state._dirty_storage.setdefault(address, set())


def get_transient_storage(state: State, address: bytes, key: int) -> int:
    """EIP-1153 TLOAD: the slot's value in this transaction (0 when unset)."""
    return state._transient.get((address, key), 0)


def set_transient_storage(state: State, address: bytes, key: int, value: int) -> None:
    """EIP-1153 TSTORE, journalled so a reverting frame undoes it."""
    slot = (address, key)
    state._journal.append(TransientWrite(address, key, state._transient.get(slot, 0)))
    state._transient[slot] = value


def clear_transient_storage(state: State) -> None:
    """EIP-1153: transient storage lives for one transaction."""
    state._transient.clear()


# --- code ---------------------------------------------------------------------------------


def get_code(state: State, code_hash: bytes) -> bytes:
    """Code by hash (empty for EMPTY_KECCAK)."""
    if code_hash == EMPTY_KECCAK:
        return b""
    code = state._code.get(code_hash)
    if code is None:
        code = (state.code_db.get(code_hash) if state.code_db is not None else None) or b""
        state._code[code_hash] = code
    return code


def set_code(state: State, address: bytes, code: bytes) -> None:
    """Install `code` at `address`."""
    code_hash = keccak256(code)
    state._code[code_hash] = code
    state._new_code[code_hash] = code
    set_account(state, address, replace(get_account(state, address), code_hash=code_hash))


# --- snapshots ----------------------------------------------------------------------------


def begin_transaction(state: State) -> None:
    """Open a nested snapshot that `rollback_transaction` can return to."""
    state._snapshots.append(len(state._journal))


def commit_transaction(state: State) -> None:
    """Keep the changes since the matching `begin_transaction`."""
    mark = state._snapshots.pop()
    if not state._snapshots:
        del state._journal[mark:]  # nothing below can roll back past the outermost snapshot


def rollback_transaction(state: State) -> None:
    """Undo every change since the matching `begin_transaction`."""
    mark = state._snapshots.pop()
    journal = state._journal
    while len(journal) > mark:
        entry = journal.pop()
        # Re-mark as dirty: a state_root() since the write may have flushed it to the trie.
        if isinstance(entry, AccountWrite):
            state._accounts[entry.address] = entry.previous
            state._dirty_accounts.add(entry.address)
        elif isinstance(entry, StorageWrite):
            state._storage[entry.address][entry.key] = entry.previous
            state._dirty_storage.setdefault(entry.address, set()).add(entry.key)
        elif isinstance(entry, TransientWrite):
            state._transient[(entry.address, entry.key)] = entry.previous
        else:
            state._dirty_accounts.add(entry.address)
            state._dirty_storage.setdefault(entry.address, set()).update(entry.previous)
            state._storage[entry.address] = entry.previous
            if not entry.previously_cleared:
                state._cleared.discard(entry.address)
            if entry.previous_trie is None:
                state._storage_tries.pop(entry.address, None)
            else:
                state._storage_tries[entry.address] = entry.previous_trie


# --- commitment ---------------------------------------------------------------------------


def _flush(state: State) -> None:
    """Write dirty slots and accounts into their tries."""
    for address in sorted(state._dirty_accounts | state._dirty_storage.keys()):
        account = get_account_optional(state, address)
        if account is None:
            state._trie.delete(address)
            state._storage_tries.pop(address, None)
            continue
        dirty_slots = state._dirty_storage.get(address)
        if dirty_slots is not None or address in state._cleared:
            trie = _storage_trie(state, address)
            slots = state._storage.get(address, {})
            for key in sorted(dirty_slots or ()):
                value = slots.get(key, 0)
                trie_key = key.to_bytes(32, "big")
                if value:
                    trie.set(trie_key, rlp.encode(rlp.encode_uint(value)))
                else:
                    trie.delete(trie_key)
            account = replace(account, storage_root=trie.root_hash())
            state._accounts[address] = account
        state._trie.set(address, encode_account(account))
    state._dirty_accounts.clear()
    state._dirty_storage.clear()


def state_root(state: State) -> bytes:
    """The root of the state trie with every change so far applied."""
    _flush(state)
    return state._trie.root_hash()


def commit_state(state: State) -> tuple[bytes, dict[bytes, bytes], dict[bytes, bytes]]:
    """Seal the changes: return (state root, new trie nodes, new code) for one write batch.

    Afterwards the journal is empty and `state.root` is the new root.
    """
    if state._snapshots:
        raise RuntimeError("commit_state inside an open snapshot")
    _flush(state)
    nodes: dict[bytes, bytes] = {}
    for trie in state._storage_tries.values():
        nodes.update(trie.commit())
    nodes.update(state._trie.commit())
    state.root = state._trie.root_hash()
    code, state._new_code = state._new_code, {}
    state._journal.clear()
    state._cleared.clear()
    return state.root, nodes, code
