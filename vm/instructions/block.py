"""BLOCKHASH … BLOBBASEFEE (spec: cancun/vm/instructions/block.py)."""

from __future__ import annotations

from vm.frame import Environment, Evm
from vm.stack import pop, push

BLOCK_HASH_WINDOW = 256  # BLOCKHASH answers for this many ancestors; nodes keep as many hashes


def ancestor_hash(env: Environment, number: int) -> bytes | None:
    """The hash of block `number` if it is one of the BLOCK_HASH_WINDOW blocks before this one
    and the node gave it to the environment, else None."""
    current = env.block.height
    hashes = env.block_hashes
    if current - BLOCK_HASH_WINDOW <= number < current and current - number <= len(hashes):
        return hashes[number - current]
    return None


def block_hash(evm: Evm) -> None:
    number = pop(evm)
    # GAS: charged by dispatch (GAS_BLOCK_HASH)
    found = ancestor_hash(evm.env, number)
    push(evm, 0 if found is None else int.from_bytes(found, "big"))
    evm.pc += 1


def coinbase(evm: Evm) -> None:
    # GAS: charged by dispatch (GAS_BASE)
    push(evm, int.from_bytes(evm.env.block.proposer, "big"))
    evm.pc += 1


def timestamp(evm: Evm) -> None:
    # GAS: charged by dispatch (GAS_BASE)
    push(evm, evm.env.block.timestamp)
    evm.pc += 1


def number(evm: Evm) -> None:
    # GAS: charged by dispatch (GAS_BASE)
    push(evm, evm.env.block.height)
    evm.pc += 1


def prev_randao(evm: Evm) -> None:
    # GAS: charged by dispatch (GAS_BASE)
    push(evm, int.from_bytes(evm.env.block.randomness, "big"))
    evm.pc += 1


def gas_limit(evm: Evm) -> None:
    # GAS: charged by dispatch (GAS_BASE)
    push(evm, evm.env.block.gas_limit)
    evm.pc += 1


def chain_id(evm: Evm) -> None:
    # GAS: charged by dispatch (GAS_BASE)
    push(evm, evm.env.block.chain_id)
    evm.pc += 1


def base_fee(evm: Evm) -> None:
    # GAS: charged by dispatch (GAS_BASE)
    push(evm, evm.env.block.base_fee)
    evm.pc += 1


def blob_hash(evm: Evm) -> None:
    index = pop(evm)
    # GAS: charged by dispatch (GAS_BLOBHASH_OPCODE)
    hashes = evm.env.tx.blob_versioned_hashes
    push(evm, int.from_bytes(hashes[index], "big") if index < len(hashes) else 0)
    evm.pc += 1


def blob_base_fee(evm: Evm) -> None:
    # GAS: charged by dispatch (GAS_BASE)
    push(evm, evm.env.block.blob_base_fee)
    evm.pc += 1
