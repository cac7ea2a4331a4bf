"""Building a registered model (genesis/models.py) in an executor, and running it greedily.

The weights are checked against the spec's hash before the model serves anything: a node whose
file or build differs refuses the model rather than answer differently from its committee.
Decoding is greedy over the byte vocabulary with a key/value cache, exactly `max_tokens` steps
(no end token: the output length is part of the request), so an output's bytes are its token
ids and two honest executors produce the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from brainchain.errors import BrainchainError, ModelUnavailable
from genesis.models import ModelSpec
from node.executors.determinism import configure
from node.executors.weights import DEFAULT_STD, canonical_hash, fill_seeded


@dataclass(slots=True)
class LoadedModel:
    """A model ready to generate, on its device, with the weights the spec names."""

    spec: ModelSpec
    module: Any  # a transformers causal LM in eval mode
    device: str


def _architecture(name: str) -> tuple[Any, Any]:
    import transformers  # local: transformers loads in executor processes only (DESIGN.md §1)

    return {
        "gptj": (transformers.GPTJConfig, transformers.GPTJForCausalLM),
        "gpt2": (transformers.GPT2Config, transformers.GPT2LMHeadModel),
    }[name]


def build_model(
    spec: ModelSpec, device: str = "cpu", models_dir: Path | None = None
) -> LoadedModel:
    """The spec's model with its weights, checked against the spec's weights hash.

    Raises:
        ModelUnavailable: the weights file is missing, or the weights hash differs.
    """
    torch = configure(spec.threads)
    config_class, model_class = _architecture(spec.architecture)
    config = config_class(**spec.config)
    with torch.device(device):
        module = model_class(config).to(getattr(torch, spec.dtype))
    if spec.weights["source"] == "seeded":
        fill_seeded(module, spec.weights["seed"], spec.config.get("initializer_range", DEFAULT_STD))
    else:
        path = (models_dir or Path(".")) / spec.weights["file"]
        if not path.is_file():
            raise ModelUnavailable(f"model {spec.id}: weights file {path} not found")
        from safetensors.torch import load_model  # local: see _architecture

        load_model(module, str(path), device=device)
    got = canonical_hash(module.state_dict())
    if got != spec.weights_hash:
        raise ModelUnavailable(
            f"model {spec.id}: weights hash 0x{got.hex()} differs from the spec's"
            f" 0x{spec.weights_hash.hex()}"
        )
    module.eval()
    return LoadedModel(spec, module, device)


class JobCancelled(BrainchainError):
    """A generation was stopped before it finished."""


def generate(
    model: LoadedModel, prompt: bytes, max_tokens: int, stop: Callable[[], bool] | None = None
) -> bytes:
    """Greedy continuation of `prompt`: `max_tokens` byte tokens, ties to the lowest id.
    `stop` is asked before each token.

    Raises:
        ValueError: an empty prompt, or prompt plus output longer than the model's context.
        JobCancelled: `stop()` said so.
    """
    spec = model.spec
    if not prompt or len(prompt) + max_tokens > spec.config["n_positions"]:
        raise ValueError(
            f"prompt of {len(prompt)} bytes plus {max_tokens} tokens does not fit model"
            f" {spec.id} (1 to {spec.config['n_positions']} positions)"
        )
    torch = configure(spec.threads)
    tokens = list(prompt)
    with torch.inference_mode():
        step = torch.tensor([tokens], device=model.device)
        past = None
        out = bytearray()
        for _ in range(max_tokens):
            if stop is not None and stop():
                raise JobCancelled(f"stopped after {len(out)} of {max_tokens} tokens")
            result = model.module(step, past_key_values=past, use_cache=True)
            past = result.past_key_values
            token = int(torch.argmax(result.logits[0, -1]))  # first maximum: lowest id on ties
            out.append(token)
            step = torch.tensor([[token]], device=model.device)
    return bytes(out)
