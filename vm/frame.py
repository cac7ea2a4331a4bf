"""The per-call execution frame and what it runs in (spec: cancun/vm/__init__.py).

`Message` is what a call or create asks for; `Evm` is the mutable frame that runs it;
`TransactionEnvironment` is what all frames of one transaction share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from brainchain.state.state import State
from brainchain.types.receipt import Log
from vm.environment import BlockEnvironment

CODE_PADDING = 33  # STOP bytes after the code: running off the end stops, PUSH32 needs no check


@dataclass(slots=True)
class TransactionEnvironment:
    """Shared by every frame of one transaction."""

    origin: bytes
    gas_price: int
    gas: int
    access_list_addresses: set[bytes]
    access_list_storage_keys: set[tuple[bytes, int]]
    blob_versioned_hashes: tuple[bytes, ...] = ()
    # EIP-2200 "original value": a slot's value when the transaction started.
    original_storage: dict[tuple[bytes, int], int] = field(default_factory=dict)
    # EIP-6780: accounts created in this transaction may still self-destruct fully.
    created_accounts: set[bytes] = field(default_factory=set)
    # EIP-2929 warm sets are shared by every frame of the transaction; what each warms is
    # journaled here, and a failing frame's share is taken back (vm/access.py cool_down).
    warmed_addresses: list[bytes] = field(default_factory=list)
    warmed_slots: list[tuple[bytes, int]] = field(default_factory=list)
    # Code this transaction has run, paid for once (vm/schedule.py CODE_WORD_GAS).
    code_run: set[bytes] = field(default_factory=set)


@dataclass(slots=True)
class Environment:
    """Block and transaction context together, plus the state they act on."""

    state: State
    block: BlockEnvironment
    tx: TransactionEnvironment
    block_hashes: list[bytes]  # up to 256 most recent, oldest first (BLOCKHASH)


@dataclass(slots=True)
class Message:
    """A call or creation request (spec: Message)."""

    caller: bytes
    target: bytes | None  # None: creation
    current_target: bytes
    gas: int
    value: int
    data: bytes
    code_address: bytes | None
    code: bytes
    depth: int
    should_transfer_value: bool
    is_static: bool
    accessed_addresses: set[bytes]
    accessed_storage_keys: set[tuple[bytes, int]]
    parent_evm: Evm | None = None


@dataclass(slots=True)
class Evm:
    """One frame of execution (spec: Evm)."""

    pc: int
    stack: list[int]
    memory: bytearray
    code: bytes  # padded with CODE_PADDING zero bytes
    code_size: int  # the true length, for CODESIZE/CODECOPY
    gas_left: int
    env: Environment
    jump_flags: bytes  # one per offset: 1 at a valid JUMPDEST (vm/runs.py)
    logs: list[Log]
    refund_counter: int
    running: bool
    message: Message
    output: bytes
    accounts_to_delete: set[bytes]
    touched_accounts: set[bytes]
    return_data: bytes
    error: Exception | None
    accessed_addresses: set[bytes]
    accessed_storage_keys: set[tuple[bytes, int]]
    # A call or create this frame has paused for (vm/interpreter.py runs it, then hands the
    # finished child to `resume`, which takes back its gas and pushes the result).
    child: Message | None = None
    resume: Callable[[Evm, Evm], None] | None = None
    # Lengths of the transaction's warm journals when this frame started (vm/access.py).
    warm_marks: tuple[int, int] = (0, 0)
