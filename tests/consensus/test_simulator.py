"""Seeded network simulations: safety, validity and termination under mixed faults.

Each seed draws a scenario (4-7 validators, random stakes, Byzantine validators under 1/3 of
the power that equivocate as proposers and double-vote, message loss, duplication, reordering,
partitions, crashes with restarts from the WAL) and every checker must pass. A failure names
its seeds; rerun one with `Simulation(random_scenario(seed)).run()`.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from brainchain.crypto.keccak import keccak256
from brainchain.sim import checkers
from brainchain.sim.scenario import random_scenario
from brainchain.sim.simulator import Outcome, Simulation
from brainchain.types.vote import Proposal

CHUNKS = 10
SEEDS_PER_CHUNK = 100
SEEDS = range(CHUNKS * SEEDS_PER_CHUNK)
TRACED_SEED = 4  # Byzantine validators, a partition and a crash in the middle of a step
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_agreement_validity_termination(chunk: int) -> None:
    failures = {}
    for seed in SEEDS[chunk * SEEDS_PER_CHUNK : (chunk + 1) * SEEDS_PER_CHUNK]:
        violations = checkers.violations(Simulation(random_scenario(seed)).run())
        if violations:
            failures[seed] = violations[:3]
    assert not failures, f"failing seeds: {failures}"


def test_the_seeds_mix_every_kind_of_fault() -> None:
    scenarios = [random_scenario(seed) for seed in SEEDS]
    kinds = {
        "byzantine": sum(bool(s.byzantine) for s in scenarios),
        "drop": sum(s.faults.drop > 0 for s in scenarios),
        "duplicate": sum(s.faults.duplicate > 0 for s in scenarios),
        "reorder": sum(s.faults.reorder > 0 for s in scenarios),
        "partition": sum(bool(s.partitions) for s in scenarios),
        "crash": sum(any(not c.mid_step for c in s.crashes) for s in scenarios),
        "crash mid-step": sum(any(c.mid_step for c in s.crashes) for s in scenarios),
    }
    assert all(count >= len(scenarios) // 5 for count in kinds.values()), kinds
    assert all(3 * sum(s.powers[i] for i in s.byzantine) < sum(s.powers) for s in scenarios)


def trace_digest(outcome: Outcome) -> str:
    return keccak256(repr(outcome.trace).encode()).hex()


def test_same_seed_same_trace() -> None:
    scenario = random_scenario(TRACED_SEED)
    assert scenario.byzantine and scenario.partitions and scenario.crashes
    first, second = (Simulation(scenario, trace=True).run() for _ in range(2))
    assert first.trace and first.trace == second.trace
    assert first.committed == second.committed
    other = Simulation(random_scenario(TRACED_SEED + 1), trace=True).run()
    assert other.trace != first.trace


def test_same_seed_same_trace_across_processes() -> None:
    """Hash randomisation differs per process; the trace must not depend on it."""
    expected = trace_digest(Simulation(random_scenario(TRACED_SEED), trace=True).run())
    program = (
        "from brainchain.sim.scenario import random_scenario\n"
        "from brainchain.sim.simulator import Simulation\n"
        "from tests.consensus.test_simulator import TRACED_SEED, trace_digest\n"
        "print(trace_digest(Simulation(random_scenario(TRACED_SEED), trace=True).run()))\n"
    )
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", program],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        assert result.stdout.strip() == expected


def test_checkers_catch_violations() -> None:
    """The checkers are not vacuous: tampered outcomes fail each of them."""
    outcome = Simulation(random_scenario(TRACED_SEED)).run()
    assert checkers.violations(outcome) == []
    honest = outcome.scenario.honest
    committed = [dict(c) for c in outcome.committed]
    committed[honest[0]][1] = b"\x01" * 32
    forked = dataclasses.replace(outcome, committed=tuple(committed))
    assert checkers.agreement(forked) and checkers.validity(forked)
    assert checkers.certificates(forked)
    stalled = dataclasses.replace(outcome, target_height=outcome.target_height + 50)
    assert checkers.termination(stalled)
    [(node, evidence)] = outcome.evidence[:1]
    second = evidence.second
    framed_second = (
        dataclasses.replace(second, proposer=honest[0])
        if isinstance(second, Proposal)
        else dataclasses.replace(second, validator=honest[0])
    )
    framed = dataclasses.replace(evidence, second=framed_second)
    assert checkers.accountability(dataclasses.replace(outcome, evidence=((node, framed),)))
