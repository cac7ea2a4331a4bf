"""The genesis file: chain id, validators, funded accounts, block gas limit, base fee and BRAIN
parameters.

JSON, so people can read and edit it. Integers may be given as JSON numbers or as hex/decimal
strings (balances in wei overflow doubles). `parse_genesis` validates everything up front so a
bad file fails with one clear message before a node opens its database.

BRAIN parameters live under "brain": "committee_size", the expected committee size k of
stake-weighted sortition (DESIGN.md §5 step 2, brainchain/sortition.py), "inference", the
parameters of two-phase inference (genesis/inference.py), and "models", the model registry
(genesis/models.py). committee_size must be a positive integer no larger than half the total
stake, as the sortition's author recommends: its cost grows as k approaches the total stake W.
Absent, it is min(16, W // 2), and 1 for a total stake of 1.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from brainchain.crypto import ecvrf
from brainchain.crypto.address import parse_address, to_checksum_address
from brainchain.crypto.keccak import keccak256
from brainchain.encoding import msgpack_canon
from brainchain.errors import InvalidVrfKey
from genesis.inference import INFERENCE, MODELS, InferenceParamsError, parse_inference
from genesis.models import ModelSpec, ModelSpecError, parse_models

DEFAULT_GAS_LIMIT = 30_000_000
DEFAULT_BASE_FEE = 1_000_000_000  # 1 gwei, EIP-1559 INITIAL_BASE_FEE
COMMITTEE_SIZE = "committee_size"  # key in "brain"
DEFAULT_COMMITTEE_SIZE = 16
MAX_STAKE = 2**64 - 1  # a msgpack uint64 in the validator-set hash


class GenesisError(ValueError):
    """The genesis file is malformed; the message says where."""


@dataclass(frozen=True, slots=True)
class GenesisValidator:
    """A validator named in genesis: its account, its two ed25519 keys, and its stake."""

    name: str
    address: bytes  # secp256k1 account (sends commit/reveal transactions, earns fees)
    consensus_pubkey: bytes  # ed25519, signs votes and proposals
    vrf_pubkey: bytes  # ECVRF-EDWARDS25519-SHA512-TAI public key (RFC 9381 §5.5)
    stake: int


@dataclass(frozen=True, slots=True)
class Genesis:
    """Everything a node needs to build block 0 and check every block after it."""

    chain_id: int
    timestamp: int
    gas_limit: int
    base_fee: int
    validators: tuple[GenesisValidator, ...]
    alloc: tuple[tuple[bytes, int], ...]  # (address, balance in wei), sorted by address
    brain: dict[str, Any] = field(default_factory=dict)  # BRAIN parameters, see the docstring

    @property
    def total_stake(self) -> int:
        """W: the stake of all validators together."""
        return sum(v.stake for v in self.validators)

    @property
    def inference(self) -> dict[str, int]:
        """brain.inference with its defaults filled in (genesis/inference.py)."""
        return parse_inference(self.brain.get(INFERENCE, {}), self.total_stake)

    @property
    def models(self) -> tuple[ModelSpec, ...]:
        """The registered models, brain.models (genesis/models.py)."""
        return parse_models(self.brain.get(MODELS, []))

    @property
    def committee_size(self) -> int:
        """k: brain.committee_size, else the default of the module docstring."""
        if COMMITTEE_SIZE in self.brain:
            return int(self.brain[COMMITTEE_SIZE])
        return default_committee_size(self.total_stake)


def default_committee_size(total_stake: int) -> int:
    """min(16, W // 2), at least 1: every stake unit of a one-unit chain is its committee."""
    return max(1, min(DEFAULT_COMMITTEE_SIZE, total_stake // 2))


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise GenesisError(f"{where}: expected an integer, got {value!r}")
    if isinstance(value, int):
        result = value
    elif isinstance(value, str):
        try:
            result = int(value, 16) if value.lower().startswith("0x") else int(value)
        except ValueError:
            raise GenesisError(f"{where}: {value!r} is not an integer") from None
    else:
        raise GenesisError(f"{where}: expected an integer, got {value!r}")
    if result < 0:
        raise GenesisError(f"{where}: must not be negative")
    return result


def _hex_bytes(value: Any, size: int, where: str) -> bytes:
    try:
        raw = bytes.fromhex(str(value).removeprefix("0x"))
    except ValueError:
        raise GenesisError(f"{where}: {value!r} is not hex") from None
    if len(raw) != size:
        raise GenesisError(f"{where}: expected {size} bytes, got {len(raw)}")
    return raw


def _stake(value: Any, where: str) -> int:
    stake = _int(value, where)
    if stake > MAX_STAKE:
        raise GenesisError(f"{where}: {stake} does not fit in 64 bits")
    return stake


def _vrf_pubkey(value: Any, where: str) -> bytes:
    key = _hex_bytes(value, ecvrf.POINT_BYTES, where)
    try:
        ecvrf.validate_key(key)
    except InvalidVrfKey as exc:
        raise GenesisError(f"{where}: not a usable VRF public key: {exc.reason}") from None
    return key


def _brain(value: Any, total_stake: int) -> dict[str, Any]:
    """The "brain" object with its parameters checked and their integers normalised."""
    if not isinstance(value, dict):
        raise GenesisError("brain: expected an object")
    brain = dict(value)
    if COMMITTEE_SIZE in brain:
        k = _int(brain[COMMITTEE_SIZE], f"brain.{COMMITTEE_SIZE}")
        if k == 0:
            raise GenesisError(f"brain.{COMMITTEE_SIZE}: must be positive")
        if 2 * k > total_stake:
            raise GenesisError(
                f"brain.{COMMITTEE_SIZE}: {k} is more than half the total stake {total_stake}"
            )
        brain[COMMITTEE_SIZE] = k
    try:
        if INFERENCE in brain:
            brain[INFERENCE] = parse_inference(brain[INFERENCE], total_stake)
        parse_models(brain.get(MODELS, []))
    except (InferenceParamsError, ModelSpecError) as exc:
        raise GenesisError(str(exc)) from None
    return brain


def _address(value: Any, where: str) -> bytes:
    try:
        return parse_address(str(value))
    except ValueError as exc:
        raise GenesisError(f"{where}: {exc}") from None


def parse_genesis(doc: dict[str, Any]) -> Genesis:
    """Validate a decoded genesis document.

    Raises:
        GenesisError: a missing or malformed field, named in the message.
    """
    if not isinstance(doc, dict):
        raise GenesisError("genesis: expected a JSON object")
    for key in ("chain_id", "validators", "alloc"):
        if key not in doc:
            raise GenesisError(f"genesis: missing field {key!r}")
    chain_id = _int(doc["chain_id"], "chain_id")
    if chain_id == 0:
        raise GenesisError("chain_id: must be positive")
    validators = []
    for i, v in enumerate(doc["validators"]):
        where = f"validators[{i}]"
        if not isinstance(v, dict):
            raise GenesisError(f"{where}: expected an object")
        validators.append(
            GenesisValidator(
                name=str(v.get("name", f"validator-{i}")),
                address=_address(v.get("address"), f"{where}.address"),
                consensus_pubkey=_hex_bytes(
                    v.get("consensus_pubkey"), 32, f"{where}.consensus_pubkey"
                ),
                vrf_pubkey=_vrf_pubkey(v.get("vrf_pubkey"), f"{where}.vrf_pubkey"),
                stake=_stake(v.get("stake", 1), f"{where}.stake"),
            )
        )
    if not validators:
        raise GenesisError("validators: at least one validator is required")
    if len({v.address for v in validators}) != len(validators):
        raise GenesisError("validators: duplicate validator address")
    total_stake = sum(v.stake for v in validators)
    if total_stake == 0:
        raise GenesisError("validators: the total stake must be positive")
    if not isinstance(doc["alloc"], dict):
        raise GenesisError("alloc: expected an object of address -> {balance}")
    alloc: dict[bytes, int] = {}
    for addr_text, entry in doc["alloc"].items():
        address = _address(addr_text, f"alloc[{addr_text}]")
        balance = entry.get("balance", 0) if isinstance(entry, dict) else entry
        alloc[address] = _int(balance, f"alloc[{addr_text}].balance")
    brain = _brain(doc.get("brain", {}), total_stake)
    return Genesis(
        chain_id=chain_id,
        timestamp=_int(doc.get("timestamp", 0), "timestamp"),
        gas_limit=_int(doc.get("gas_limit", DEFAULT_GAS_LIMIT), "gas_limit"),
        base_fee=_int(doc.get("base_fee", DEFAULT_BASE_FEE), "base_fee"),
        validators=tuple(validators),
        alloc=tuple(sorted(alloc.items())),
        brain=brain,
    )


def genesis_to_json(genesis: Genesis) -> dict[str, Any]:
    """The JSON document `parse_genesis` reads back to an equal `Genesis`."""
    return {
        "chain_id": genesis.chain_id,
        "timestamp": genesis.timestamp,
        "gas_limit": genesis.gas_limit,
        "base_fee": genesis.base_fee,
        "validators": [
            {
                "name": v.name,
                "address": to_checksum_address(v.address),
                "consensus_pubkey": v.consensus_pubkey.hex(),
                "vrf_pubkey": v.vrf_pubkey.hex(),
                "stake": v.stake,
            }
            for v in genesis.validators
        ],
        "alloc": {to_checksum_address(a): {"balance": hex(b)} for a, b in genesis.alloc},
        "brain": genesis.brain,
    }


def load_genesis(path: Path) -> Genesis:
    """Read and validate a genesis file.

    Raises:
        GenesisError: unreadable, not JSON, or malformed.
    """
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise GenesisError(f"cannot read genesis file {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise GenesisError(f"genesis file {path} is not valid JSON: {exc}") from None
    return parse_genesis(doc)


def write_genesis(genesis: Genesis, path: Path) -> None:
    """Write `genesis` as indented JSON."""
    Path(path).write_text(json.dumps(genesis_to_json(genesis), indent=2) + "\n", encoding="utf-8")


def validator_set_hash(validators: tuple[GenesisValidator, ...]) -> bytes:
    """keccak-256 of the canonical validator list, committed to by every header."""
    return keccak256(
        msgpack_canon.pack(
            [[v.address, v.consensus_pubkey, v.vrf_pubkey, v.stake] for v in validators]
        )
    )
