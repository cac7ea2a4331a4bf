"""World state: journal reverts, storage, commitment and reopening from stored nodes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from brainchain.state.account import Account
from brainchain.state.state import (
    State,
    begin_transaction,
    commit_state,
    commit_transaction,
    destroy_account,
    get_account,
    get_account_optional,
    get_storage,
    increment_nonce,
    move_ether,
    rollback_transaction,
    set_account,
    set_account_balance,
    set_storage,
    state_root,
)
from brainchain.trie.mpt import EMPTY_TRIE_ROOT

A = bytes.fromhex("aa" * 20)
B = bytes.fromhex("bb" * 20)
C = bytes.fromhex("cc" * 20)


def test_empty_state_has_empty_root() -> None:
    assert state_root(State({})) == EMPTY_TRIE_ROOT


def test_commit_then_reopen_reads_the_same() -> None:
    db: dict[bytes, bytes] = {}
    state = State(db)
    set_account_balance(state, A, 10**18)
    set_storage(state, A, 1, 42)
    set_storage(state, A, 2**255, 7)
    increment_nonce(state, B)
    root, nodes, _ = commit_state(state)
    db.update(nodes)
    reopened = State(db, root)
    assert get_account(reopened, A).balance == 10**18
    assert get_account(reopened, B).nonce == 1
    assert get_storage(reopened, A, 1) == 42
    assert get_storage(reopened, A, 2**255) == 7
    assert get_storage(reopened, A, 3) == 0
    assert get_account_optional(reopened, C) is None
    assert state_root(reopened) == root


def test_nested_rollback_restores_accounts_and_storage() -> None:
    state = State({})
    set_account_balance(state, A, 100)
    set_storage(state, A, 1, 1)
    before = state_root(state)
    begin_transaction(state)
    move_ether(state, A, B, 40)
    begin_transaction(state)
    set_storage(state, A, 1, 2)
    destroy_account(state, A)
    rollback_transaction(state)
    assert get_account(state, A).balance == 60
    assert get_storage(state, A, 1) == 1
    rollback_transaction(state)
    assert get_account(state, A).balance == 100
    assert get_account_optional(state, B) is None
    assert state_root(state) == before


def test_commit_inner_then_rollback_outer() -> None:
    state = State({})
    set_account_balance(state, A, 5)
    begin_transaction(state)
    begin_transaction(state)
    set_account_balance(state, A, 6)
    commit_transaction(state)
    rollback_transaction(state)
    assert get_account(state, A).balance == 5


def test_root_independent_of_write_order() -> None:
    one, two = State({}), State({})
    set_account(one, A, Account(1, 2))
    set_account(one, B, Account(3, 4))
    set_account(two, B, Account(3, 4))
    set_account(two, A, Account(1, 2))
    assert state_root(one) == state_root(two)


ops = st.lists(
    st.tuples(
        st.sampled_from(["balance", "storage", "destroy", "nonce"]),
        st.sampled_from([A, B, C]),
        st.integers(0, 3),
        st.integers(0, 2**64),
    ),
    max_size=20,
)


def _apply(state: State, batch: list[tuple[str, bytes, int, int]]) -> None:
    for op, address, key, value in batch:
        if op == "balance":
            set_account_balance(state, address, value)
        elif op == "storage":
            set_storage(state, address, key, value)
        elif op == "destroy":
            destroy_account(state, address)
        else:
            increment_nonce(state, address)


def _snapshot(state: State) -> list[object]:
    return [
        (get_account_optional(state, a), [get_storage(state, a, k) for k in range(4)])
        for a in (A, B, C)
    ]


@settings(max_examples=200, deadline=None)
@given(first=ops, second=ops)
def test_rollback_restores_exact_state(first, second) -> None:
    state = State({})
    _apply(state, first)
    expected_root = state_root(state)  # flushes storage roots into the accounts first
    expected = _snapshot(state)
    begin_transaction(state)
    _apply(state, second)
    rollback_transaction(state)
    assert _snapshot(state) == expected
    assert state_root(state) == expected_root
