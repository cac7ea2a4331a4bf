"""proposer(height, round): weighted round robin by voting power (Tendermint Alg. 1 L14).

CometBFT's proposer priority (`types/validator_set.go`, `IncrementProposerPriority`): every
pick adds each validator's power to its priority, the highest priority proposes (ties to the
lower index) and pays the total power back. Over any `total_power` consecutive picks each
validator proposes exactly `power` times. With a fixed set the priorities sum to zero and stay
within ±total, so CometBFT's centring and rescaling steps change nothing and are left out.

As in CometBFT, a height starts one pick after the previous one and round r of it is r picks
further, so proposer(h, r) is pick number h + r of one fixed sequence: a pure function.
"""

from __future__ import annotations

from brainchain.types.validators import ValidatorSet

# Priorities are kept every this many picks, so any pick is recomputed from at most this many.
CHECKPOINT_PICKS = 1024


class ProposerSchedule:
    """The pick sequence of one validator set, computed lazily and memoised."""

    __slots__ = ("_block", "_checkpoints", "_picks", "_powers", "_priorities", "_total")

    def __init__(self, validators: ValidatorSet) -> None:
        self._powers = validators.powers()
        self._total = validators.total_power
        # _checkpoints[b]: the priorities before pick b * CHECKPOINT_PICKS.
        self._checkpoints: list[tuple[int, ...]] = [(0,) * len(self._powers)]
        # A cursor inside block _block: its priorities and the picks made in it so far.
        self._block = 0
        self._priorities = list(self._checkpoints[0])
        self._picks: list[int] = []

    def proposer(self, height: int, round_: int) -> int:
        """The index of the validator that proposes at (`height`, `round_`).

        Raises:
            ValueError: a negative height or round.
        """
        if height < 0 or round_ < 0:
            raise ValueError(f"no proposer for height {height}, round {round_}")
        block, offset = divmod(height + round_, CHECKPOINT_PICKS)
        if block != self._block:
            self._seek(block)
        while len(self._picks) <= offset:
            self._pick()
        return self._picks[offset]

    def _seek(self, block: int) -> None:
        while len(self._checkpoints) <= block:
            self._block = len(self._checkpoints) - 1
            self._priorities = list(self._checkpoints[-1])
            self._picks = []
            for _ in range(CHECKPOINT_PICKS):
                self._pick()
            self._checkpoints.append(tuple(self._priorities))
        self._block = block
        self._priorities = list(self._checkpoints[block])
        self._picks = []

    def _pick(self) -> None:
        priorities = self._priorities
        for i, power in enumerate(self._powers):
            priorities[i] += power
        chosen = max(range(len(priorities)), key=priorities.__getitem__)  # first max: lowest index
        priorities[chosen] -= self._total
        self._picks.append(chosen)
