"""Simulation scenarios: validators, Byzantine ones, and a fault schedule drawn from a seed."""

from __future__ import annotations

import random
from dataclasses import dataclass

from brainchain.consensus.timeouts import TimeoutConfig
from brainchain.sim.network import LinkFaults, Partition

# Short timeouts keep the simulated runs short; they still grow per round (Alg. 1 liveness).
SIM_TIMEOUTS = TimeoutConfig(
    propose_ms=600,
    propose_delta_ms=200,
    prevote_ms=300,
    prevote_delta_ms=100,
    precommit_ms=300,
    precommit_delta_ms=100,
)
MIN_VALIDATORS, MAX_VALIDATORS = 4, 7
MAX_POWER = 10
MIN_HEAL_MS, MAX_HEAL_MS = 1_000, 8_000
HEIGHTS_AFTER_HEAL = 2


@dataclass(frozen=True, slots=True)
class Crash:
    """Honest node `node` is killed at `at_ms` and restarted from its WAL at `restart_ms`.

    With `mid_step`, the kill lands inside the next step it takes: only a prefix of that
    step's actions is carried out, as a `kill -9` between two writes would leave it.
    """

    node: int
    at_ms: int
    restart_ms: int
    mid_step: bool


@dataclass(frozen=True, slots=True)
class Scenario:
    """One simulated network; node i is validator index i (powers are in canonical order)."""

    seed: int
    powers: tuple[int, ...]
    byzantine: tuple[int, ...]
    faults: LinkFaults
    partitions: tuple[Partition, ...]
    crashes: tuple[Crash, ...]
    heal_ms: int
    heights_after_heal: int = HEIGHTS_AFTER_HEAL
    timeouts: TimeoutConfig = SIM_TIMEOUTS

    @property
    def honest(self) -> tuple[int, ...]:
        """The nodes that follow the protocol (crashed ones included)."""
        return tuple(i for i in range(len(self.powers)) if i not in self.byzantine)


def random_scenario(seed: int) -> Scenario:
    """A scenario mixing fault kinds, every choice drawn from `random.Random(seed)`.

    Byzantine validators hold less than a third of the power; crashed nodes restart and
    partitions heal by the heal time.
    """
    rng = random.Random(seed)
    n = rng.randint(MIN_VALIDATORS, MAX_VALIDATORS)
    powers = tuple(sorted((rng.randint(1, MAX_POWER) for _ in range(n)), reverse=True))
    heal_ms = rng.randint(MIN_HEAL_MS, MAX_HEAL_MS)
    byzantine = _byzantine(rng, powers) if rng.random() < 0.5 else ()
    honest = [i for i in range(n) if i not in byzantine]
    min_delay = rng.randint(1, 20)
    faults = LinkFaults(
        drop=rng.choice((0.0, 0.0, 0.05, 0.2, 0.4)),
        duplicate=rng.choice((0.0, 0.1, 0.3)),
        reorder=rng.choice((0.0, 0.1, 0.3)),
        min_delay_ms=min_delay,
        max_delay_ms=min_delay + rng.randint(10, 200),
    )
    partitions = tuple(_partition(rng, n, heal_ms) for _ in range(rng.choice((0, 0, 1, 2))))
    crashes = tuple(
        _crash(rng, node, heal_ms)
        for node in rng.sample(honest, k=min(len(honest), rng.choice((0, 0, 1, 2))))
    )
    return Scenario(seed, powers, byzantine, faults, partitions, crashes, heal_ms)


def _byzantine(rng: random.Random, powers: tuple[int, ...]) -> tuple[int, ...]:
    """Some validators holding less than a third of the power in total (`3 * f < total`)."""
    total, power = sum(powers), 0
    chosen: list[int] = []
    for i in rng.sample(range(len(powers)), k=len(powers)):
        if 3 * (power + powers[i]) < total and (not chosen or rng.random() < 0.5):
            chosen.append(i)
            power += powers[i]
    return tuple(sorted(chosen))


def _partition(rng: random.Random, n: int, heal_ms: int) -> Partition:
    nodes = rng.sample(range(n), k=n)
    cut = rng.randint(1, n - 1)
    start = rng.randint(0, heal_ms - 1)
    return Partition(
        start, rng.randint(start + 1, heal_ms), (frozenset(nodes[:cut]), frozenset(nodes[cut:]))
    )


def _crash(rng: random.Random, node: int, heal_ms: int) -> Crash:
    at = rng.randint(0, heal_ms - 1)
    return Crash(node, at, rng.randint(at + 1, heal_ms), rng.random() < 0.5)
