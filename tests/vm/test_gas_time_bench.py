"""bench/gas_time.py at toy sizes: every opcode and precompile has a row, and every row's
contract runs to its end, doing more work (more gas) for more iterations of its loop."""

from __future__ import annotations

from random import Random

import pytest

from bench import gas_time

RNG = Random(12)
FIXTURES = gas_time.brain_fixtures(RNG)
ENTRIES = [
    *gas_time.opcode_entries(),
    *gas_time.state_entries(),
    *gas_time.system_entries(touched=20),
    *gas_time.code_entries(),
    *gas_time.precompile_entries(RNG, FIXTURES),
]
TOY = gas_time.Settings(target_s=0.0, repeat=1, probe_gas=0, iteration_gas=0)


@pytest.fixture(scope="module")
def world() -> gas_time.World:
    return gas_time.build_world(FIXTURES, accounts=40, slots=40, big=4)


def test_every_opcode_and_precompile_has_a_row() -> None:
    gas_time.check_coverage(ENTRIES)
    with pytest.raises(SystemExit, match="SELFDESTRUCT"):
        gas_time.check_coverage([e for e in ENTRIES if gas_time.Ops.SELFDESTRUCT not in e.measures])


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_row_runs_and_scales(world: gas_time.World, entry: gas_time.Entry) -> None:
    gas_time.set_hot_run(gas_time.MODES[entry.modes[-1]])
    code = gas_time.program(entry, 2)
    one = gas_time.run_once(world, entry, code, 1)[0]  # raises SystemExit if it fails
    two = gas_time.run_once(world, entry, code, 2)[0]
    assert two > one > 21_000
    if any(isinstance(m, bytes) for m in entry.measures):  # the input is one it accepts
        gas_time.alone(world, entry, TOY)
