"""Where INFERENCE (0x…0b03) keeps its state: its own account's storage, laid out as a Solidity
contract would lay it out, so eth_getStorageAt and eth_getProof show it.

    uint256 counter;                 // slot 0: last id (64) | height (64) | its requests (64)
    uint256 committeeSize;           // slot 1: k, the inference committee's expected weight
    uint256 commitBlocks;            // slot 2: C
    uint256 revealBlocks;            // slot 3: R
    uint256 maxCallbackGas;          // slot 4
    uint256 penalty;                 // slot 5: wei taken from a faulty member's bond
    uint256 maxRequestsPerBlock;     // slot 6: bounds the settlement work of one block
    uint256 maxMembers;              // slot 7: bounds the members of one request
    mapping(bytes32 => Model) models;             // slot 8, key keccak(model id)
    mapping(address => uint256) bonds;            // slot 9: wei (192) | pending commits (64)
    mapping(uint256 => Request) requests;         // slot 10
    mapping(uint256 => mapping(address => Commit)) commits;   // slot 11
    mapping(uint256 => mapping(bytes32 => uint256)) tally;    // slot 12: weight per output hash
    uint256 settledUpTo;                          // slot 13: every id up to it is settled

Small fields share a word where they are written together (a request's first word holds the
requester, max tokens and inclusion height), so a request, commit or reveal pays for few fresh
slots. Reads and writes go through `Slots`: the precompile meters them as SLOAD and SSTORE are
metered (`MeteredSlots`, vm/instructions/storage.py), the end-of-block settlement and genesis
write directly (`StateSlots`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from brainchain.crypto.keccak import keccak256
from brainchain.inference import Status
from brainchain.state.state import State, get_storage, set_storage
from vm.frame import Evm
from vm.instructions.storage import metered_load, metered_store
from vm.precompiles.addresses import INFERENCE_ADDRESS
from vm.precompiles.layout import WORD_BYTES, array_slot, mapping_slot

MASK_64 = 2**64 - 1
MASK_128 = 2**128 - 1

NEXT_ID_SLOT = 0
COMMITTEE_SIZE_SLOT = 1
COMMIT_BLOCKS_SLOT = 2
REVEAL_BLOCKS_SLOT = 3
MAX_CALLBACK_GAS_SLOT = 4
PENALTY_SLOT = 5
MAX_REQUESTS_PER_BLOCK_SLOT = 6
MAX_MEMBERS_SLOT = 7
MODELS_SLOT = 8
BONDS_SLOT = 9
REQUESTS_SLOT = 10
COMMITS_SLOT = 11
TALLY_SLOT = 12
SETTLED_UPTO_SLOT = 13

# Model struct: spec hash, price per token, max tokens, max input bytes, sync gas per token.
MODEL_FIELDS = 5
# Request struct words.
REQ_HEAD = 0  # requester (160) | max tokens (32) | included height (64)
REQ_MODEL = 1  # model key
REQ_MONEY = 2  # fee (128) | callback deposit (128)
# callback gas (64) | status (8) | member count (8) | finalized height (64) | committed weight (64)
REQ_STATE = 3
REQ_RESULT = 4  # keccak of the finalized output
REQ_OUTPUT = 5  # the finalized output: length here, data words at keccak(slot)
REQ_MEMBERS = 6  # members' addresses at keccak(slot) + i; their count is in REQ_STATE
# Commit struct words.
COMMIT_HASH = 0  # the commitment
COMMIT_STATE = 1  # weight (64) | revealed (1)
COMMIT_OUTPUT = 2  # keccak of the revealed output


class Slots(Protocol):
    """Word-addressed storage of the INFERENCE account."""

    def load(self, slot: int) -> int: ...

    def store(self, slot: int, value: int) -> None: ...


@dataclass(slots=True)
class MeteredSlots:
    """Storage as a contract's code sees it: each access charged as SLOAD/SSTORE would be.
    The running precompile's own account unless another is named (FL_REGISTRY locking and
    releasing the bonds INFERENCE holds)."""

    evm: Evm
    address: bytes | None = None

    def load(self, slot: int) -> int:
        return metered_load(self.evm, slot, self.address)

    def store(self, slot: int, value: int) -> None:
        metered_store(self.evm, slot, value, self.address)


@dataclass(slots=True)
class StateSlots:
    """A precompile's storage written by the protocol itself (genesis, end-of-block settlement):
    no gas. INFERENCE's unless another account is named (FL_REGISTRY's finalization)."""

    state: State
    address: bytes = INFERENCE_ADDRESS

    def load(self, slot: int) -> int:
        return get_storage(self.state, self.address, slot)

    def store(self, slot: int, value: int) -> None:
        set_storage(self.state, self.address, slot, value)


@dataclass(frozen=True, slots=True)
class ReadOnlySlots:
    """Storage read through a function (a node's view of its head state), never written."""

    read: Callable[[int], int]

    def load(self, slot: int) -> int:
        return self.read(slot)

    def store(self, slot: int, value: int) -> None:
        raise TypeError("a read-only view of the INFERENCE account: only blocks write it")


def model_key(model_id: str) -> bytes:
    """A model's key in the registry: keccak256 of its id's UTF-8 bytes, as a contract computes
    it from the string it passes to `request`."""
    return keccak256(model_id.encode())


def model_slot(key: bytes) -> int:
    return mapping_slot(key, MODELS_SLOT)


def bond_slot(member: bytes) -> int:
    """The member's bond in wei and how many of its commits await settlement, in one word: a
    commit updates a word that already holds the bond instead of filling a fresh slot."""
    return mapping_slot(member, BONDS_SLOT)


def load_bond(slots: Slots, member: bytes) -> tuple[int, int]:
    """(bond in wei, commits awaiting settlement)."""
    word = slots.load(bond_slot(member))
    return word >> 64, word & MASK_64


def store_bond(slots: Slots, member: bytes, bond: int, pending: int) -> None:
    slots.store(bond_slot(member), bond << 64 | pending)


def request_slot(request_id: int) -> int:
    return mapping_slot(request_id, REQUESTS_SLOT)


def commit_slot(request_id: int, member: bytes) -> int:
    return mapping_slot(member, mapping_slot(request_id, COMMITS_SLOT))


def tally_slot(request_id: int, output_hash: bytes) -> int:
    return mapping_slot(output_hash, mapping_slot(request_id, TALLY_SLOT))


def load_bytes(slots: Slots, slot: int) -> bytes:
    """A byte string stored as a length word and data words from keccak(slot)."""
    length = slots.load(slot)
    data = b"".join(
        slots.load(array_slot(slot, i)).to_bytes(WORD_BYTES, "big")
        for i in range((length + WORD_BYTES - 1) // WORD_BYTES)
    )
    return data[:length]


def store_bytes(slots: Slots, slot: int, data: bytes) -> None:
    """Store a byte string in a slot that held none (see `load_bytes`)."""
    slots.store(slot, len(data))
    for i in range(0, len(data), WORD_BYTES):
        chunk = data[i : i + WORD_BYTES].ljust(WORD_BYTES, b"\0")
        slots.store(array_slot(slot, i // WORD_BYTES), int.from_bytes(chunk, "big"))


@dataclass(frozen=True, slots=True)
class Params:
    """The genesis parameters of two-phase inference (genesis "brain.inference")."""

    committee_size: int
    commit_blocks: int
    reveal_blocks: int
    max_callback_gas: int
    penalty: int
    max_requests_per_block: int
    max_members: int


PARAM_SLOTS = (
    COMMITTEE_SIZE_SLOT,
    COMMIT_BLOCKS_SLOT,
    REVEAL_BLOCKS_SLOT,
    MAX_CALLBACK_GAS_SLOT,
    PENALTY_SLOT,
    MAX_REQUESTS_PER_BLOCK_SLOT,
    MAX_MEMBERS_SLOT,
)


def load_params(slots: Slots) -> Params:
    return Params(*(slots.load(slot) for slot in PARAM_SLOTS))


def store_params(slots: Slots, params: Params) -> None:
    for slot, value in zip(
        PARAM_SLOTS, (getattr(params, f) for f in Params.__slots__), strict=True
    ):
        slots.store(slot, value)


@dataclass(frozen=True, slots=True)
class Model:
    """A registered model as the precompile sees it (genesis/models.py has the whole spec)."""

    spec_hash: bytes
    price_per_token: int
    max_tokens: int
    max_input_bytes: int
    sync_gas_per_token: int


def load_model(slots: Slots, key: bytes) -> Model | None:
    """The model registered under `key`, or None."""
    base = model_slot(key)
    spec_hash = slots.load(base)
    if spec_hash == 0:
        return None
    price, max_tokens, max_input, sync_gas = (slots.load(base + i) for i in range(1, MODEL_FIELDS))
    return Model(spec_hash.to_bytes(WORD_BYTES, "big"), price, max_tokens, max_input, sync_gas)


def store_model(slots: Slots, key: bytes, model: Model) -> None:
    base = model_slot(key)
    values = (
        int.from_bytes(model.spec_hash, "big"),
        model.price_per_token,
        model.max_tokens,
        model.max_input_bytes,
        model.sync_gas_per_token,
    )
    for i, value in enumerate(values):
        slots.store(base + i, value)


@dataclass(slots=True)
class Request:
    """One request's stored fields (see the struct words above)."""

    request_id: int
    requester: bytes
    max_tokens: int
    included: int
    model_key: bytes
    fee: int
    deposit: int
    callback_gas: int
    status: Status
    finalized: int
    committed_weight: int
    members: int = 0  # how many have committed


def load_request(slots: Slots, request_id: int) -> Request | None:
    """The request, or None when no request has this id."""
    base = request_slot(request_id)
    head = slots.load(base + REQ_HEAD)
    if head == 0:
        return None
    money = slots.load(base + REQ_MONEY)
    state = slots.load(base + REQ_STATE)
    return Request(
        request_id=request_id,
        requester=(head >> 96).to_bytes(20, "big"),
        max_tokens=(head >> 64) & 0xFFFFFFFF,
        included=head & MASK_64,
        model_key=slots.load(base + REQ_MODEL).to_bytes(WORD_BYTES, "big"),
        fee=money >> 128,
        deposit=money & MASK_128,
        callback_gas=state >> 192,
        status=Status((state >> 184) & 0xFF),
        finalized=(state >> 64) & MASK_64,
        committed_weight=state & MASK_64,
        members=(state >> 176) & 0xFF,
    )


def store_request(slots: Slots, request: Request, *, new: bool = False) -> None:
    """Write the request's words; `new` writes the ones set once at request time too."""
    base = request_slot(request.request_id)
    if new:
        head = (
            int.from_bytes(request.requester, "big") << 96
            | request.max_tokens << 64
            | request.included
        )
        slots.store(base + REQ_HEAD, head)
        slots.store(base + REQ_MODEL, int.from_bytes(request.model_key, "big"))
    slots.store(base + REQ_MONEY, request.fee << 128 | request.deposit)
    slots.store(
        base + REQ_STATE,
        request.callback_gas << 192
        | int(request.status) << 184
        | request.members << 176
        | request.finalized << 64
        | request.committed_weight,
    )


@dataclass(slots=True)
class Commit:
    """One member's commit to a request, and its reveal once made."""

    commitment: bytes
    weight: int
    revealed: bool
    output_hash: bytes


def load_commit(slots: Slots, request_id: int, member: bytes) -> Commit | None:
    base = commit_slot(request_id, member)
    commitment = slots.load(base + COMMIT_HASH)
    if commitment == 0:
        return None
    state = slots.load(base + COMMIT_STATE)
    return Commit(
        commitment=commitment.to_bytes(WORD_BYTES, "big"),
        weight=state >> 1,
        revealed=bool(state & 1),
        output_hash=slots.load(base + COMMIT_OUTPUT).to_bytes(WORD_BYTES, "big")
        if state & 1
        else bytes(WORD_BYTES),
    )


def store_commit(slots: Slots, request_id: int, member: bytes, commit: Commit) -> None:
    base = commit_slot(request_id, member)
    slots.store(base + COMMIT_HASH, int.from_bytes(commit.commitment, "big"))
    slots.store(base + COMMIT_STATE, commit.weight << 1 | int(commit.revealed))
    if commit.revealed:
        slots.store(base + COMMIT_OUTPUT, int.from_bytes(commit.output_hash, "big"))


def load_counter(slots: Slots) -> tuple[int, int, int]:
    """(last request id, the height of the last request, requests made at that height): one
    word, so a request updates a warm slot once instead of filling a list per deadline."""
    word = slots.load(NEXT_ID_SLOT)
    return word >> 128, (word >> 64) & MASK_64, word & MASK_64


def store_counter(slots: Slots, last_id: int, height: int, in_block: int) -> None:
    slots.store(NEXT_ID_SLOT, last_id << 128 | height << 64 | in_block)


def members_slot(request_id: int) -> int:
    """The base slot of the request's members array (addresses in commit order)."""
    return request_slot(request_id) + REQ_MEMBERS


def load_members(slots: Slots, request: Request) -> list[bytes]:
    """The members that committed to the request, in commit order."""
    base = members_slot(request.request_id)
    return [word_address(slots.load(array_slot(base, i))) for i in range(request.members)]


def add_member(slots: Slots, request: Request, member: bytes) -> None:
    """Append a member; the caller stores the request, whose state word holds the count."""
    slots.store(array_slot(members_slot(request.request_id), request.members), address_word(member))
    request.members += 1


def address_word(address: bytes) -> int:
    return int.from_bytes(address, "big")


def word_address(word: int) -> bytes:
    return word.to_bytes(20, "big")
