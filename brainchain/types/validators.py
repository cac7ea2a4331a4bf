"""The validator set: consensus keys and voting power from the genesis stakes (DESIGN.md §4)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from brainchain.crypto.ed25519 import PUBLIC_KEY_BYTES


@dataclass(frozen=True, slots=True)
class Validator:
    """One validator: its ed25519 consensus public key and its voting power."""

    public_key: bytes
    power: int


@dataclass(frozen=True, slots=True)
class ValidatorSet:
    """Validators in canonical order, power descending then key ascending (CometBFT's order).

    A validator's index in this order names it in votes, proposals and commit certificates.
    """

    validators: tuple[Validator, ...]
    total_power: int = field(init=False)
    _index: dict[bytes, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "total_power", sum(v.power for v in self.validators))
        index = {v.public_key: i for i, v in enumerate(self.validators)}
        object.__setattr__(self, "_index", index)

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[bytes, int]]) -> ValidatorSet:
        """Build the set from (consensus public key, power) pairs in any order.

        Raises:
            ValueError: no validators, a key that is not 32 bytes or appears twice, or a power
                that is not a positive integer.
        """
        validators = sorted(
            (Validator(key, power) for key, power in pairs), key=lambda v: (-v.power, v.public_key)
        )
        if not validators:
            raise ValueError("a validator set needs at least one validator")
        seen: set[bytes] = set()
        for v in validators:
            if len(v.public_key) != PUBLIC_KEY_BYTES:
                raise ValueError(f"consensus key of {len(v.public_key)} bytes, want 32")
            if isinstance(v.power, bool) or v.power <= 0:
                raise ValueError(f"voting power must be a positive integer, got {v.power!r}")
            if v.public_key in seen:
                raise ValueError(f"consensus key 0x{v.public_key.hex()} listed twice")
            seen.add(v.public_key)
        return cls(tuple(validators))

    def __len__(self) -> int:
        return len(self.validators)

    def __iter__(self) -> Iterator[Validator]:
        return iter(self.validators)

    def __getitem__(self, index: int) -> Validator:
        return self.validators[index]

    def index_of(self, public_key: bytes) -> int | None:
        """The index of the validator with this consensus key, None for a non-validator."""
        return self._index.get(public_key)

    def powers(self) -> tuple[int, ...]:
        """Voting power by validator index."""
        return tuple(v.power for v in self.validators)
