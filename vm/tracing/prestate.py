"""geth's prestateTracer: the accounts a transaction touched, as they were before it ran.

geth: eth/tracers/native/prestate.go. The sender, the recipient (or the created address) and
the proposer are read before the transaction; other accounts and storage slots when a step
first names them (BALANCE, EXTCODE*, SELFDESTRUCT, the CALL family, CREATE/CREATE2, SLOAD and
SSTORE), before that step runs. `diffMode` returns {pre, post}: only the accounts the
transaction changed, `post` with just what changed and `pre` without unchanged slots.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from brainchain.state.account import Account
from brainchain.state.state import (
    State,
    get_account,
    get_account_optional,
    get_code,
    get_storage,
)
from brainchain.types.transaction import MAX_INIT_CODE_SIZE, Transaction
from vm.access import to_address
from vm.environment import BlockEnvironment
from vm.frame import Evm
from vm.instructions.system import compute_contract_address, compute_create2_contract_address
from vm.memory import buffer_read
from vm.opcodes import Ops
from vm.tracing.hooks import TransactionTracer

if TYPE_CHECKING:
    from vm.transition import TransactionResult

ADDRESS_OPS = frozenset(
    (Ops.BALANCE, Ops.EXTCODESIZE, Ops.EXTCODECOPY, Ops.EXTCODEHASH, Ops.SELFDESTRUCT)
)
CALL_OPS = frozenset((Ops.CALL, Ops.CALLCODE, Ops.DELEGATECALL, Ops.STATICCALL))


@dataclass(slots=True)
class AccountState:
    """What the trace shows of one account."""

    balance: int
    nonce: int
    code: bytes
    storage: dict[int, int]
    exists: bool = True

    def to_json(self) -> dict[str, Any]:
        """geth's account JSON: balance always, nonce, code and storage when not empty."""
        account: dict[str, Any] = {"balance": hex(self.balance)}
        if self.nonce:
            account["nonce"] = self.nonce
        if self.code:
            account["code"] = "0x" + self.code.hex()
        if self.storage:
            account["storage"] = {
                f"0x{key:064x}": f"0x{value:064x}" for key, value in sorted(self.storage.items())
            }
        return account


def read_account(state: State, address: bytes) -> AccountState:
    account = get_account_optional(state, address)
    if account is None:
        return AccountState(0, 0, b"", {}, exists=False)
    return AccountState(account.balance, account.nonce, get_code(state, account.code_hash), {})


@dataclass(slots=True)
class PrestateTracer(TransactionTracer):
    """geth's prestateTracer with its config: diffMode."""

    diff_mode: bool = False
    pre: dict[bytes, AccountState] = field(default_factory=dict)
    created: set[bytes] = field(default_factory=set)

    def look_up(self, state: State, address: bytes) -> AccountState:
        """The account's pre-state, read the first time the transaction names it."""
        account = self.pre.get(address)
        if account is None:
            account = self.pre[address] = read_account(state, address)
        return account

    def begin(self, state: State, env: BlockEnvironment, tx: Transaction) -> None:
        to = tx.to
        if to is None:
            to = compute_contract_address(tx.sender, tx.nonce)
            self.created.add(to)
        for address in (tx.sender, to, env.proposer):
            self.look_up(state, address)

    def step(self, evm: Evm, op: int) -> None:
        stack, state = evm.stack, evm.env.state
        target = evm.message.current_target
        if op in (Ops.SLOAD, Ops.SSTORE) and stack:
            slots = self.look_up(state, target).storage
            key = stack[-1]
            if key not in slots:
                # A slot this transaction wrote already was seen at that write: this one is
                # still as it was, or its original value is on record (EIP-2200).
                current = get_storage(state, target, key)
                slots[key] = evm.env.tx.original_storage.get((target, key), current)
        elif op in ADDRESS_OPS and stack:
            self.look_up(state, to_address(stack[-1]))
        elif op in CALL_OPS and len(stack) >= 2:
            self.look_up(state, to_address(stack[-2]))
        elif op == Ops.CREATE:
            address = compute_contract_address(target, get_account(state, target).nonce)
            self.created.add(address)
            self.look_up(state, address)
        elif op == Ops.CREATE2 and len(stack) >= 4 and stack[-3] <= MAX_INIT_CODE_SIZE:
            init_code = buffer_read(bytes(evm.memory), stack[-2], stack[-3])
            address = compute_create2_contract_address(target, stack[-4], init_code)
            self.created.add(address)
            self.look_up(state, address)

    def shown(self, address: bytes) -> bool:
        """geth leaves out of `pre` an account the transaction created where there was none."""
        return self.pre[address].exists or address not in self.created

    def result(self, state: State, tx: Transaction, outcome: TransactionResult) -> dict[str, Any]:
        if not self.diff_mode:
            return {
                "0x" + address.hex(): account.to_json()
                for address, account in sorted(self.pre.items())
                if self.shown(address)
            }
        pre: dict[str, Any] = {}
        post: dict[str, Any] = {}
        for address, before in sorted(self.pre.items()):
            key = "0x" + address.hex()
            after = get_account_optional(state, address)
            if after is None:  # deleted: geth keeps it in `pre` alone
                if before.exists:
                    pre[key] = before.to_json()
                continue
            changes = account_changes(state, address, before, after)
            if changes is not None:
                post[key] = changes
                if self.shown(address):
                    pre[key] = before.to_json()
        return {"pre": pre, "post": post}


def account_changes(
    state: State, address: bytes, before: AccountState, after: Account
) -> dict[str, Any] | None:
    """geth's processDiffState for one account: None if the transaction left it as it was,
    else what changed as `post` shows it (a slot cleared is left out); `before.storage` keeps
    only the changed slots that held a value."""
    changes: dict[str, Any] = {}
    if after.balance != before.balance:
        changes["balance"] = hex(after.balance)
    if after.nonce != before.nonce:
        changes["nonce"] = after.nonce
    code = get_code(state, after.code_hash)
    if code != before.code:
        changes["code"] = "0x" + code.hex()
    changed_slots: dict[int, int] = {}
    written: dict[str, str] = {}
    slot_changed = False
    for slot, value in sorted(before.storage.items()):
        new_value = get_storage(state, address, slot)
        if new_value == value:
            continue
        slot_changed = True
        if value:
            changed_slots[slot] = value
        if new_value:
            written[f"0x{slot:064x}"] = f"0x{new_value:064x}"
    if written:
        changes["storage"] = written
    before.storage = changed_slots
    return changes if changes or slot_changed else None
