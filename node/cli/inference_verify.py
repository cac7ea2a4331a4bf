"""Checking a finalized inference as anyone can: rebuild the registered model from its spec,
run it greedily on the request's input, and compare with the output the chain finalized.

The spec comes from the node (brain_listModels); its keccak-256 must equal the spec hash the
INFERENCE registry holds, which the genesis hash commits to, and the executor refuses weights
whose hash differs from the spec's, so a match means: this is the output an honest executor of
the registered model produces (DESIGN.md §5, "Determinism"). torch loads only when a model is
built, so importing this module stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genesis.models import parse_model
from node.executors.determinism import device_name
from node.executors.models import build_model, generate


@dataclass(frozen=True, slots=True)
class Verification:
    """The chain's finalized output next to a local honest executor's."""

    request_id: int
    model: str
    device: str
    chain_output: bytes
    local_output: bytes

    @property
    def matches(self) -> bool:
        return self.chain_output == self.local_output


def verify_inference(
    request: dict[str, Any],
    model: dict[str, Any],
    *,
    device: str = "cpu",
    models_dir: Path | None = None,
) -> Verification:
    """Run `model` (a brain_listModels entry) on `request` (brain_getInference) locally.

    Raises:
        ValueError: the request is not finalized, `model` is not the request's model, or its
            spec is malformed or does not hash to its registered spec hash.
        ModelUnavailable: the weights file is missing, or the weights hash differs.
    """
    request_id = int(request["id"], 16)
    if request["result"] is None:
        raise ValueError(f"request {request_id} is {request['status']}, not finalized")
    if model["id"] != request["model"]:
        raise ValueError(f"request {request_id} ran {request['model']}, not {model['id']}")
    spec = parse_model(model["spec"], model["id"])
    if "0x" + spec.spec_hash.hex() != model["specHash"].lower():
        raise ValueError(
            f"the spec of {spec.id} hashes to 0x{spec.spec_hash.hex()}, not the registered"
            f" {model['specHash']}"
        )
    chosen = device_name(device)
    local = generate(
        build_model(spec, chosen, models_dir),
        bytes.fromhex(request["input"].removeprefix("0x")),
        request["maxTokens"],
    )
    chain = bytes.fromhex(request["result"]["output"].removeprefix("0x"))
    return Verification(request_id, spec.id, chosen, chain, local)
