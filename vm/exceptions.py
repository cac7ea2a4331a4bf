"""How EVM execution stops early (spec: cancun/vm/exceptions.py).

`ExceptionalHalt` burns all the frame's gas and reverts its state; `Revert` (the REVERT opcode)
reverts state but returns the unused gas. The interpreter catches exactly these two.
"""

from __future__ import annotations

from brainchain.errors import BrainchainError


class EvmStop(BrainchainError):
    """Base of the two ways a frame stops before its code ends normally."""


class Revert(EvmStop):
    """REVERT: undo the frame's changes, keep the remaining gas, return data."""


class ExceptionalHalt(EvmStop):
    """Undo the frame's changes and consume all of its gas."""


class StackUnderflowError(ExceptionalHalt):
    pass


class StackOverflowError(ExceptionalHalt):
    pass


class OutOfGasError(ExceptionalHalt):
    """Not enough gas. `needed` is the charge that failed (0 where none was attempted): a trace
    reports it in the failing step's gasCost, as the spec's tracer and geth do."""

    def __init__(self, message: str, needed: int = 0) -> None:
        super().__init__(message)
        self.needed = needed


class InvalidOpcode(ExceptionalHalt):
    def __init__(self, opcode: int) -> None:
        super().__init__(f"invalid opcode {opcode:#04x}")
        self.opcode = opcode


class InvalidJumpDestError(ExceptionalHalt):
    pass


class StackDepthLimitError(ExceptionalHalt):
    pass


class WriteInStaticContext(ExceptionalHalt):
    pass


class OutOfBoundsRead(ExceptionalHalt):
    pass


class InvalidContractPrefix(ExceptionalHalt):
    """EIP-3541: new code may not start with 0xEF."""


class AddressCollision(ExceptionalHalt):
    """CREATE/CREATE2 onto an address with code or a nonce."""
