"""The Cancun gas schedule: every constant by its spec name, and the dynamic costs.

spec: cancun/vm/gas.py (Yellow Paper App. G, EIP-2929, EIP-2200, EIP-3529, EIP-3860), the
standard precompiles' prices included (Yellow Paper App. E). BRAIN's precompiles derive theirs
from these in vm/precompiles/costs.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

# A create transaction's intrinsic gas prices init code too, and brainchain/ sits below vm/, so
# the one definition lives there; here it takes the spec's name.
from brainchain.types.transaction import INIT_CODE_WORD_COST as GAS_INIT_CODE_WORD_COST
from vm.exceptions import OutOfGasError

if TYPE_CHECKING:
    from vm.frame import Evm

GAS_JUMPDEST = 1
GAS_BASE = 2
GAS_VERY_LOW = 3
GAS_STORAGE_SET = 20_000
GAS_STORAGE_UPDATE = 5_000
GAS_STORAGE_CLEAR_REFUND = 4_800
GAS_LOW = 5
GAS_MID = 8
GAS_HIGH = 10
GAS_EXPONENTIATION = 10
GAS_EXPONENTIATION_PER_BYTE = 50
GAS_MEMORY = 3
GAS_KECCAK256 = 30
GAS_KECCAK256_WORD = 6
GAS_COPY = 3
GAS_BLOCK_HASH = 20
GAS_LOG = 375
GAS_LOG_DATA = 8
GAS_LOG_TOPIC = 375
GAS_CREATE = 32_000
GAS_CODE_DEPOSIT = 200
GAS_ZERO = 0
GAS_NEW_ACCOUNT = 25_000
GAS_CALL_VALUE = 9_000
GAS_CALL_STIPEND = 2_300
GAS_SELF_DESTRUCT = 5_000
GAS_SELF_DESTRUCT_NEW_ACCOUNT = 25_000
GAS_ECRECOVER = 3_000
GAS_SHA256 = 60
GAS_SHA256_WORD = 12
GAS_RIPEMD160 = 600
GAS_RIPEMD160_WORD = 120
GAS_IDENTITY = 15
GAS_IDENTITY_WORD = 3
GAS_RETURN_DATA_COPY = 3
GAS_FAST_STEP = 5
GAS_BLAKE2_PER_ROUND = 1  # EIP-152
GAS_COLD_SLOAD = 2_100
GAS_COLD_ACCOUNT_ACCESS = 2_600
GAS_WARM_ACCESS = 100
GAS_BLOBHASH_OPCODE = 3
GAS_POINT_EVALUATION = 50_000  # EIP-4844
GAS_TLOAD = 100
GAS_TSTORE = 100
GAS_CALL_STIPEND_SSTORE_GUARD = GAS_CALL_STIPEND  # EIP-2200: SSTORE needs more than this left

# alt_bn128 (EIP-196, EIP-197), priced by EIP-1108 (literals in the spec's alt_bn128.py).
GAS_BN254_ADD = 150
GAS_BN254_MUL = 6_000
GAS_BN254_PAIRING = 45_000
GAS_BN254_PAIRING_PER_PAIR = 34_000
# MODEXP, priced by EIP-2565 (in the spec's modexp.py).
GAS_MODEXP_MINIMUM = 200
GAS_MODEXP_DIVISOR = 3  # EIP-198's GQUADDIVISOR, as EIP-2565 sets it

# The chain carries no blobs (EIP-4844), but BLOBBASEFEE and the state tests still price them.
MIN_BLOB_GASPRICE = 1
BLOB_BASE_FEE_UPDATE_FRACTION = 3_338_477

MAX_REFUND_QUOTIENT = 5  # EIP-3529


@dataclass(frozen=True, slots=True)
class ExtendMemory:
    """Cost and size increase of growing memory to cover some ranges."""

    cost: int
    expand_by: int


@dataclass(frozen=True, slots=True)
class MessageCallGas:
    """Gas charged for a CALL-family opcode and the gas handed to the callee."""

    cost: int
    stipend: int


def charge_gas(evm: Evm, amount: int) -> None:
    """Subtract `amount` from the frame's gas.

    Raises:
        OutOfGasError: not enough gas left.
    """
    left = evm.gas_left - amount
    if left < 0:
        raise OutOfGasError(f"out of gas: need {amount}", amount)
    evm.gas_left = left


def memory_cost(size_in_bytes: int) -> int:
    """Yellow Paper eq. 326: 3 per word plus words² / 512."""
    words = (size_in_bytes + 31) // 32
    return GAS_MEMORY * words + words * words // 512


def calculate_memory_extend(memory_size: int, extensions: list[tuple[int, int]]) -> ExtendMemory:
    """Cost to grow memory of `memory_size` bytes to cover every (offset, size) range."""
    size_to_extend = 0
    to_be_paid = 0
    current = memory_size
    for offset, size in extensions:
        if size == 0:
            continue
        before = current
        after = ((offset + size + 31) // 32) * 32
        if after <= before:
            continue
        size_to_extend += after - before
        to_be_paid += memory_cost(after) - memory_cost(before)
        current = after
    return ExtendMemory(to_be_paid, size_to_extend)


def extend_memory(evm: Evm, offset: int, size: int) -> None:
    """Charge for and grow memory to cover `size` bytes at `offset`.

    Raises:
        OutOfGasError: not enough gas for the growth.
    """
    before = len(evm.memory)
    after = (offset + size + 31) // 32 * 32
    if size and after > before:  # calculate_memory_extend for one range, without its objects
        charge_gas(evm, memory_cost(after) - memory_cost(before))
        evm.memory += bytes(after - before)


def calculate_message_call_gas(
    value: int,
    gas: int,
    gas_left: int,
    memory_cost_: int,
    extra_gas: int,
    call_stipend: int = GAS_CALL_STIPEND,
) -> MessageCallGas:
    """EIP-150: the callee gets at most all but 1/64 of what is left (the 63/64 rule)."""
    call_stipend = 0 if value == 0 else call_stipend
    if gas_left < extra_gas + memory_cost_:
        return MessageCallGas(gas + extra_gas, gas + call_stipend)
    gas = min(gas, max_message_call_gas(gas_left - memory_cost_ - extra_gas))
    return MessageCallGas(gas + extra_gas, gas + call_stipend)


def max_message_call_gas(gas: int) -> int:
    """All but one 64th (EIP-150)."""
    return gas - gas // 64


def init_code_cost(init_code_length: int) -> int:
    """EIP-3860: 2 gas per 32-byte word of init code."""
    return GAS_INIT_CODE_WORD_COST * ((init_code_length + 31) // 32)
