"""The operand stack: plain Python ints on a list, at most 1024 deep (YP §9.1)."""

from __future__ import annotations

from vm.exceptions import StackOverflowError, StackUnderflowError
from vm.frame import Evm

STACK_LIMIT = 1024


def pop(evm: Evm) -> int:
    """Remove and return the top word.

    Raises:
        StackUnderflowError: the stack is empty.
    """
    stack = evm.stack
    if not stack:
        raise StackUnderflowError("stack underflow")
    return stack.pop()


def push(evm: Evm, value: int) -> None:
    """Push a word.

    Raises:
        StackOverflowError: the stack already holds 1024 words.
    """
    stack = evm.stack
    if len(stack) >= STACK_LIMIT:
        raise StackOverflowError("stack overflow")
    stack.append(value)
