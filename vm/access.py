"""EIP-2929 warm/cold access, shared by every opcode that touches another account or a slot.

The spec copies the warm sets into each child frame and merges them back on success; with
thousands of slots warm, that copy made every call cost ~60 µs (bench/gas_time.py). Here all
frames of a transaction share the sets, every addition is journaled on the transaction, and a
frame that fails takes back what it and its children warmed (`cool_down`): the same sets, with
no copy.
"""

from __future__ import annotations

from vm.frame import Evm
from vm.gas import GAS_COLD_ACCOUNT_ACCESS, GAS_WARM_ACCESS


def access_cost(evm: Evm, address: bytes) -> int:
    """Warm the address; return what touching it costs now (2600 cold, 100 warm)."""
    if address in evm.accessed_addresses:
        return GAS_WARM_ACCESS
    evm.accessed_addresses.add(address)
    evm.env.tx.warmed_addresses.append(address)
    return GAS_COLD_ACCOUNT_ACCESS


def warm_slot(evm: Evm, slot: tuple[bytes, int]) -> bool:
    """Warm a storage slot; whether it was cold."""
    if slot in evm.accessed_storage_keys:
        return False
    evm.accessed_storage_keys.add(slot)
    evm.env.tx.warmed_slots.append(slot)
    return True


def cool_down(evm: Evm, child: Evm) -> None:
    """Take back what the failed `child` frame (and its children) warmed."""
    tx = evm.env.tx
    addresses, slots = tx.warmed_addresses, tx.warmed_slots
    marked_addresses, marked_slots = child.warm_marks
    while len(addresses) > marked_addresses:
        evm.accessed_addresses.discard(addresses.pop())
    while len(slots) > marked_slots:
        evm.accessed_storage_keys.discard(slots.pop())


def to_address(word: int) -> bytes:
    """The low 160 bits of a word as an address."""
    return (word & (2**160 - 1)).to_bytes(20, "big")
