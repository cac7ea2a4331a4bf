"""The scenario's devnet: node processes the runner starts, kills, pauses and restarts.

node/devnet.py creates the homes and starts each node in its own session; this module adds what
a chaos run needs on top: every config in chaos mode with its Byzantine role, the state the
runner put each node in (so load and sampling leave paused and dead nodes alone), the RPC URL
that changes at each restart (ports are the OS's choice), and reaping the processes it kills,
which are its own children: an unreaped child stays a zombie that still "exists" for a pid check.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import threading
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from node import devnet
from node.chaos.netns import Topology
from node.chaos.scenario import Scenario
from node.cli.client import RpcClient
from node.config import CONFIG_FILE, read_runtime

CHAIN_ID = 1337
STOP_GRACE_S = 10.0
REAP_POLL_S = 0.05


class NodeState(Enum):
    RUNNING = "running"
    PAUSED = "paused"
    DOWN = "down"


@dataclass(slots=True)
class Member:
    """One validator process as the runner sees it."""

    index: int
    home: Path
    byzantine: str | None
    state: NodeState = NodeState.DOWN
    url: str = ""
    peer_id: str = ""
    pid: int | None = None


class Cluster:
    """The validators of one run, under <out>/devnet; methods act on node indices."""

    def __init__(self, home: Path, members: list[Member]) -> None:
        self.home = home
        self.members = members
        self.topology: Topology | None = None
        self._lock = threading.Lock()

    @classmethod
    def create(
        cls, scenario: Scenario, home: Path, *, run_models: bool, run_fl: bool = False
    ) -> Cluster:
        """A new devnet for `scenario` at `home`: its stakes and block interval, every port the
        OS's choice, chaos mode and each validator's Byzantine role in its config; the FL
        service (scoring, recomputing versions) only where `run_fl` asks for it.

        Raises:
            DevnetError: `home` already holds a devnet.
        """
        if (home / devnet.DEVNET_FILE).exists():
            raise devnet.DevnetError(f"{home} already holds a devnet; give another --out")
        devnet.create(
            home,
            validators=len(scenario.validators),
            chain_id=CHAIN_ID,
            rpc_port=0,
            p2p_port=0,
            metrics_port=0,
            block_interval_s=scenario.block_interval_s,
            stakes=[v.stake for v in scenario.validators],
        )
        members = []
        for i, (node_home, validator) in enumerate(
            zip(devnet.node_homes(home), scenario.validators, strict=True)
        ):
            # Edited as JSON, not through NodeConfig, so the file says exactly what we set.
            path = node_home / CONFIG_FILE
            doc = json.loads(path.read_text(encoding="utf-8"))
            doc.update(chaos=True, run_models=run_models, warm_models=run_models, fl=run_fl)
            if validator.byzantine is not None:
                doc["byzantine"] = validator.byzantine
            path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
            members.append(Member(i, node_home, validator.byzantine))
        return cls(home, members)

    def use_namespaces(self, topology: Topology) -> None:
        """Run each node inside its namespace of `topology` (set up already): libp2p on its
        peer address, RPC and metrics on its management address, reachable from here."""
        for member in self.members:
            path = member.home / CONFIG_FILE
            doc = json.loads(path.read_text(encoding="utf-8"))
            doc.update(
                p2p_host=topology.peer_address(member.index),
                rpc_host=topology.mgmt_address(member.index),
            )
            path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        self.topology = topology

    def __len__(self) -> int:
        return len(self.members)

    def state(self, index: int) -> NodeState:
        with self._lock:
            return self.members[index].state

    def up(self) -> list[int]:
        """Nodes running and not paused: those that answer RPC."""
        with self._lock:
            return [m.index for m in self.members if m.state is NodeState.RUNNING]

    def client(self, index: int, timeout: float) -> RpcClient:
        with self._lock:
            return RpcClient(self.members[index].url, timeout=timeout)

    def start(self, index: int) -> None:
        """Start a stopped node, dialling those up; it catches up by block sync.

        Raises:
            DevnetError: it exited at start or did not start in time.
        """
        member = self.members[index]
        peers = [self.members[i].home for i in self.up() if i != index]
        bootstrap = [str(rt["p2p"]) for h in peers if (rt := read_runtime(h)) is not None]
        wrap = None
        if self.topology is not None:
            wrap = functools.partial(self.topology.command, index)
        url = devnet.start_node(member.home, bootstrap, wrap=wrap)
        runtime = read_runtime(member.home)
        assert runtime is not None  # start_node returned: the node wrote it
        with self._lock:
            member.url, member.pid, member.state = url, int(runtime["pid"]), NodeState.RUNNING
            member.peer_id = str(runtime["p2p"]).rsplit("/p2p/", 1)[-1]

    def kill(self, index: int) -> None:
        """kill -9 the node's process group (the node and any worker it started)."""
        member = self.members[index]
        self._signal(member, signal.SIGKILL)
        self._reap(member, timeout_s=STOP_GRACE_S)
        with self._lock:
            member.state, member.pid = NodeState.DOWN, None

    def stop(self, index: int) -> None:
        """SIGTERM, SIGKILL after STOP_GRACE_S: a clean stop, as an operator's restart does."""
        member = self.members[index]
        self._signal(member, signal.SIGTERM)
        if not self._reap(member, timeout_s=STOP_GRACE_S):
            self._signal(member, signal.SIGKILL)
            self._reap(member, timeout_s=STOP_GRACE_S)
        with self._lock:
            member.state, member.pid = NodeState.DOWN, None

    def pause(self, index: int) -> None:
        member = self.members[index]
        self._signal(member, signal.SIGSTOP)
        with self._lock:
            member.state = NodeState.PAUSED

    def resume(self, index: int) -> None:
        member = self.members[index]
        self._signal(member, signal.SIGCONT)
        with self._lock:
            member.state = NodeState.RUNNING

    def stop_all(self) -> None:
        """Stop every node still alive (a paused one is woken first so SIGTERM can land)."""
        for member in self.members:
            if member.state is NodeState.PAUSED:
                self.resume(member.index)
            if member.state is NodeState.RUNNING:
                self.stop(member.index)

    @staticmethod
    def _signal(member: Member, signum: int) -> None:
        if member.pid is None:
            raise devnet.DevnetError(f"node{member.index} is not running")
        # start_node gives each node its own session, so its pid is its process group's id.
        os.killpg(member.pid, signum)

    @staticmethod
    def _reap(member: Member, timeout_s: float) -> bool:
        """Wait for the node's process to exit and collect it; False if it is still alive."""
        pid = member.pid
        assert pid is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # not ours (started by an earlier process): poll it
                done = 0 if devnet.running_pid(member.home) == pid else pid
            if done:
                return True
            time.sleep(REAP_POLL_S)
        return False
