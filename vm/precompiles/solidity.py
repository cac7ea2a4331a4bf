"""What a BRAIN precompile needs to behave as a Solidity contract with several functions does:
dispatch on the function selector, events as real logs, payable and state-changing checks.

Events are charged as LOG is (Yellow Paper App. G: G_log + G_logdata per byte + G_logtopic per
topic) and refused in a static context as LOG is. A function that changes state refuses a
static call, and one reached by DELEGATECALL or CALLCODE (the precompile's code running on
another account's storage and balance) refuses to run at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from brainchain.crypto.keccak import keccak256
from brainchain.types.receipt import Log
from vm.abi import AbiError, decode_values, encode_values, selector, split_call
from vm.frame import Evm
from vm.gas import GAS_LOG, GAS_LOG_DATA, GAS_LOG_TOPIC, charge_gas
from vm.precompiles.errors import revert_with_reason


@dataclass(frozen=True, slots=True)
class Function:
    """One external function: its signature, whether it changes state or takes value."""

    signature: str  # canonical, e.g. "commit(uint256,bytes32,bytes)"
    run: Callable[[Evm, tuple[Any, ...]], None]
    mutates: bool = True
    payable: bool = False

    @property
    def types(self) -> list[str]:
        inner = self.signature[self.signature.index("(") + 1 : -1]
        return inner.split(",") if inner else []


def dispatch(evm: Evm, name: str, address: bytes, functions: tuple[Function, ...]) -> None:
    """Decode the call data, check how the function was called, and run it.

    Raises:
        Revert: an unknown selector, undecodable arguments, a DELEGATECALL or CALLCODE, value
            sent to a function that is not payable, or a state change in a static call.
    """
    message = evm.message
    if message.current_target != address:
        revert_with_reason(evm, f"{name}: only callable with CALL or STATICCALL")
    try:
        function_selector, arguments = split_call(message.data)
    except AbiError:
        revert_with_reason(evm, f"{name}: call data has no function selector")
    for function in functions:
        if selector(function.signature) == function_selector:
            break
    else:
        revert_with_reason(evm, f"{name}: unknown function selector 0x{function_selector.hex()}")
    if message.value and not function.payable:
        revert_with_reason(evm, f"{name}: {function.signature} does not accept value")
    if function.mutates and message.is_static:
        revert_with_reason(evm, f"{name}: {function.signature} changes state in a static call")
    try:
        values = decode_values(function.types, arguments)
    except AbiError:
        revert_with_reason(evm, f"{name}: call data does not match {function.signature}")
    function.run(evm, values)


def event_topic(signature: str) -> bytes:
    """topic0 of an event: keccak-256 of its canonical signature."""
    return keccak256(signature.encode("ascii"))


def emit(
    evm: Evm, signature: str, indexed: tuple[bytes, ...], types: list[str], values: list[Any]
) -> None:
    """Append the event `signature` with 32-byte `indexed` topics and ABI-encoded data.

    Raises:
        OutOfGasError: not enough gas for the log.
    """
    data = encode_values(types, values)
    topics = (event_topic(signature), *indexed)
    charge_gas(evm, GAS_LOG + GAS_LOG_DATA * len(data) + GAS_LOG_TOPIC * len(topics))
    evm.logs.append(Log(evm.message.current_target, topics, data))
