"""The model registry of genesis ("brain.models"): what every executor must run bit for bit.

A spec names the architecture (a transformers causal LM), its config, the tokenizer, where the
weights come from and the keccak-256 of the canonical weights (node/executors/weights.py), plus
what the chain charges for it. Every number that changes an output is in the spec: the dtype,
and the CPU thread count, since 1 and 2 threads give the same greedy tokens but different logits
bit for bit, so a near-tie could split a committee whose members run with different threads.

The tokenizer is "bytes": token id = byte value, vocabulary 256, so an output's token ids are
its bytes and no tokenizer files are needed. Weights are "seeded" (built by every node from the
config and a seed, offline) or a "file": a safetensors file of that name in the node's models
directory, so a real checkpoint (GPT-J-6B on a GPU) is a spec, not code. A node refuses to
serve a model whose weights hash differs from the spec's.

The spec hash (keccak-256 of the spec as canonical JSON) is written to the INFERENCE account's
storage at genesis, so the genesis hash commits to every model.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from brainchain.crypto.keccak import keccak256
from vm.precompiles.inference_state import model_key

ARCHITECTURES = ("gptj", "gpt2")
TOKENIZERS = ("bytes",)
BYTE_VOCAB = 256
DTYPES = ("float32",)
WEIGHT_SOURCES = ("seeded", "file")
MODEL_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
SHIPPED = ("tiny-gptj", "tiny-gpt2", "gptj-bench")


class ModelSpecError(ValueError):
    """A model spec is malformed; the message says where."""


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One registered model (see the module docstring for the fields' meaning)."""

    id: str
    architecture: str
    config: dict[str, Any]
    tokenizer: str
    weights: dict[str, Any]  # {"source": "seeded", "seed": n} or {"source": "file", "file": name}
    weights_hash: bytes
    dtype: str
    threads: int
    max_tokens: int  # the most tokens one request may ask for
    max_input_bytes: int
    price_per_token: int  # wei per requested token, the least fee a request must pay
    sync_gas_per_token: int  # what INFERENCE_SYNC charges per token for running it in a tx

    @property
    def key(self) -> bytes:
        """keccak256(id): the model's key in the INFERENCE registry (a Solidity bytes32)."""
        return model_key(self.id)

    @property
    def parameters(self) -> int:
        """The count of weights, from the architecture's config alone (no torch needed)."""
        return parameter_count(self)

    def to_json(self) -> dict[str, Any]:
        """The JSON object `parse_model` reads back to an equal spec."""
        return {
            "id": self.id,
            "architecture": self.architecture,
            "config": self.config,
            "tokenizer": self.tokenizer,
            "weights": self.weights,
            "weights_hash": "0x" + self.weights_hash.hex(),
            "dtype": self.dtype,
            "threads": self.threads,
            "max_tokens": self.max_tokens,
            "max_input_bytes": self.max_input_bytes,
            "price_per_token": str(self.price_per_token),
            "sync_gas_per_token": self.sync_gas_per_token,
        }

    @property
    def spec_hash(self) -> bytes:
        """keccak-256 of the spec as canonical JSON (sorted keys, no spaces)."""
        text = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
        return keccak256(text.encode())


def _int(doc: dict[str, Any], name: str, where: str, *, positive: bool = True) -> int:
    value = doc.get(name)
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < (1 if positive else 0):
        kind = "a positive" if positive else "a non-negative"
        raise ModelSpecError(f"{where}.{name}: expected {kind} integer, got {value!r}")
    return value


def _choice(doc: dict[str, Any], name: str, choices: tuple[str, ...], where: str) -> str:
    value = doc.get(name)
    if value not in choices:
        raise ModelSpecError(f"{where}.{name}: {value!r} is not one of {', '.join(choices)}")
    return str(value)


def _weights(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ModelSpecError(f"{where}.weights: expected an object")
    source = _choice(value, "source", WEIGHT_SOURCES, f"{where}.weights")
    if source == "seeded":
        return {"source": source, "seed": _int(value, "seed", f"{where}.weights", positive=False)}
    name = value.get("file")
    if not isinstance(name, str) or not name.endswith(".safetensors") or "/" in name:
        raise ModelSpecError(f"{where}.weights.file: expected a file name ending .safetensors")
    return {"source": source, "file": name}


def parse_model(doc: Any, where: str = "model") -> ModelSpec:
    """Validate one model spec object.

    Raises:
        ModelSpecError: a missing or malformed field, named in the message.
    """
    if not isinstance(doc, dict):
        raise ModelSpecError(f"{where}: expected an object")
    model_id = doc.get("id")
    if not isinstance(model_id, str) or not MODEL_ID.match(model_id):
        raise ModelSpecError(f"{where}.id: expected 1-64 of a-z 0-9 . _ -, got {model_id!r}")
    config = doc.get("config")
    if not isinstance(config, dict):
        raise ModelSpecError(f"{where}.config: expected an object")
    if config.get("vocab_size") != BYTE_VOCAB:
        raise ModelSpecError(f"{where}.config.vocab_size: the bytes tokenizer needs {BYTE_VOCAB}")
    raw_hash = str(doc.get("weights_hash", ""))
    try:
        weights_hash = bytes.fromhex(raw_hash.removeprefix("0x"))
    except ValueError:
        weights_hash = b""
    if len(weights_hash) != 32:
        raise ModelSpecError(f"{where}.weights_hash: expected 32 bytes of hex, got {raw_hash!r}")
    spec = ModelSpec(
        id=model_id,
        architecture=_choice(doc, "architecture", ARCHITECTURES, where),
        config=config,
        tokenizer=_choice(doc, "tokenizer", TOKENIZERS, where),
        weights=_weights(doc.get("weights"), where),
        weights_hash=weights_hash,
        dtype=_choice(doc, "dtype", DTYPES, where),
        threads=_int(doc, "threads", where),
        max_tokens=_int(doc, "max_tokens", where),
        max_input_bytes=_int(doc, "max_input_bytes", where),
        price_per_token=_int(doc, "price_per_token", where, positive=False),
        sync_gas_per_token=_int(doc, "sync_gas_per_token", where),
    )
    positions = config.get("n_positions", 0)
    if spec.max_input_bytes + spec.max_tokens > positions:
        raise ModelSpecError(
            f"{where}: max_input_bytes + max_tokens = {spec.max_input_bytes + spec.max_tokens}"
            f" exceeds config.n_positions {positions}"
        )
    return spec


def parse_models(value: Any) -> tuple[ModelSpec, ...]:
    """Validate "brain.models": a list of specs with distinct ids.

    Raises:
        ModelSpecError: a malformed spec or a repeated id.
    """
    if not isinstance(value, list):
        raise ModelSpecError("brain.models: expected a list of model specs")
    specs = tuple(parse_model(doc, f"brain.models[{i}]") for i, doc in enumerate(value))
    ids = [s.id for s in specs]
    if len(set(ids)) != len(ids):
        raise ModelSpecError("brain.models: duplicate model id")
    return specs


def shipped_model(model_id: str) -> ModelSpec:
    """One of the specs shipped in genesis/models/ (see SHIPPED).

    Raises:
        ModelSpecError: no such shipped model, or its file is malformed.
    """
    if model_id not in SHIPPED:
        raise ModelSpecError(f"no shipped model {model_id!r}; shipped: {', '.join(SHIPPED)}")
    text = resources.files("genesis").joinpath("models", f"{model_id}.json").read_text("utf-8")
    return parse_model(json.loads(text), model_id)


def parameter_count(spec: ModelSpec) -> int:
    """Weights of a GPT-J or GPT-2 of this config (embeddings, blocks, final norm, LM head)."""
    c = spec.config
    d, layers, vocab = c["n_embd"], c["n_layer"], c["vocab_size"]
    inner = c.get("n_inner") or 4 * d
    mlp = d * inner + inner + inner * d + d
    if spec.architecture == "gptj":
        block = 2 * d + 4 * d * d + mlp  # one norm, q/k/v/out without biases
        return vocab * d + layers * block + 2 * d + d * vocab + vocab
    block = 4 * d + 3 * d * d + 3 * d + d * d + d + mlp  # two norms, fused qkv with biases
    return vocab * d + c["n_positions"] * d + layers * block + 2 * d
