"""The nemesis: carries out a scenario's faults on the cluster and records each in the history.

Process faults are signals to the node's process group; WAL faults edit the tail of a stopped
node's LevelDB log file; clock skew goes through chaos_setClockSkew. Partitions and link faults
go through network namespaces (node/chaos/netns.py) when the runner could build them, else
through the nodes' own p2p fault layer (chaos_setFaults), which forgets its rules when a node
restarts: `Network.push` installs them again on every node that comes back.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from node.chaos.cluster import Cluster, NodeState
from node.chaos.history import Recorder
from node.chaos.netns import Topology
from node.chaos.scenario import GROUP_KINDS, LINK_KINDS, UNDO, Fault, order_problem
from node.cli.client import ClientError
from node.config import DATA_DIR
from node.devnet import DevnetError
from node.p2p.faults import FaultRule, LinkFaults

RPC_TIMEOUT_S = 5.0
# netem delays only what it holds, so reordering needs a delay to act on; where a scenario
# reorders without one, this small one gives it room (the fault layer holds reordered messages
# REORDER_HOLD_MS longer instead).
NETEM_REORDER_DELAY_MS = (5.0, 50.0)


class FaultError(Exception):
    """A fault cannot be carried out (its node is in the wrong state, no WAL file, ...)."""


class Network:
    """Partitions and link faults in force, applied by namespaces, netem or the fault layer."""

    def __init__(self, cluster: Cluster, topology: Topology | None, netem: bool) -> None:
        self.cluster = cluster
        self.topology = topology
        self.netem = netem and topology is not None
        self.partition_mechanism = "netns" if topology is not None else "fault-layer"
        self.links_mechanism = "netem" if self.netem else "fault-layer"
        self._layer: list[Fault] = []  # the faults the nodes' fault layer carries
        self._shaped: dict[tuple[int, int], LinkFaults] = {}  # pairs netem shapes now

    def mechanism(self, kind: str) -> str:
        return self.partition_mechanism if kind == "partition" else self.links_mechanism

    def install(self, active: Sequence[Fault]) -> None:
        """Make the network what `active` (the group faults in force, oldest first) says.

        Raises:
            NetnsError: an `ip` or `tc` command failed.
        """
        partitions = [f for f in active if f.kind == "partition"]
        links = [f for f in active if f.kind in LINK_KINDS]
        if self.topology is not None:
            # Namespaces hold one partition at a time: the newest in force.
            if partitions:
                self.topology.partition(partitions[-1].groups)
            else:
                self.topology.heal()
        if self.netem:
            self._shape(links)
        self._layer = [
            f
            for f in active
            if (f.kind == "partition" and self.topology is None)
            or (f.kind in LINK_KINDS and not self.netem)
        ]
        for index in self.cluster.up():
            self.push(index)

    def push(self, index: int) -> None:
        """Install node `index`'s fault-layer rules (again: after a restart or a pause)."""
        rules = [rule.to_json() for fault in self._layer for rule in self._rules(fault, index)]
        try:
            self.cluster.client(index, RPC_TIMEOUT_S).call("chaos_setFaults", rules)
        except ClientError as exc:
            raise FaultError(f"node{index}: chaos_setFaults failed: {exc}") from None

    def _rules(self, fault: Fault, index: int) -> list[FaultRule]:
        """What node `index` does to messages from the other groups of `fault`."""
        mine = next((g for g in fault.groups if index in g), None)
        if mine is None:
            return []
        peers = tuple(
            self.cluster.members[j].peer_id for g in fault.groups if g is not mine for j in g
        )
        return [_rule(fault, peers)]

    def _shape(self, links: list[Fault]) -> None:
        assert self.topology is not None
        per_pair: dict[tuple[int, int], list[FaultRule]] = {}
        for fault in links:
            for a, group in enumerate(fault.groups):
                for other in fault.groups[a + 1 :]:
                    for i in group:
                        for j in other:
                            pair = (min(i, j), max(i, j))
                            per_pair.setdefault(pair, []).append(_rule(fault, ()))
        wanted = {pair: LinkFaults.of(rules) for pair, rules in per_pair.items()}
        for pair in sorted(set(wanted) | set(self._shaped)):
            link = wanted.get(pair)
            if link == self._shaped.get(pair):
                continue
            lo, hi = link.delay_ms if link else (0.0, 0.0)
            if link and link.reorder and not hi:
                lo, hi = NETEM_REORDER_DELAY_MS
            self.topology.set_link(
                *pair,
                delay_ms=(lo, hi),
                loss=link.drop if link else 0.0,
                duplicate=link.duplicate if link else 0.0,
                reorder=link.reorder if link else 0.0,
            )
        self._shaped = wanted


def _rule(fault: Fault, peers: tuple[str, ...]) -> FaultRule:
    return FaultRule(
        peers=peers,
        block=fault.kind == "partition",
        drop=fault.probability if fault.kind == "drop" else 0.0,
        delay_ms=(float(fault.delay_ms[0]), float(fault.delay_ms[1])),
        duplicate=fault.probability if fault.kind == "duplicate" else 0.0,
        reorder=fault.probability if fault.kind == "reorder" else 0.0,
    )


class Nemesis:
    """Applies faults one at a time (from the runner's thread) and records what it did."""

    def __init__(
        self,
        cluster: Cluster,
        network: Network,
        recorder: Recorder,
        rng: random.Random,
        log: Callable[[str], None],
    ) -> None:
        self.cluster, self.network, self.recorder = cluster, network, recorder
        self.rng, self.log = rng, log
        self.active: list[Fault] = []  # group faults in force, oldest first
        self.skew: dict[int, float] = {}

    def start(self, fault: Fault) -> None:
        """Carry out `fault` as the schedule reached it.

        Raises:
            FaultError: its node is in a state it cannot act on, or the act failed.
            NetnsError: a namespace command failed.
        """
        if fault.kind in GROUP_KINDS:
            self.active.append(fault)
            self.network.install(self.active)
            self._record(fault, fault.kind, "start", self.network.mechanism(fault.kind))
        elif fault.kind == "heal":
            ended, self.active = self.active, []
            self.network.install(self.active)
            mechanism = self.network.mechanism(ended[0].kind if ended else "partition")
            self._record(fault, "heal", "end", mechanism, ended=[f.index for f in ended])
        else:
            self._node_fault(fault, fault.kind)

    def end(self, fault: Fault) -> None:
        """Undo `fault` after its duration_s (restart, resume, heal it, skew back to 0).

        Raises:
            FaultError, NetnsError: as for `start`.
        """
        if fault.kind in GROUP_KINDS:
            if fault not in self.active:
                return  # a heal took it already
            self.active.remove(fault)
            self.network.install(self.active)
            self._record(fault, "heal", "end", self.network.mechanism(fault.kind))
        else:
            self._node_fault(fault, UNDO[fault.kind], undo=True)

    def heal_all(self) -> None:
        """End what is still in force at the end of the run: partitions and link faults, pauses
        and clock skews (a node the scenario killed stays down)."""
        for fault in list(self.active):
            self.end(fault)
        for index, member in enumerate(self.cluster.members):
            if member.state is NodeState.PAUSED:
                self.cluster.resume(index)
                self._after_up(index)
                self._record_plain("resume", "end", "signal", node=index, reason="end of run")
            if self.skew.get(index):
                self._set_skew(index, 0.0)
                self._record_plain("clock-skew", "end", "fault-layer", node=index, skewS=0.0)

    def _node_fault(self, fault: Fault, kind: str, *, undo: bool = False) -> None:
        index = fault.node
        assert index is not None
        state = self.cluster.state(index)
        problem = order_problem(kind, "down" if state is NodeState.DOWN else state.value)
        if problem:
            raise FaultError(f"faults[{fault.index}]: {kind} of node{index}: {problem}")
        phase = "end" if kind in ("restart", "resume") or undo else "start"
        extra: dict[str, Any] = {}
        if kind == "kill":
            self.cluster.kill(index)
            mechanism = "signal"
        elif kind == "pause":
            self.cluster.pause(index)
            mechanism = "signal"
        elif kind == "resume":
            self.cluster.resume(index)
            self._after_up(index)
            mechanism = "signal"
        elif kind == "restart":
            mechanism = "signal"
            if state is NodeState.RUNNING:
                self.cluster.stop(index)
            try:
                self.cluster.start(index)
            except DevnetError as exc:
                extra["error"] = str(exc)
                self.log(f"node{index} did not come back: {exc}")
            else:
                self._after_up(index)
        elif kind == "clock-skew":
            seconds = 0.0 if undo else fault.skew_s
            self._set_skew(index, seconds)
            extra["skewS"] = seconds
            mechanism = "fault-layer"
        else:  # wal-truncate, wal-corrupt
            extra.update(self._damage_wal(index, kind, fault.bytes))
            mechanism = "file"
        self._record(fault, kind, phase, mechanism, **extra)

    def _after_up(self, index: int) -> None:
        """A node that came back lost its fault-layer rules and skew (restart) or missed
        their changes (pause): give it what is in force now."""
        self.network.push(index)
        if self.skew.get(index):
            self._set_skew(index, self.skew[index])

    def _set_skew(self, index: int, seconds: float) -> None:
        self.skew[index] = seconds
        if self.cluster.state(index) is not NodeState.RUNNING:
            return  # installed when it comes back
        try:
            self.cluster.client(index, RPC_TIMEOUT_S).call("chaos_setClockSkew", seconds)
        except ClientError as exc:
            raise FaultError(f"node{index}: chaos_setClockSkew failed: {exc}") from None

    def _damage_wal(self, index: int, kind: str, size: int) -> dict[str, Any]:
        """Cut or overwrite the last `size` bytes of the node's newest LevelDB log file."""
        data = self.cluster.members[index].home / DATA_DIR
        logs = sorted(data.glob("*.log"), key=lambda p: p.name)
        if not logs:
            raise FaultError(f"node{index}: no LevelDB log file (*.log) in {data}")
        path: Path = logs[-1]
        length = path.stat().st_size
        cut = min(size, length)
        if kind == "wal-truncate":
            with open(path, "r+b") as file:
                file.truncate(length - cut)
        else:
            with open(path, "r+b") as file:
                file.seek(length - cut)
                file.write(self.rng.randbytes(cut))
        return {"file": path.name, "bytes": cut, "sizeBefore": length}

    def _record(self, fault: Fault, f: str, phase: str, mechanism: str, **extra: Any) -> None:
        value: dict[str, Any] = {"fault": fault.index}
        if fault.node is not None:
            value["node"] = fault.node
        if fault.groups:
            value["groups"] = [list(g) for g in fault.groups]
        if fault.kind == "delay":
            value["delayMs"] = list(fault.delay_ms)
        if fault.kind in ("drop", "duplicate", "reorder"):
            value["probability"] = fault.probability
        value.update(extra)
        self._emit(f, phase, mechanism, value)
        what = f if f == fault.kind else f"{f} (end of faults[{fault.index}] {fault.kind})"
        detail = fault.describe().removeprefix(fault.kind)
        self.log(f"{what}{detail if f == fault.kind else ''} [{mechanism}]")

    def _record_plain(self, f: str, phase: str, mechanism: str, **value: Any) -> None:
        self._emit(f, phase, mechanism, value)
        self.log(f"{f} node{value.get('node')} (end of run) [{mechanism}]")

    def _emit(self, f: str, phase: str, mechanism: str, value: dict[str, Any]) -> None:
        self.recorder.record(
            {"type": "nemesis", "f": f, "value": value, "mechanism": mechanism, "phase": phase}
        )
