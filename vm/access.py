"""EIP-2929 warm/cold account access, shared by every opcode that touches another account."""

from __future__ import annotations

from vm.frame import Evm
from vm.gas import GAS_COLD_ACCOUNT_ACCESS, GAS_WARM_ACCESS


def access_cost(evm: Evm, address: bytes) -> int:
    """Warm the address; return what touching it costs now (2600 cold, 100 warm)."""
    if address in evm.accessed_addresses:
        return GAS_WARM_ACCESS
    evm.accessed_addresses.add(address)
    return GAS_COLD_ACCOUNT_ACCESS


def to_address(word: int) -> bytes:
    """The low 160 bits of a word as an address."""
    return (word & (2**160 - 1)).to_bytes(20, "big")
