"""What gas buys in time: the worst-case Mgas/s of every opcode and precompile (issue 12).

    python -m bench.gas_time [--quick] [--only TEXT] [--top N] [--seed N] [--schedule cancun]

Each row is one way to spend a block's gas: a contract whose code repeats one use of an
opcode (or one call of a precompile) as many times as the 24 KiB code limit (EIP-170) allows,
in a loop, called by a real transaction against a state of tens of thousands of accounts and
storage slots whose trie is read cold, as a validator reads a block it did not build. The
timed work is `run_transaction` plus `commit_state`, what applying a block does per
transaction; the figure is the transaction's gas divided by its wall time, best of a few runs.

Each use is the slowest valid one we could construct for its price: cold accounts and slots
never touched before, operands that make the arithmetic slowest, the smallest and the largest
copies, MODEXP at the EIP-2565 corners, the most pairs, the scalars with the most bits. Opcodes
are measured on both paths of the VM: interpreted (no run ever compiled) and compiled (every
run compiled, vm/compiler.py); calls, precompiles and the rows about code that has not been
seen before run as a node runs them (runs compiled once hot). A precompile's row also shows
it alone: its own gas over its own time, without the CALL around it, which is what a repricing
of it could change; a contract reaches a precompile only through a call, so the row's worst
case is through one. The table is sorted slowest first, with the seconds a full 30M-gas block
of that row would take on one core. Rows below TARGET_MGAS (10 Mgas/s: a full block in under
3 s) are flagged.

Gas is brainchain's (vm/schedule.py), what a block of this chain pays; `--schedule cancun`
prices the same work as Ethereum does, which shows what brainchain's schedule changes.

Trie nodes come from a dict, not LevelDB, and the tries are shallower than mainnet's, so cold
state access is, if anything, cheaper here than in a node.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from random import Random

import ckzg
from eth_abi import encode

from bench.machine import banner
from brainchain.crypto import ecvrf
from brainchain.crypto.keccak import keccak256
from brainchain.crypto.secp256k1 import private_key_to_address, sign
from brainchain.state.account import Account
from brainchain.state.state import State, commit_state, set_account, set_code, set_storage
from brainchain.types.transaction import (
    MAX_CODE_SIZE,
    MAX_INIT_CODE_SIZE,
    TX_FEE_MARKET,
    sign_transaction,
)
from genesis.block import build_genesis_block
from genesis.format import Genesis, GenesisValidator
from vm.abi import selector
from vm.compiler import (
    COMPILE_GAS,
    COMPILE_GAS_PER_OPCODE,
    DEFAULT_HOT_RUN,
    program_for,
    set_hot_run,
)
from vm.environment import BlockEnvironment
from vm.frame import Environment, Message, TransactionEnvironment
from vm.gas import GAS_COLD_SLOAD
from vm.instructions.block import BLOCK_HASH_WINDOW
from vm.interpreter import process_message
from vm.opcodes import Ops
from vm.precompiles.addresses import (
    ALT_BN128_ADD_ADDRESS,
    ALT_BN128_MUL_ADDRESS,
    ALT_BN128_PAIRING_CHECK_ADDRESS,
    BLAKE2F_ADDRESS,
    COMMITTEE_ADDRESS,
    ECRECOVER_ADDRESS,
    FL_REGISTRY_ADDRESS,
    IDENTITY_ADDRESS,
    INFERENCE_ADDRESS,
    INFERENCE_SYNC_ADDRESS,
    MODEXP_ADDRESS,
    POINT_EVALUATION_ADDRESS,
    RIPEMD160_ADDRESS,
    SHA256_ADDRESS,
    VRF_ADDRESS,
)
from vm.precompiles.bn254 import bn254_mul
from vm.precompiles.errors import PrecompileFailure
from vm.precompiles.mapping import BRAIN_PRECOMPILES, PRECOMPILES
from vm.precompiles.point_evaluation import (
    BLS_MODULUS,
    FIELD_ELEMENTS_PER_BLOB,
    kzg_commitment_to_versioned_hash,
    trusted_setup,
)
from vm.runs import analyse, decode_run
from vm.schedule import BRAINCHAIN, CANCUN
from vm.transition import run_transaction

TARGET_MGAS = 10.0
MEASURABLE_S = 0.005  # a time difference well above the noise of one transaction
BLOCK_GAS = 30_000_000
MAX = 2**256 - 1
WORD = 32

KEY = bytes([9]) * 32
SENDER = private_key_to_address(KEY)
CHAIN_ID = 1337
HEIGHT = 1_000
TX_GAS = 1_000_000_000
ENV = BlockEnvironment(CHAIN_ID, HEIGHT, 1, bytes([0xAA]) * 20, TX_GAS, 7, bytes(32))
SCHEDULES = {"brainchain": BRAINCHAIN, "cancun": CANCUN}
BLOCK_HASHES = [keccak256(n.to_bytes(8, "big")) for n in range(BLOCK_HASH_WINDOW)]


def _address(tag: int, index: int = 0) -> int:
    """An address as an int: a 2-byte tag, then the index."""
    return tag << 144 | index


CONTRACT = _address(0xC0DE)  # runs the measured code; holds the storage pool
CALLEE = _address(0xCA11)  # warm call targets, one per halting opcode, by index
ACCOUNTS = _address(0xACC0)  # the cold account pool: accounts with (distinct) code
BIG_CODE = _address(0xB16C)  # the cold big-code pool: 24 KiB of distinct code each
NEW_ACCOUNTS = _address(0x0E70)  # never exist: CALL with value creates them
VALIDATOR_STAKES = (10**17, 9 * 10**17)  # bench/vrf.py's costliest committee: k = 1000
COMMITTEE_SIZE = 1_000

# --- assembling ---------------------------------------------------------------------------------


def push(value: int, width: int = 0) -> bytes:
    """PUSHn of `value` in `width` bytes (the fewest that hold it when 0)."""
    width = width or max(1, (value.bit_length() + 7) // 8)
    return bytes([Ops.PUSH1 + width - 1]) + value.to_bytes(width, "big")


def asm(*parts: int | bytes) -> bytes:
    """Opcodes (ints) and pushes (bytes) in order."""
    return b"".join(p if isinstance(p, bytes) else bytes([p]) for p in parts)


def word(value: int) -> bytes:
    return value.to_bytes(WORD, "big")


def pushes(*values: int) -> bytes:
    """Push `values` so the first is on top (the order a spec opcode pops them)."""
    return b"".join(push(v) for v in reversed(values))


# Stack words the loop leaves alone: a counter an entry's setup pushes and its body advances.
NEXT = asm(push(1), Ops.ADD)


def dup_counter(depth: int) -> bytes:
    """DUP the loop's counter, which lies below `depth` words the body has pushed."""
    return bytes([Ops.DUP1 + depth])


Body = Callable[[int], bytes]  # one copy of the measured use, given the offset it starts at


@dataclass(frozen=True)
class Entry:
    """One row: a use of an opcode or precompile, repeated by the measured contract."""

    name: str
    measures: tuple[int | bytes, ...]  # the opcodes (ints) and precompiles (addresses) it uses
    body: bytes | Body
    setup: bytes = b""  # runs once first; may push the counter `body` advances
    data: bytes = b""  # call data after the iteration count
    callees: tuple[bytes, ...] = ()  # code installed at CALLEE + index
    pool: str = ""  # the cold pool each copy takes one item of: "accounts", "slots", "big"
    modes: tuple[str, ...] = ("interpreted", "compiled")
    iterations: int = 0  # a fixed iteration count (0: as many as the time target allows)
    loop_gas: int = 0  # or as many as spend about this much gas in the loop
    cold_code: bool = False  # forget every code analysis before each run

    def copy(self, offset: int) -> bytes:
        return self.body(offset) if callable(self.body) else self.body


MODES: dict[str, int | None] = {"interpreted": None, "compiled": 0, "as a node": DEFAULT_HOT_RUN}


COUNT_FROM_CALL_DATA = asm(push(0), Ops.CALLDATALOAD, push(0), Ops.MSTORE)


def program(entry: Entry, copies: int) -> bytes:
    """setup; memory[0] = iterations (call data word 0); loop: copies of the body; count down."""
    head = entry.setup + COUNT_FROM_CALL_DATA
    loop = len(head)
    code = bytearray(head + bytes([Ops.JUMPDEST]))
    for _ in range(copies):
        code += entry.copy(len(code))
    code += asm(
        push(0), Ops.MLOAD, push(1), Ops.SWAP1, Ops.SUB, Ops.DUP1, push(0), Ops.MSTORE,
        push(loop, 2), Ops.JUMPI, Ops.STOP,
    )  # fmt: skip
    return bytes(code)


def max_copies(entry: Entry) -> int:
    spare = MAX_CODE_SIZE - len(program(entry, 0))
    return max(1, spare // len(entry.copy(0)))


# --- bodies -------------------------------------------------------------------------------------


def op_with(op: int, *operands: int, results: int = 1) -> bytes:
    """Push the operands, run `op`, drop its results."""
    return pushes(*operands) + bytes([op]) + bytes([Ops.POP]) * results


def call_body(
    op: int,
    target: bytes,
    *,
    gas: int = 0xFFFF,
    value: int | None = None,
    args: tuple[int, int] = (0, 0),
    out: tuple[int, int] = (0, 0),
) -> bytes:
    """A CALL-family opcode to the address `target` pushes (it may DUP the counter: it runs
    with 4 words, 5 with a value, pushed above it); the success flag dropped."""
    head = pushes(*args, *out) + (b"" if value is None else push(value))
    return head + target + push(gas) + bytes([op, Ops.POP])


def jump_body(op: int) -> Body:
    """JUMP or JUMPI to the JUMPDEST right after it."""

    def body(offset: int) -> bytes:
        condition = push(1) if op == Ops.JUMPI else b""
        after = offset + len(condition) + 3 + 1  # PUSH2 dest, the jump, then the JUMPDEST
        return condition + push(after, 2) + bytes([op, Ops.JUMPDEST])

    return body


def touch_slots(count: int) -> bytes:
    """Setup: SLOAD slots 1..count (cold), growing the frame's access set (EIP-2929)."""
    return asm(
        push(count, 3), Ops.JUMPDEST,  # offset 4: the loop; the stack holds what is left
        Ops.DUP1, Ops.SLOAD, Ops.POP, push(1), Ops.SWAP1, Ops.SUB,
        Ops.DUP1, push(4, 2), Ops.JUMPI, Ops.POP,
    )  # fmt: skip


# --- precompile inputs --------------------------------------------------------------------------

G1_BYTES = word(1) + word(2)
# The generator of G2, each coordinate imaginary part first (EIP-197).
G2_BYTES = bytes.fromhex(
    "198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2"
    "1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed"
    "090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b"
    "12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa"
)


def g1_multiple(rng: Random) -> bytes:
    return bn254_mul(G1_BYTES + word(rng.getrandbits(250)), 6_000)[1]


def modexp_input(rng: Random, base: int, exponent: int, modulus: int) -> bytes:
    """Lengths in bytes: a random base, an exponent of all ones (the most iterations for its
    length) and a random odd modulus of full length."""
    odd_modulus = b"\xff" + rng.randbytes(modulus - 2) + b"\x01" if modulus > 1 else b"\x03"
    return (
        word(base) + word(exponent) + word(modulus)
        + rng.randbytes(base) + b"\xff" * exponent + odd_modulus
    )  # fmt: skip


def blake2f_input(rounds: int) -> bytes:
    return rounds.to_bytes(4, "big") + bytes(range(64)) + bytes(128) + bytes(16) + b"\x01"


def ecrecover_input(rng: Random) -> bytes:
    digest = keccak256(rng.randbytes(32))
    parity, r, s = sign(digest, rng.randbytes(32))
    return digest + word(27 + parity) + word(r) + word(s)


def kzg_input(rng: Random) -> bytes:
    """A valid KZG opening for POINT EVALUATION: a random blob's commitment, and its proof of
    the value at a random point (EIP-4844's input layout)."""
    setup = trusted_setup()
    blob = b"".join(word(rng.randrange(BLS_MODULUS)) for _ in range(FIELD_ELEMENTS_PER_BLOB))
    commitment = ckzg.blob_to_kzg_commitment(blob, setup)
    z = word(rng.randrange(BLS_MODULUS))
    proof, y = ckzg.compute_kzg_proof(blob, z, setup)
    return kzg_commitment_to_versioned_hash(commitment) + z + y + commitment + proof


def slowest_alpha(rng: Random, public_key: bytes, tries: int) -> bytes:
    """Of `tries` random 32-byte alphas, one whose hash to the curve takes the most rounds
    (RFC 9381 §5.4.1.1): what a caller who searches a little pays for."""
    alphas = [rng.randbytes(32) for _ in range(tries)]
    return max(alphas, key=lambda alpha: ecvrf.encode_to_curve(public_key, alpha)[1])


@dataclass
class Fixtures:
    """The keys and inputs the BRAIN precompile rows need, and the genesis behind COMMITTEE."""

    genesis: Genesis
    vrf_call: bytes
    committee_call: bytes


def brain_fixtures(rng: Random) -> Fixtures:
    keys = [rng.randbytes(ecvrf.SECRET_KEY_BYTES) for _ in VALIDATOR_STAKES]
    validators = tuple(
        GenesisValidator(f"v{i}", bytes([i + 1]) * 20, bytes(32), ecvrf.public_key(sk), stake)
        for i, (sk, stake) in enumerate(zip(keys, VALIDATOR_STAKES, strict=True))
    )
    genesis = Genesis(CHAIN_ID, 0, TX_GAS, 7, validators, (), {"committee_size": COMMITTEE_SIZE})
    public = ecvrf.public_key(keys[0])
    alpha = slowest_alpha(rng, public, 256)
    proof = ecvrf.prove(keys[0], alpha)
    vrf_call = selector("verify(bytes32,bytes,bytes)") + encode(
        ["bytes32", "bytes", "bytes"], [public, alpha, proof]
    )
    committee_call = selector("isMember(address,bytes32,bytes)") + encode(
        ["address", "bytes32", "bytes"], [validators[0].address, alpha, proof]
    )
    return Fixtures(genesis, vrf_call, committee_call)


# --- the rows -----------------------------------------------------------------------------------

NEG_BIG = 2**255 + 1  # -(2**255 - 1): the signed opcodes' most negative work
BINARY_OPERANDS: dict[int, tuple[int, int]] = {
    Ops.DIV: (MAX, 2**128 + 1),  # a long division by a 129-bit divisor
    Ops.MOD: (MAX, 2**128 + 1),
    Ops.SDIV: (NEG_BIG, 2**256 - 2**128 - 1),
    Ops.SMOD: (NEG_BIG, 2**256 - 2**128 - 1),
    Ops.SIGNEXTEND: (30, MAX),
    Ops.BYTE: (31, MAX),
    Ops.SHL: (255, MAX),
    Ops.SHR: (255, MAX),
    Ops.SAR: (255, NEG_BIG),
}
BINARY = (
    Ops.ADD, Ops.MUL, Ops.SUB, Ops.DIV, Ops.SDIV, Ops.MOD, Ops.SMOD, Ops.SIGNEXTEND, Ops.LT,
    Ops.GT, Ops.SLT, Ops.SGT, Ops.EQ, Ops.AND, Ops.OR, Ops.XOR, Ops.BYTE, Ops.SHL, Ops.SHR,
    Ops.SAR,
)  # fmt: skip
PRODUCERS = (
    Ops.ADDRESS, Ops.ORIGIN, Ops.CALLER, Ops.CALLVALUE, Ops.CALLDATASIZE, Ops.CODESIZE,
    Ops.GASPRICE, Ops.RETURNDATASIZE, Ops.COINBASE, Ops.TIMESTAMP, Ops.NUMBER, Ops.PREVRANDAO,
    Ops.GASLIMIT, Ops.CHAINID, Ops.SELFBALANCE, Ops.BASEFEE, Ops.BLOBBASEFEE, Ops.PC,
    Ops.MSIZE, Ops.GAS,
)  # fmt: skip
COPY_SIZES = (32, 1024)
MEMORY = 64  # where bodies read and write memory: word 0 counts iterations
INIT_24K = asm(push(MAX_CODE_SIZE, 2), push(0), Ops.RETURN)  # returns 24 KiB of zeros


def opcode_entries() -> list[Entry]:
    e: list[Entry] = []
    for op in BINARY:
        a, b = BINARY_OPERANDS.get(op, (MAX, MAX - 1))
        e.append(Entry(op.name, (op,), op_with(op, a, b)))
    for op in (Ops.ADDMOD, Ops.MULMOD):
        e.append(Entry(op.name, (op,), op_with(op, MAX, MAX - 1, MAX - 2)))
    e.append(Entry("EXP, 32-byte exponent", (Ops.EXP,), op_with(Ops.EXP, MAX - 1, MAX)))
    e.append(Entry("EXP, 1-byte exponent", (Ops.EXP,), op_with(Ops.EXP, MAX - 1, 0xFF)))
    for op in (Ops.ISZERO, Ops.NOT):
        e.append(Entry(op.name, (op,), op_with(op, MAX)))
    for size in (0, 32, 1024):
        e.append(
            Entry(f"KECCAK256 of {size} bytes", (Ops.KECCAK,), op_with(Ops.KECCAK, MEMORY, size))
        )
    for op in PRODUCERS:
        e.append(Entry(op.name, (op,), bytes([op, Ops.POP])))
    e.append(Entry("PUSH0", (Ops.PUSH0,), bytes([Ops.PUSH0, Ops.POP])))
    for n in range(1, 33):
        op = Ops.PUSH1 + n - 1
        e.append(Entry(f"PUSH{n}", (op,), push(MAX >> (256 - 8 * n), n) + bytes([Ops.POP])))
    sixteen = push(1) * 16
    for n in range(1, 17):
        e.append(Entry(f"DUP{n}", (Ops.DUP1 + n - 1,), bytes([Ops.DUP1 + n - 1, Ops.POP]), sixteen))
        e.append(
            Entry(f"SWAP{n}", (Ops.SWAP1 + n - 1,), bytes([Ops.SWAP1 + n - 1]), sixteen + push(1))
        )
    e.append(Entry("POP", (Ops.POP,), bytes([Ops.PUSH0, Ops.POP])))
    e.append(Entry("JUMPDEST", (Ops.JUMPDEST,), bytes([Ops.JUMPDEST])))
    e.append(Entry("JUMP", (Ops.JUMP,), jump_body(Ops.JUMP)))
    e.append(Entry("JUMPI", (Ops.JUMPI,), jump_body(Ops.JUMPI)))
    e.append(Entry("CALLDATALOAD", (Ops.CALLDATALOAD,), op_with(Ops.CALLDATALOAD, 0)))
    e.append(Entry("BLOCKHASH", (Ops.BLOCKHASH,), op_with(Ops.BLOCKHASH, HEIGHT - 1)))
    e.append(Entry("BLOBHASH", (Ops.BLOBHASH,), op_with(Ops.BLOBHASH, 0)))
    e.append(Entry("MLOAD", (Ops.MLOAD,), op_with(Ops.MLOAD, MEMORY)))
    e.append(Entry("MSTORE", (Ops.MSTORE,), op_with(Ops.MSTORE, MEMORY, MAX, results=0)))
    e.append(Entry("MSTORE8", (Ops.MSTORE8,), op_with(Ops.MSTORE8, MEMORY, MAX, results=0)))
    e.append(
        Entry(
            "MSTORE, memory growing a word each",
            (Ops.MSTORE,),
            asm(push(1), Ops.DUP2, Ops.MSTORE, push(WORD), Ops.ADD),
            setup=push(MEMORY),
        )
    )
    returns_1k = call_body(Ops.STATICCALL, push(IDENTITY_ADDRESS[-1]), args=(MEMORY, 1024))
    for size in COPY_SIZES:
        copy = (MEMORY + 2048, 0, size)  # destination, source, size
        e.append(
            Entry(
                f"CALLDATACOPY {size} bytes",
                (Ops.CALLDATACOPY,),
                op_with(Ops.CALLDATACOPY, *copy, results=0),
                data=bytes(1024),
            )
        )
        e.append(
            Entry(
                f"CODECOPY {size} bytes", (Ops.CODECOPY,), op_with(Ops.CODECOPY, *copy, results=0)
            )
        )
        e.append(Entry(f"MCOPY {size} bytes", (Ops.MCOPY,), op_with(Ops.MCOPY, *copy, results=0)))
        e.append(
            Entry(
                f"RETURNDATACOPY {size} bytes",
                (Ops.RETURNDATACOPY,),
                op_with(Ops.RETURNDATACOPY, *copy, results=0),
                setup=returns_1k,
            )
        )
    for n in range(5):
        op = Ops.LOG0 + n
        for size in (0, 1024):
            topics = [MAX] * n
            e.append(
                Entry(f"LOG{n}, {size} bytes", (op,), op_with(op, MEMORY, size, *topics, results=0))
            )
    e.append(Entry("TLOAD", (Ops.TLOAD,), op_with(Ops.TLOAD, 1)))
    e.append(Entry("TSTORE", (Ops.TSTORE,), op_with(Ops.TSTORE, 1, 1, results=0)))
    return e


def state_entries() -> list[Entry]:
    """Opcodes whose price is mostly state access (EIP-2929: cold 2,600/2,100, warm 100)."""
    e: list[Entry] = []
    for op in (Ops.BALANCE, Ops.EXTCODESIZE, Ops.EXTCODEHASH):
        e.append(
            Entry(
                f"{op.name}, cold account",
                (op,),
                asm(Ops.DUP1, op, Ops.POP) + NEXT,
                push(ACCOUNTS, 20),
                pool="accounts",
            )
        )
        e.append(Entry(f"{op.name}, warm account", (op,), asm(Ops.ADDRESS, op, Ops.POP)))
    e.append(
        Entry(
            "EXTCODECOPY 32 bytes, cold account",
            (Ops.EXTCODECOPY,),
            pushes(MEMORY, 0, 32) + dup_counter(3) + bytes([Ops.EXTCODECOPY]) + NEXT,
            push(ACCOUNTS, 20),
            pool="accounts",
        )
    )
    e.append(
        Entry(
            "EXTCODECOPY 24 KiB, warm account",
            (Ops.EXTCODECOPY,),
            pushes(MEMORY, 0, MAX_CODE_SIZE) + asm(Ops.ADDRESS, Ops.EXTCODECOPY),
        )
    )
    e.append(
        Entry(
            "SLOAD, cold slot",
            (Ops.SLOAD,),
            asm(Ops.DUP1, Ops.SLOAD, Ops.POP) + NEXT,
            push(1),
            pool="slots",
        )
    )
    e.append(Entry("SLOAD, warm slot", (Ops.SLOAD,), op_with(Ops.SLOAD, 1)))
    sstore = (Ops.SSTORE,)
    e.append(
        Entry(
            "SSTORE, cold slot, changed",
            sstore,
            push(MAX) + asm(Ops.DUP2, Ops.SSTORE) + NEXT,
            push(1),
            pool="slots",
        )
    )
    e.append(
        Entry(
            "SSTORE, cold slot, cleared (refund)",
            sstore,
            push(0) + asm(Ops.DUP2, Ops.SSTORE) + NEXT,
            push(1),
            pool="slots",
        )
    )
    e.append(
        Entry(
            "SSTORE, cold empty slot set",
            sstore,
            push(MAX) + asm(Ops.DUP2, Ops.SSTORE) + NEXT,
            push(2**64),
        )
    )
    e.append(Entry("SSTORE, warm slot, unchanged", sstore, op_with(Ops.SSTORE, 1, 1, results=0)))
    e.append(
        Entry(
            "SSTORE, warm dirty slot, twice",
            sstore,
            op_with(Ops.SSTORE, 1, 2, results=0) + op_with(Ops.SSTORE, 1, 3, results=0),
        )
    )
    return e


def system_entries(touched: int) -> list[Entry]:
    """Calls, creations and the halting opcodes (each halts a frame, so each runs in a callee).

    `touched`: cold slots read before a loop of calls, growing the access set (EIP-2929) that
    every call once copied; a block is worst with about half its gas spent on each.
    """
    e: list[Entry] = []
    default = ("as a node",)
    callees = {
        "STOP": asm(Ops.STOP),
        "RETURN": asm(push(32), push(0), Ops.RETURN),
        "REVERT": asm(push(32), push(0), Ops.REVERT),
        "INVALID": asm(Ops.INVALID),
        "SELFDESTRUCT": asm(Ops.CALLER, Ops.SELFDESTRUCT),
    }
    codes = tuple(callees.values())
    for index, (name, _) in enumerate(callees.items()):
        target = push(CALLEE + index, 20)
        gas = 0 if name == "INVALID" else 0xFFFF  # INVALID burns what it is given
        e.append(
            Entry(
                f"{name} in a called frame (CALL, warm)",
                (Ops.CALL, Ops[name]),
                call_body(Ops.CALL, target, gas=gas, value=0, out=(MEMORY, 32)),
                callees=codes,
                modes=default,
            )
        )
    stop = push(CALLEE, 20)
    for op in (Ops.CALLCODE, Ops.DELEGATECALL, Ops.STATICCALL):
        value = 0 if op == Ops.CALLCODE else None  # CALLCODE's stack has a value
        e.append(
            Entry(
                f"{op.name}, warm, to STOP",
                (op,),
                call_body(op, stop, value=value),
                callees=codes,
                modes=default,
            )
        )
    e.append(
        Entry(
            "CALL, cold account with code",
            (Ops.CALL,),
            call_body(Ops.CALL, dup_counter(5), gas=100, value=0) + NEXT,
            push(ACCOUNTS, 20),
            pool="accounts",
            modes=default,
        )
    )
    e.append(
        Entry(
            "CALL, 1 wei to a new account",
            (Ops.CALL,),
            call_body(Ops.CALL, dup_counter(5), gas=0, value=1) + NEXT,
            push(NEW_ACCOUNTS, 20),
            modes=default,
        )
    )
    # New code: with too little gas for its analysis (vm/schedule.py CODE_WORD_GAS) the callee
    # halts before it; with enough, it is analysed and runs its first opcode, a STOP.
    for name, gas in (("out of gas before its analysis", 100), ("analysed", 0xFFFF)):
        e.append(
            Entry(
                f"CALL, cold 24 KiB code never seen, {name}",
                (Ops.CALL,),
                call_body(Ops.CALL, dup_counter(5), gas=gas, value=0) + NEXT,
                push(BIG_CODE, 20),
                pool="big",
                modes=default,
                cold_code=True,
            )
        )
    e.append(
        Entry(
            f"STATICCALL, warm, after {touched:,} cold SLOADs",
            (Ops.STATICCALL,),
            call_body(Ops.STATICCALL, stop),
            setup=touch_slots(touched),
            callees=codes,
            modes=default,
            loop_gas=touched * (GAS_COLD_SLOAD + 10),
        )
    )
    init = int.from_bytes(INIT_24K.ljust(WORD, b"\0"), "big")  # the init code, left-aligned
    store_init = push(init, WORD) + push(MEMORY) + bytes([Ops.MSTORE])
    e.append(
        Entry("CREATE, empty init code", (Ops.CREATE,), op_with(Ops.CREATE, 0, 0, 0), modes=default)
    )
    e.append(
        Entry(
            "CREATE2, empty init code",
            (Ops.CREATE2,),
            asm(Ops.DUP1, push(0), push(0), push(0), Ops.CREATE2, Ops.POP) + NEXT,
            push(0),
            modes=default,
        )
    )
    e.append(
        Entry(
            "CREATE, deploying 24 KiB",
            (Ops.CREATE,),
            op_with(Ops.CREATE, 0, MEMORY, len(INIT_24K)),
            setup=store_init,
            modes=default,
        )
    )
    # 48 KiB of init code (EIP-3860's limit): two copies of a big-code account's STOP and
    # JUMPDESTs, made new for each CREATE by writing the counter over its first bytes.
    big = push(BIG_CODE, 20)
    copy_big = b"".join(
        pushes(MEMORY + half, 0, MAX_CODE_SIZE) + big + bytes([Ops.EXTCODECOPY])
        for half in (0, MAX_CODE_SIZE)
    )
    stamp = asm(Ops.DUP1, push(MEMORY + 6 - WORD), Ops.MSTORE)  # counter → bytes 0..5: STOP first
    e.append(
        Entry(
            "CREATE, 48 KiB init code never seen (analysis)",
            (Ops.CREATE,),
            stamp + op_with(Ops.CREATE, 0, MEMORY, MAX_INIT_CODE_SIZE) + NEXT,
            setup=copy_big + push(1),
            modes=default,
            cold_code=True,
        )
    )
    return e


def compile_point(entry: Entry) -> int:
    """Executions of a copy's run after which the VM has compiled it: hot, and its constant gas
    has paid for compiling (vm/compiler.py `Program.warm`), with a spare execution or two."""
    run = decode_run(
        program(entry, 2), len(entry.setup + COUNT_FROM_CALL_DATA) + 1, ENV.schedule.static_gas
    )
    cost = COMPILE_GAS + COMPILE_GAS_PER_OPCODE * len(run.instructions)
    return max(DEFAULT_HOT_RUN, -(-cost // max(1, run.static_gas))) + 2


def code_entries() -> list[Entry]:
    """Code the VM has not compiled yet, run just past the point where each run is compiled:
    the compiling is work that only the runs' own gas pays for."""
    rows = [
        Entry(
            f"compiling runs of {name}, each run to its compile point",
            (Ops.JUMPDEST,),
            bytes([Ops.JUMPDEST]) + body,
            modes=("as a node",),
            cold_code=True,
        )
        for name, body in (
            ("1 opcode", b""),
            ("17 opcodes", asm(push(1), push(1), Ops.ADD, Ops.POP) * 4),
            ("65 opcodes", asm(push(1), push(1), Ops.ADD, Ops.POP) * 16),
        )
    ]
    return [replace(row, iterations=compile_point(row)) for row in rows]


def precompile_entries(rng: Random, fixtures: Fixtures) -> list[Entry]:
    def call(name: str, address: bytes, data: bytes, gas: int = 0xFFFFFFFF) -> Entry:
        size = len(data)
        setup = pushes(MEMORY, WORD, size) + bytes([Ops.CALLDATACOPY])  # the input → memory
        target = push(int.from_bytes(address, "big"), max(1, len(address.lstrip(b"\0"))))
        body = call_body(
            Ops.STATICCALL, target, gas=gas, args=(MEMORY, size), out=(MEMORY + size, 64)
        )
        return Entry(name, (address,), body, setup, data, modes=("as a node",))

    pairs = [g1_multiple(rng) + G2_BYTES for _ in range(8)]
    e = [
        call("ECRECOVER", ECRECOVER_ADDRESS, ecrecover_input(rng)),
        call("POINT_EVALUATION, a valid opening", POINT_EVALUATION_ADDRESS, kzg_input(rng)),
        call("BN254 ADD", ALT_BN128_ADD_ADDRESS, g1_multiple(rng) + g1_multiple(rng)),
        call("BN254 MUL, 256-bit scalar", ALT_BN128_MUL_ADDRESS, g1_multiple(rng) + word(MAX)),
        call("VRF verify, slowest of 256 alphas", VRF_ADDRESS, fixtures.vrf_call),
        call("COMMITTEE isMember, k=1000", COMMITTEE_ADDRESS, fixtures.committee_call),
    ]
    for n in (1, 2, 8):
        e.append(
            call(f"BN254 PAIRING, {n} pairs", ALT_BN128_PAIRING_CHECK_ADDRESS, b"".join(pairs[:n]))
        )
    for size in (0, 1024):
        for name, address in (
            ("SHA256", SHA256_ADDRESS),
            ("RIPEMD160", RIPEMD160_ADDRESS),
            ("IDENTITY", IDENTITY_ADDRESS),
        ):
            e.append(call(f"{name}, {size} bytes", address, bytes(size)))
    for rounds in (0, 12, 1 << 20):
        e.append(call(f"BLAKE2F, {rounds} rounds", BLAKE2F_ADDRESS, blake2f_input(rounds)))
    # EIP-2565 corners: (base, exponent, modulus) lengths in bytes.
    for lengths in (
        (8, 32, 8),
        (8, 1024, 8),
        (32, 32, 32),
        (64, 64, 64),
        (256, 256, 256),
        (512, 32, 512),
        (1024, 32, 1024),
    ):
        e.append(
            call(
                "MODEXP, lengths {}/{}/{}".format(*lengths),
                MODEXP_ADDRESS,
                modexp_input(rng, *lengths),
            )
        )
    return e


UNMEASURED = {
    INFERENCE_ADDRESS: "INFERENCE: storage reads and writes priced as such, no computation",
    FL_REGISTRY_ADDRESS: "FL_REGISTRY: storage and COMMITTEE's VRF check, priced as INFERENCE's",
    INFERENCE_SYNC_ADDRESS: "INFERENCE_SYNC: runs a model; measured by bench/inference_load.py",
}


def check_coverage(entries: list[Entry]) -> None:
    """Every opcode and precompile has a row (or a reason in UNMEASURED)."""
    measured = {m for entry in entries for m in entry.measures}
    missing = [op.name for op in Ops if op not in measured]
    missing += [
        a.hex()
        for a in [*PRECOMPILES, *BRAIN_PRECOMPILES]
        if a not in measured and a not in UNMEASURED
    ]
    if missing:
        raise SystemExit(f"no row measures: {', '.join(missing)}")


# --- the state ----------------------------------------------------------------------------------


@dataclass
class World:
    """Trie nodes and code of a state with the cold pools in it, and how big each pool is."""

    db: dict[bytes, bytes]
    codes: dict[bytes, bytes]
    root: bytes
    pools: dict[str, int]
    # (program, callees) → the root with them installed
    installed: dict[tuple[bytes, tuple[bytes, ...]], bytes] = field(default_factory=dict)

    def state(self, root: bytes) -> State:
        """A state at `root` that has read nothing yet: every account and slot is cold."""
        return State(self.db, root, self.codes)

    def commit(self, state: State) -> bytes:
        root, nodes, code = commit_state(state)
        self.db.update(nodes)
        self.codes.update(code)
        return root


def build_world(fixtures: Fixtures, accounts: int, slots: int, big: int) -> World:
    world = World({}, {}, b"", {"accounts": accounts, "slots": slots, "big": big})
    state = State(world.db, code_db=world.codes)
    world.db.update(build_genesis_block(fixtures.genesis, state)[1])  # COMMITTEE's registry
    set_account(state, SENDER, Account(balance=10**30))
    contract = CONTRACT.to_bytes(20, "big")
    set_account(state, contract, Account(nonce=1, balance=10**18))
    for key in range(1, slots + 1):
        set_storage(state, contract, key, key)
    for i in range(accounts):
        address = (ACCOUNTS + i).to_bytes(20, "big")
        set_account(state, address, Account(nonce=1, balance=1))
        set_code(state, address, push(i, 4) + bytes([Ops.STOP]))
    padding = bytes([Ops.JUMPDEST]) * (MAX_CODE_SIZE - 6)
    for i in range(big):  # STOP first: a call pays for the analysis, not for running it
        address = (BIG_CODE + i).to_bytes(20, "big")
        set_account(state, address, Account(nonce=1))
        set_code(state, address, bytes([Ops.STOP]) + push(i, 4) + padding)
    world.root = world.commit(state)
    return world


def install(world: World, entry: Entry, code: bytes) -> bytes:
    """The root of the world with `code` at CONTRACT and the entry's callees installed."""
    key = (code, entry.callees)
    root = world.installed.get(key)
    if root is None:
        state = world.state(world.root)
        set_code(state, CONTRACT.to_bytes(20, "big"), code)
        for index, callee in enumerate(entry.callees):
            address = (CALLEE + index).to_bytes(20, "big")
            set_account(state, address, Account(nonce=1))
            set_code(state, address, callee)
        root = world.installed[key] = world.commit(state)
    return root


# --- measuring ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    target_s: float  # wall time of one timed run
    repeat: int  # timed runs; the best counts
    probe_gas: int  # gas of the run that estimates the rate
    iteration_gas: int  # gas of one pass of the loop, at most (unless one copy costs more)


def run_once(world: World, entry: Entry, code: bytes, iterations: int) -> tuple[int, float]:
    """Gas used and seconds of one transaction running `iterations` passes of `code`."""
    root = install(world, entry, code)
    tx = sign_transaction(
        private_key=KEY, tx_type=TX_FEE_MARKET, chain_id=CHAIN_ID, nonce=0, gas=TX_GAS,
        to=CONTRACT.to_bytes(20, "big"), value=0, data=word(iterations) + entry.data,
        max_fee_per_gas=100, max_priority_fee_per_gas=1,
    )  # fmt: skip
    state = world.state(root)
    if entry.cold_code:
        analyse.cache_clear()
        program_for.cache_clear()
    start = time.perf_counter()
    result = run_transaction(state, ENV, tx, 0, BLOCK_HASHES)
    commit_state(state)
    seconds = time.perf_counter() - start
    if result.error is not None:
        raise SystemExit(f"{entry.name}: the measured transaction failed: {result.error!r}")
    return result.receipt.gas_used, seconds


@dataclass(frozen=True)
class Row:
    entry: Entry
    gas_per_use: int
    rates: dict[str, float]  # mode (or "precompile alone") → Mgas/s

    @property
    def worst(self) -> float:
        """The slowest way a block can spend gas on this row: every mode, not the precompile
        alone (no block can call it without a frame around it)."""
        return min(rate for mode, rate in self.rates.items() if mode in MODES)


def measure(world: World, entry: Entry, mode: str, settings: Settings) -> tuple[int, float]:
    """Gas per use and Mgas/s of `entry` in `mode` (see the module docstring)."""
    set_hot_run(MODES[mode])
    pool = world.pools.get(entry.pool, 0) if entry.pool else 0
    # One copy, one and two passes: the gas of a pass, hence how many copies fill one; a slow
    # use (a copy that takes clearly measurable time) gets fewer, for a pass that is short.
    one = program(entry, 1)
    (gas_one, seconds_one), (gas_two, seconds_two) = (  # same gas twice: the faster counts
        min(run_once(world, entry, one, passes) for _ in range(2)) for passes in (1, 2)
    )
    gas_per_copy = max(gas_two - gas_one, 1)
    copies = min(max_copies(entry), max(1, settings.iteration_gas // gas_per_copy))
    if seconds_two - seconds_one > MEASURABLE_S:
        copies = min(copies, max(1, int(settings.target_s / 4 / (seconds_two - seconds_one))))
    if pool:
        copies = min(copies, max(1, pool // 2))
    if entry.iterations:  # a fixed count: keep the whole run to about iteration_gas
        copies = min(copies, max(1, settings.iteration_gas // (entry.iterations * gas_per_copy)))
    code = program(entry, copies)
    first = run_once(world, entry, code, 1)[0]
    per_pass = run_once(world, entry, code, 2)[0] - first
    most = min(pool // copies if pool else sys.maxsize, TX_GAS // 2 // max(per_pass, 1))
    if entry.iterations:
        iterations = entry.iterations
    elif entry.loop_gas:
        iterations = max(1, entry.loop_gas // max(per_pass, 1))
    else:
        probe = min(most, max(1, settings.probe_gas // max(per_pass, 1)))
        gas, seconds = run_once(world, entry, code, probe)
        wanted = settings.target_s * gas / seconds
        iterations = min(most, max(1, round((wanted - first + per_pass) / max(per_pass, 1))))
    best_gas, best = 0, float("inf")
    for _ in range(settings.repeat):
        gc.collect()  # no collection of earlier garbage inside the timed run
        gas, seconds = run_once(world, entry, code, iterations)
        if seconds < best:
            best_gas, best = gas, seconds
    return max(1, per_pass // copies), best_gas / best / 1e6


def alone(world: World, entry: Entry, settings: Settings) -> float | None:
    """Mgas/s of the precompile an entry calls, by itself: its own gas over its own time, with
    no call around it (so what a repricing of it could change). None when it is free or
    refuses by design."""
    address = next(m for m in entry.measures if isinstance(m, bytes))
    if address in PRECOMPILES:
        function = PRECOMPILES[address]

        def run() -> int:
            return function(entry.data, TX_GAS)[0]

    else:  # BRAIN's run on a frame, against the state (COMMITTEE reads its registry)
        tx = TransactionEnvironment(SENDER, ENV.base_fee, TX_GAS, set(), set())
        env = Environment(world.state(world.root), ENV, tx, BLOCK_HASHES)

        def run() -> int:
            message = Message(
                SENDER, address, address, TX_GAS, 0, entry.data, address, b"", 1, False, True,
                set(), set(),
            )  # fmt: skip
            evm = process_message(message, env)
            if evm.error is not None:
                raise PrecompileFailure(str(evm.error))
            return TX_GAS - evm.gas_left

    try:
        if run() == 0:  # free (BLAKE2F with no rounds): only the call around it is paid
            return None
    except PrecompileFailure as failure:
        raise SystemExit(f"{entry.name}: the precompile refuses the input: {failure}") from None
    best = 0.0
    for _ in range(settings.repeat):
        count, gas, start = 0, 0, time.perf_counter()
        while count == 0 or time.perf_counter() - start < settings.target_s / 4:
            gas += run()
            count += 1
        best = max(best, gas / (time.perf_counter() - start) / 1e6)
    return best


COLUMNS = (*MODES, "precompile alone")


def table(rows: list[Row], top: int) -> str:
    modes = [m for m in COLUMNS if any(m in row.rates for row in rows)]
    lines = [
        f"{'':2}{'row':52} {'gas/use':>10} "
        + " ".join(f"{m + ' Mgas/s':>20}" for m in modes)
        + f" {'30M-gas block':>14}"
    ]
    for row in sorted(rows, key=lambda r: r.worst)[:top]:
        flag = "!" if row.worst < TARGET_MGAS else " "
        rates = " ".join(f"{row.rates[m]:20.2f}" if m in row.rates else f"{'':20}" for m in modes)
        block = BLOCK_GAS / (row.worst * 1e6)
        lines.append(f"{flag:2}{row.entry.name:52} {row.gas_per_use:10,} {rates} {block:13.2f}s")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small state, short runs, no repeat")
    parser.add_argument("--only", default="", help="measure only rows whose name has this text")
    parser.add_argument("--top", type=int, default=0, help="print only the N slowest rows")
    parser.add_argument("--seed", type=int, default=1, help="seeds keys, points and inputs")
    parser.add_argument(
        "--schedule", choices=SCHEDULES, default="brainchain", help="the gas schedule that prices"
    )
    args = parser.parse_args()
    global ENV
    ENV = replace(ENV, schedule=SCHEDULES[args.schedule])
    if args.quick:
        settings, sizes, touched = Settings(0.03, 1, 100_000, 200_000), (5_000, 10_000, 100), 1_500
    else:
        settings, sizes, touched = (
            Settings(0.1, 3, 200_000, 1_000_000),
            (50_000, 50_000, 1_000),
            7_000,
        )
    rng = Random(args.seed)
    print(
        banner(
            f"one thread; {sizes[0]:,} cold accounts, {sizes[1]:,} cold slots; "
            f"{ENV.schedule.name} gas"
        )
    )
    fixtures = brain_fixtures(rng)
    entries = [
        *opcode_entries(),
        *state_entries(),
        *system_entries(touched),
        *code_entries(),
        *precompile_entries(rng, fixtures),
    ]
    check_coverage(entries)
    entries = [entry for entry in entries if args.only.lower() in entry.name.lower()]
    start = time.perf_counter()
    world = build_world(fixtures, *sizes)
    print(f"state built in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    rows = []
    for entry in entries:
        rates, gas_per_use = {}, 0
        for mode in entry.modes:
            gas_per_use, rates[mode] = measure(world, entry, mode, settings)
        if any(isinstance(m, bytes) for m in entry.measures):
            rate = alone(world, entry, settings)
            if rate is not None:
                rates["precompile alone"] = rate
        rows.append(Row(entry, gas_per_use, rates))
        figures = ", ".join(f"{mode} {rate:.2f}" for mode, rate in rates.items())
        print(f"{entry.name}: {figures} Mgas/s", file=sys.stderr, flush=True)
    set_hot_run(DEFAULT_HOT_RUN)
    print(table(rows, args.top or len(rows)))
    slow = [row for row in rows if row.worst < TARGET_MGAS]
    print(
        f"{len(slow)} of {len(rows)} rows below {TARGET_MGAS:g} Mgas/s; slowest: "
        f"{BLOCK_GAS / (min(r.worst for r in rows) * 1e6):.2f} s per 30M-gas block"
    )
    for reason in UNMEASURED.values():
        print(f"not measured: {reason}")
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
