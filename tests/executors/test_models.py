"""Model executors: shipped specs build to their registered weights hash, weights that differ
are refused, safetensors files load, and greedy decoding is deterministic (torch, CPU)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from brainchain.errors import ModelUnavailable
from genesis.models import SHIPPED, shipped_model
from node.executors.models import build_model, generate
from node.executors.weights import canonical_hash, seeded_values


@pytest.mark.parametrize("model_id", SHIPPED)
def test_shipped_models_build_to_their_registered_hash(model_id: str) -> None:
    spec = shipped_model(model_id)
    model = build_model(spec)
    assert canonical_hash(model.module.state_dict()) == spec.weights_hash
    assert sum(p.numel() for p in model.module.parameters()) == spec.parameters


def test_a_spec_whose_hash_differs_is_refused() -> None:
    spec = replace(shipped_model("tiny-gptj"), weights_hash=bytes(32))
    with pytest.raises(ModelUnavailable, match="differs from the spec's"):
        build_model(spec)


def test_seeded_values_are_uniform_with_the_asked_deviation() -> None:
    values = seeded_values(5, "w", 100_000, 0.02)
    assert values.dtype.name == "float32"
    assert abs(float(values.mean())) < 0.001
    assert abs(float(values.std()) - 0.02) < 0.0005
    assert (seeded_values(5, "w", 10, 0.02) == values[:10]).all()
    assert not (seeded_values(6, "w", 10, 0.02) == values[:10]).all()


def test_weights_from_a_safetensors_file_load_and_are_checked(tmp_path: Path) -> None:
    import torch
    from safetensors.torch import save_model

    spec = shipped_model("tiny-gpt2")
    model = build_model(spec)
    save_model(model.module, str(tmp_path / "tiny.safetensors"))
    file_spec = replace(spec, weights={"source": "file", "file": "tiny.safetensors"})
    loaded = build_model(file_spec, models_dir=tmp_path)
    assert generate(loaded, b"abc", 8) == generate(model, b"abc", 8)
    with pytest.raises(ModelUnavailable, match="not found"):
        build_model(file_spec, models_dir=tmp_path / "elsewhere")
    with torch.no_grad():
        next(model.module.parameters()).view(-1)[0] += 1.0
    save_model(model.module, str(tmp_path / "tiny.safetensors"))
    with pytest.raises(ModelUnavailable, match="differs"):
        build_model(file_spec, models_dir=tmp_path)


@pytest.mark.parametrize("model_id", ["tiny-gptj", "tiny-gpt2"])
def test_greedy_generation_is_deterministic_and_exactly_max_tokens(model_id: str) -> None:
    spec = shipped_model(model_id)
    first = generate(build_model(spec), b"hello", 16)
    again = generate(build_model(spec), b"hello", 16)
    assert first == again and len(first) == 16


def test_a_prompt_that_does_not_fit_is_refused() -> None:
    model = build_model(shipped_model("tiny-gptj"))
    with pytest.raises(ValueError, match="does not fit"):
        generate(model, b"", 4)
    with pytest.raises(ValueError, match="does not fit"):
        generate(model, b"x" * 500, 64)
