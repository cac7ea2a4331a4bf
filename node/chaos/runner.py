"""`brainchain chaos run`: one scenario from devnet to verdict.

The steps, each waiting on a condition under a deadline: create the devnet under <out>/devnet
and start it (in network namespaces when this machine allows and the mechanism asks), wait
until every node has peered and committed; record the scenario; start the load and the height
sampler; carry out the schedule (by time since the load began, or by sampled height) until
duration_s; stop the clients and end what is still in force; wait until every honest node up
has passed the height of that moment (the liveness bound) and the accepted transactions have
had their chance to commit; read the final observations; stop the devnet; judge the history
with the checkers; write report.json and timeline.png.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from node.chaos import netns, observe
from node.chaos.checkers import Verdict, check_all
from node.chaos.cluster import Cluster
from node.chaos.faults import Nemesis, Network
from node.chaos.history import Recorder, load_history
from node.chaos.load import Load
from node.chaos.report import HISTORY_FILE, TIMELINE_FILE, write_report
from node.chaos.scenario import UNDO, Fault, Scenario
from node.cli.client import ClientError
from node.config import GENESIS_FILE, Byzantine

MECHANISMS = ("auto", "netns", "fault-layer")
PRODUCING_TIMEOUT_S = 120.0
TICK_S = 0.05
SETTLE_BLOCKS = 20  # accepted transactions get this many block intervals (at least 10 s)
CONVERGE_TIMEOUT_S = 30.0
INFERENCE_END_TIMEOUT_S = 240.0
# FL proposals end 30 blocks after inclusion (INFERENCE's windows), versions are attested
# within ATTEST_BLOCKS after that: a minute at the devnet's pace.
FL_END_TIMEOUT_S = 60.0
INFERENCE_ROLES = frozenset(
    {Byzantine.WRONG_OUTPUT.value, Byzantine.COPY_COMMITMENT.value, Byzantine.NO_REVEAL.value}
)


class RunError(Exception):
    """The run could not be carried out (not: the run found a violation)."""


@dataclass(frozen=True, slots=True)
class RunResult:
    out: Path
    verdicts: list[Verdict]
    report: dict[str, Any]

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.verdicts)


def choose_topology(mechanism: str, validators: int) -> tuple[netns.Topology | None, str]:
    """The namespaces to run in (None: the fault layer) and a line saying why.

    Raises:
        RunError: "netns" was asked for and this machine cannot make namespaces.
    """
    if mechanism not in MECHANISMS:
        raise RunError(f"unknown mechanism {mechanism!r} (one of {', '.join(MECHANISMS)})")
    if mechanism == "fault-layer":
        return None, "partitions by the nodes' p2p fault layer (asked for)"
    problem = netns.available() if validators >= 2 else "one validator has no links to cut"
    if problem is None:
        return netns.Topology(validators, netns.new_prefix()), "partitions by network namespaces"
    if mechanism == "netns":
        raise RunError(f"network namespaces are not available: {problem}")
    return None, f"partitions by the nodes' p2p fault layer (no namespaces: {problem})"


def run(
    scenario: Scenario,
    out: Path,
    *,
    seed: int | None = None,
    mechanism: str = "auto",
    log: Callable[[str], None] = print,
) -> RunResult:
    """Run `scenario`, writing the devnet, history, report and timeline under `out`.

    Raises:
        RunError: the devnet did not start or produce, or namespaces were asked for and are
            not available.
        FaultError: a fault met its node in a state it cannot act on (a schedule by height).
        DevnetError: `out` already holds a devnet.
        NetnsError: a namespace command failed.
    """
    seed = scenario.seed if seed is None else seed
    out.mkdir(parents=True, exist_ok=True)
    run_models = scenario.load.inference_per_s > 0 or any(
        v.byzantine in INFERENCE_ROLES for v in scenario.validators
    )
    topology, why = choose_topology(mechanism, len(scenario.validators))
    run_fl = scenario.load.fl_proposals_per_s > 0 or any(
        v.byzantine == Byzantine.RANDOM_FL_SCORE.value for v in scenario.validators
    )
    cluster = Cluster.create(scenario, out / "devnet", run_models=run_models, run_fl=run_fl)
    log(f"{scenario.name} (seed {seed}): {len(scenario.validators)} validators, {why}")
    began = time.monotonic()
    timings: dict[str, float] = {}
    recorder = Recorder(out / HISTORY_FILE)
    try:
        if topology is not None:
            topology.setup()
            cluster.use_namespaces(topology)
        network = Network(cluster, topology, netem=topology is not None and netns.netem_available())
        _start(cluster)
        timings["startS"] = time.monotonic() - began
        _record_scenario(recorder, scenario, seed, cluster, network)

        def live(line: str) -> None:
            log(f"[{time.monotonic() - began:6.1f}s] {line}")

        nemesis = Nemesis(cluster, network, recorder, random.Random(seed), live)
        for member in cluster.members:
            if member.byzantine is not None:
                recorder.record(
                    {
                        "type": "nemesis",
                        "f": "byzantine",
                        "value": {"node": member.index, "role": member.byzantine},
                        "mechanism": "config",
                        "phase": "start",
                    }
                )
                live(f"byzantine node{member.index}: {member.byzantine} [config]")
        load = Load(scenario, seed, cluster, recorder)
        load.start()
        try:
            _schedule(scenario, nemesis, load)
            timings["loadS"] = time.monotonic() - began - timings["startS"]
            load.stop_clients()
            nemesis.heal_all()
            drained = time.monotonic()
            _wait_live(cluster, load, scenario)
            observe.settle_accepted(
                cluster,
                load.accepted,
                max(10.0, SETTLE_BLOCKS * scenario.block_interval_s),
            )
            observe.converge(cluster, CONVERGE_TIMEOUT_S)
        finally:
            load.stop()
        timings["drainS"] = time.monotonic() - drained
        observed = time.monotonic()
        live("collecting the final observations")
        observe.record_blocks(cluster, recorder)
        observe.record_receipts(cluster, recorder, load.accepted)
        observe.record_offences(cluster, recorder)
        observe.record_inferences(cluster, recorder, load.requested, INFERENCE_END_TIMEOUT_S)
        observe.record_fl(cluster, recorder, load.fl_task, FL_END_TIMEOUT_S)
        timings["observeS"] = time.monotonic() - observed
    finally:
        recorder.close()
        cluster.stop_all()
        if topology is not None:
            topology.teardown()
    timings["totalS"] = time.monotonic() - began
    return judge(out, scenario, seed, timings)


def judge(
    out: Path,
    scenario: Scenario,
    seed: int,
    timings: dict[str, float],
) -> RunResult:
    """Check <out>/history.jsonl, write report.json and timeline.png."""
    history = load_history(out / HISTORY_FILE)
    verdicts = check_all(history)
    report = write_report(out, scenario, seed, history, verdicts, timings)
    from node.chaos.timeline import draw_timeline  # local: matplotlib loads only to draw

    draw_timeline(history, verdicts, out / TIMELINE_FILE)
    return RunResult(out, verdicts, report)


def _start(cluster: Cluster) -> None:
    """Start every node, each dialling those up, and wait until all have peered and the chain
    has moved.

    Raises:
        RunError: a node did not start, or the network did not produce in time.
    """
    for index in range(len(cluster)):
        cluster.start(index)
    wanted = len(cluster) - 1

    def producing() -> bool:
        try:
            status = [cluster.client(i, 3.0).call("brain_nodeStatus") for i in range(len(cluster))]
        except ClientError:
            return False
        return all(s["peers"] >= wanted and int(s["height"], 16) >= 1 for s in status)

    if not observe.wait_until(producing, PRODUCING_TIMEOUT_S):
        raise RunError(
            f"the nodes did not peer and commit within {PRODUCING_TIMEOUT_S:.0f} s "
            f"(see node.log in each home under {cluster.home})"
        )


def _record_scenario(
    recorder: Recorder, scenario: Scenario, seed: int, cluster: Cluster, network: Network
) -> None:
    genesis = json.loads((cluster.members[0].home / GENESIS_FILE).read_text(encoding="utf-8"))
    recorder.record(
        {
            "type": "scenario",
            "name": scenario.name,
            "seed": seed,
            "validators": [
                {
                    "index": m.index,
                    "address": genesis["validators"][m.index]["address"],
                    "peerId": m.peer_id,
                    "byzantine": m.byzantine,
                    "stake": scenario.validators[m.index].stake,
                }
                for m in cluster.members
            ],
            "mechanism": {
                "partition": network.partition_mechanism,
                "links": network.links_mechanism,
            },
            "livenessBoundS": scenario.liveness_bound_s,
        }
    )


def _schedule(scenario: Scenario, nemesis: Nemesis, load: Load) -> None:
    """Carry out the faults from now until duration_s: by time since now or by the highest
    sampled height; each one's undo duration_s after it happened."""
    t0 = time.monotonic()
    waiting = sorted(scenario.faults, key=lambda f: (f.at_s is None, f.at_s or 0, f.index))
    undos: list[tuple[float, Fault]] = []
    while (now := time.monotonic()) < t0 + scenario.duration_s:
        due = [
            f
            for f in waiting
            if (f.at_s is not None and now >= t0 + f.at_s)
            or (f.at_height is not None and load.max_height >= f.at_height)
        ]
        for fault in due:
            waiting.remove(fault)
            nemesis.start(fault)
            if fault.duration_s is not None and fault.kind in UNDO:
                undos.append((time.monotonic() + fault.duration_s, fault))
        for entry in sorted(undos, key=lambda u: u[0]):
            if time.monotonic() >= entry[0]:
                undos.remove(entry)
                nemesis.end(entry[1])
        time.sleep(TICK_S)
    for _, fault in sorted(undos, key=lambda u: u[0]):
        nemesis.end(fault)  # a fault by height that started late: its undo is due now


def _wait_live(cluster: Cluster, load: Load, scenario: Scenario) -> None:
    """Keep sampling until every honest node up has passed the highest height seen now, or
    the scenario's liveness bound passes (the liveness checker judges which)."""
    target = load.max_height
    honest = [m.index for m in cluster.members if m.byzantine is None]

    def passed() -> bool:
        heights = load.heights_now()
        return all(heights.get(i, -1) > target for i in cluster.up() if i in honest)

    observe.wait_until(passed, scenario.liveness_bound_s)
