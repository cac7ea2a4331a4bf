"""How a precompile fails: the call halts exceptionally and burns the gas it was given."""

from __future__ import annotations

from brainchain.errors import BrainchainError


class PrecompileFailure(BrainchainError):
    """Invalid input the spec treats as an error, or not enough gas for the computation."""
