"""A node's home directory: config.json, genesis.json, keys.json (mode 0600) and data/.

Keys never appear in logs or in `repr` of the config.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from nacl.signing import SigningKey

from brainchain.crypto.secp256k1 import private_key_to_address
from node.fl.data import parse_shard

CONFIG_FILE = "config.json"
GENESIS_FILE = "genesis.json"
KEYS_FILE = "keys.json"
RUNTIME_FILE = "node.json"  # pid and RPC URL of the running node, removed on clean exit
DATA_DIR = "data"
DEFAULT_RPC_HOST = "127.0.0.1"
DEFAULT_RPC_PORT = 8545
DEFAULT_BLOCK_INTERVAL_S = 1.0
DEFAULT_P2P_HOST = "127.0.0.1"
DEFAULT_P2P_PORT = 26656
DEFAULT_METRICS_PORT = 9545  # node i of a devnet: 9545 + i, beside RPC 8545 + i
EXECUTOR_DEVICES = ("auto", "cpu", "cuda")


class Byzantine(Enum):
    """Test-only faults a validator can be told to commit (config "byzantine"), for the fault
    tests of two-phase inference (node/inference_service.py), of federated learning's scoring
    (node/fl/service.py) and of consensus (node/byzantine_consensus.py)."""

    WRONG_OUTPUT = "wrong-output"  # commit and reveal a corrupted output
    COPY_COMMITMENT = "copy-commitment"  # commit another member's commitment
    NO_REVEAL = "no-reveal"  # commit, never reveal
    RANDOM_FL_SCORE = "random-fl-score"  # commit and reveal a seeded random score
    EQUIVOCATING_PROPOSER = "equivocating-proposer"  # two proposals per height and round
    DOUBLE_VOTER = "double-voter"  # a conflicting vote beside each prevote and precommit
    VOTE_WITHHOLDER = "vote-withholder"  # send no prevote or precommit; still propose


class ConfigError(ValueError):
    """The home directory is missing a file or holds a malformed one."""


@dataclass(frozen=True, slots=True)
class NodeKeys:
    """A validator's three keys (DESIGN.md §4: account, consensus, VRF) and its libp2p identity."""

    account_key: bytes = field(repr=False)  # secp256k1
    consensus_key: bytes = field(repr=False)  # ed25519 seed
    vrf_key: bytes = field(repr=False)  # ed25519 seed
    p2p_key: bytes = field(repr=False)  # ed25519 seed of the libp2p peer id

    @property
    def address(self) -> bytes:
        return private_key_to_address(self.account_key)

    @property
    def consensus_pubkey(self) -> bytes:
        return bytes(SigningKey(self.consensus_key).verify_key)

    @property
    def vrf_pubkey(self) -> bytes:
        return bytes(SigningKey(self.vrf_key).verify_key)


def generate_keys() -> NodeKeys:
    """Fresh random keys from the OS's CSPRNG."""
    while True:
        account_key = os.urandom(32)
        try:
            private_key_to_address(account_key)
        except ValueError:  # outside [1, n-1]: astronomically rare, draw again
            continue
        return NodeKeys(account_key, os.urandom(32), os.urandom(32), os.urandom(32))


def write_keys(keys: NodeKeys, path: Path) -> None:
    """Write the keys readable by the owner only."""
    doc = {
        "account_key": keys.account_key.hex(),
        "consensus_key": keys.consensus_key.hex(),
        "vrf_key": keys.vrf_key.hex(),
        "p2p_key": keys.p2p_key.hex(),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(doc, out, indent=2)


def load_keys(path: Path) -> NodeKeys:
    """Read keys.json.

    Raises:
        ConfigError: missing or malformed (the message never contains key material).
    """
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        return NodeKeys(
            *(bytes.fromhex(doc[k]) for k in ("account_key", "consensus_key", "vrf_key", "p2p_key"))
        )
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigError(f"cannot read validator keys from {path}") from None


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """Where the node keeps its files and how it serves."""

    home: Path
    rpc_host: str = DEFAULT_RPC_HOST
    rpc_port: int = DEFAULT_RPC_PORT
    block_interval_s: float = DEFAULT_BLOCK_INTERVAL_S
    empty_blocks: bool = True
    p2p_host: str = DEFAULT_P2P_HOST
    p2p_port: int = DEFAULT_P2P_PORT
    bootstrap: tuple[str, ...] = ()  # peers' libp2p multiaddrs, ending in /p2p/<peer id>
    metrics_port: int | None = DEFAULT_METRICS_PORT  # Prometheus on rpc_host; None: off
    # eth_call / eth_estimateGas (node/chain.py CallLimits, node/rpc/simulations.py): geth's
    # defaults, gas cap 50M (0: none) and 5 s; how many run at once, off the event loop.
    rpc_gas_cap: int = 50_000_000
    rpc_evm_timeout_s: float = 5.0
    rpc_simulation_workers: int = 1
    # Model executors (node/executors/): "auto" takes CUDA when present; the models directory
    # holds the safetensors files that file-sourced model specs name.
    run_models: bool = True  # run the executor and, for a validator, the inference service
    # Load every registered model at start (in the background) instead of on first use: the
    # first request then does not spend its commit window importing torch and building weights,
    # at the price of that CPU and memory at every start.
    warm_models: bool = False
    executor_device: str = "auto"
    executor_concurrency: int = 1
    executor_queue: int = 64
    models_dir: str = "models"  # relative to home
    # Federated learning (node/fl/service.py): every node recomputes the global versions; a
    # validator also scores the proposals it is drawn for, on its validation shard "i/n" of the
    # model's data set (None: i = its index among the genesis validators, n = their number).
    fl: bool = True
    fl_validation_shard: str | None = None
    # Test-only fault for the fault tests (node/inference_service.py Byzantine); never set it
    # on a real network.
    byzantine: Byzantine | None = None
    # Chaos mode, for fault-injection runs (issue 14): the p2p fault layer (node/p2p/faults.py)
    # and the chaos_* RPC methods, with which anyone who reaches the RPC can cut this node off.
    chaos: bool = False

    @property
    def data_dir(self) -> Path:
        return self.home / DATA_DIR

    @property
    def genesis_path(self) -> Path:
        return self.home / GENESIS_FILE

    @property
    def keys_path(self) -> Path:
        return self.home / KEYS_FILE

    @property
    def models_path(self) -> Path:
        return self.home / self.models_dir

    def to_json(self) -> dict[str, Any]:
        return {
            "rpc_host": self.rpc_host,
            "rpc_port": self.rpc_port,
            "block_interval_s": self.block_interval_s,
            "empty_blocks": self.empty_blocks,
            "p2p_host": self.p2p_host,
            "p2p_port": self.p2p_port,
            "bootstrap": list(self.bootstrap),
            "metrics_port": self.metrics_port,
            "rpc_gas_cap": self.rpc_gas_cap,
            "rpc_evm_timeout_s": self.rpc_evm_timeout_s,
            "rpc_simulation_workers": self.rpc_simulation_workers,
            "run_models": self.run_models,
            "warm_models": self.warm_models,
            "executor_device": self.executor_device,
            "executor_concurrency": self.executor_concurrency,
            "executor_queue": self.executor_queue,
            "models_dir": self.models_dir,
            "fl": self.fl,
            **(
                {"fl_validation_shard": self.fl_validation_shard}
                if self.fl_validation_shard
                else {}
            ),
            **({"byzantine": self.byzantine.value} if self.byzantine else {}),
            **({"chaos": True} if self.chaos else {}),
        }


def _choice(value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{value!r} is not one of {', '.join(choices)}")
    return str(value)


_N = TypeVar("_N", int, float)


def _at_least(low: _N, value: _N, name: str) -> _N:
    if value < low:
        raise ValueError(f"{name} must be at least {low}, not {value}")
    return value


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, not {value!r}")
    return value


def _optional_port(value: Any) -> int | None:
    return None if value is None else int(value)


def _optional_shard(value: Any) -> str | None:
    if value is None:
        return None
    parse_shard(str(value))  # raises ValueError naming the shard
    return str(value)


def write_config(cfg: NodeConfig) -> None:
    (cfg.home / CONFIG_FILE).write_text(
        json.dumps(cfg.to_json(), indent=2) + "\n", encoding="utf-8"
    )


def load_config(home: Path, **overrides: Any) -> NodeConfig:
    """Read <home>/config.json (defaults where absent), then apply non-None overrides.

    Raises:
        ConfigError: the home or its config file is malformed.
    """
    home = Path(home)
    if not home.is_dir():
        raise ConfigError(
            f"node home {home} does not exist (create one with `brainchain devnet up`)"
        )
    path = home / CONFIG_FILE
    doc: dict[str, Any] = {}
    if path.exists():
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ConfigError(f"{path} is not valid JSON: {exc}") from None
    doc.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return NodeConfig(
            home=home,
            rpc_host=str(doc.get("rpc_host", DEFAULT_RPC_HOST)),
            rpc_port=int(doc.get("rpc_port", DEFAULT_RPC_PORT)),
            block_interval_s=float(doc.get("block_interval_s", DEFAULT_BLOCK_INTERVAL_S)),
            empty_blocks=bool(doc.get("empty_blocks", True)),
            p2p_host=str(doc.get("p2p_host", DEFAULT_P2P_HOST)),
            p2p_port=int(doc.get("p2p_port", DEFAULT_P2P_PORT)),
            bootstrap=tuple(str(addr) for addr in doc.get("bootstrap", ())),
            metrics_port=_optional_port(doc.get("metrics_port", DEFAULT_METRICS_PORT)),
            rpc_gas_cap=_at_least(0, int(doc.get("rpc_gas_cap", 50_000_000)), "rpc_gas_cap"),
            rpc_evm_timeout_s=_at_least(
                0.001, float(doc.get("rpc_evm_timeout_s", 5.0)), "rpc_evm_timeout_s"
            ),
            rpc_simulation_workers=_at_least(
                1, int(doc.get("rpc_simulation_workers", 1)), "rpc_simulation_workers"
            ),
            run_models=bool(doc.get("run_models", True)),
            warm_models=bool(doc.get("warm_models", False)),
            executor_device=_choice(doc.get("executor_device", "auto"), EXECUTOR_DEVICES),
            executor_concurrency=int(doc.get("executor_concurrency", 1)),
            executor_queue=int(doc.get("executor_queue", 64)),
            models_dir=str(doc.get("models_dir", "models")),
            fl=bool(doc.get("fl", True)),
            fl_validation_shard=_optional_shard(doc.get("fl_validation_shard")),
            byzantine=None if doc.get("byzantine") is None else Byzantine(doc["byzantine"]),
            chaos=_flag(doc.get("chaos", False), "chaos"),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}") from None


def write_runtime(home: Path, *, pid: int, rpc: str, p2p: str, metrics: str | None) -> None:
    """Record the running node's pid, RPC URL, libp2p address and metrics URL for `devnet`."""
    tmp = home / (RUNTIME_FILE + ".tmp")
    doc = {"pid": pid, "rpc": rpc, "p2p": p2p, "metrics": metrics}
    tmp.write_text(json.dumps(doc) + "\n", encoding="utf-8")
    tmp.replace(home / RUNTIME_FILE)


def read_runtime(home: Path) -> dict[str, Any] | None:
    """The running node's {"pid", "rpc", "p2p"}, or None if it never started or exited cleanly."""
    try:
        doc = json.loads((Path(home) / RUNTIME_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def clear_runtime(home: Path) -> None:
    (Path(home) / RUNTIME_FILE).unlink(missing_ok=True)
