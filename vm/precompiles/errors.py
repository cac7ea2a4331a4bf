"""How a precompile fails.

A standard precompile raises `PrecompileFailure`: the call halts exceptionally and burns the gas
it was given. A BRAIN precompile (DESIGN.md §3) speaks the Solidity ABI, so call data it cannot
decode and inputs it refuses end as a Solidity `require(false, reason)` would: a REVERT that
keeps the unused gas and returns `Error(string)` data, which callers see as the revert reason.
"""

from __future__ import annotations

from typing import Any, NoReturn

from brainchain.crypto import ecvrf
from brainchain.errors import BrainchainError, ExecutionReverted, InvalidVrfKey, InvalidVrfProof
from vm.abi import AbiError, decode_values, encode_values, selector, split_call
from vm.exceptions import Revert
from vm.frame import Evm


class PrecompileFailure(BrainchainError):
    """Invalid input the spec treats as an error, or not enough gas for the computation."""


def revert_with_reason(evm: Evm, reason: str) -> NoReturn:
    """Stop the frame with REVERT and `Error(reason)` as its output.

    Raises:
        Revert: always.
    """
    evm.output = ExecutionReverted.ERROR_SELECTOR + encode_values(["string"], [reason])
    raise Revert(reason)


def revert_outside_window(evm: Evm, what: str, first: int, last: int) -> NoReturn:
    """Revert a call made outside its window of heights first..last; `what` says who takes what
    then (the commit, reveal and attestation windows of INFERENCE and FL_REGISTRY).

    Raises:
        Revert: always, with the window and this block's height in the reason.
    """
    height = evm.env.block.height
    revert_with_reason(evm, f"{what} at heights {first}..{last}, this is {height}")


def call_arguments(evm: Evm, name: str, signature: str) -> tuple[Any, ...]:
    """The arguments of a call to `signature`, e.g. `f(bytes32,bytes)`, the one function that
    precompile `name` offers.

    Raises:
        Revert: another function selector, or arguments that do not decode.
    """
    types = signature[signature.index("(") + 1 : -1].split(",")
    try:
        function, arguments = split_call(evm.message.data)
        if function != selector(signature):
            revert_with_reason(evm, f"{name}: unknown function selector 0x{function.hex()}")
        return decode_values(types, arguments)
    except AbiError:
        revert_with_reason(evm, f"{name}: call data does not match {signature}")


def verify_or_revert(evm: Evm, name: str, public_key: bytes, proof: bytes, alpha: bytes) -> bytes:
    """The VRF output beta of a valid proof (RFC 9381 §5.3), else a revert that says why.

    Raises:
        Revert: the public key or the proof is invalid.
    """
    try:
        return ecvrf.verify(public_key, proof, alpha)
    except InvalidVrfKey as exc:
        revert_with_reason(evm, f"{name}: invalid public key: {exc.reason}")
    except InvalidVrfProof as exc:
        revert_with_reason(evm, f"{name}: invalid proof: {exc.reason}")
