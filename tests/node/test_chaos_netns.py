"""Network namespaces for chaos runs: real links cut and healed between real processes."""

from __future__ import annotations

import errno
import json
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import NamedTuple

import pytest

from node import devnet
from node.chaos import netns
from node.chaos.netns import NetemUnavailable, NetnsError, Topology
from node.config import load_config, write_config
from tests.node.harness import REPO, Network, height, wait_for_height
from tests.node.test_consensus_network import make_follower

UNUSABLE = netns.available()
needs_netns = pytest.mark.skipif(UNUSABLE is not None, reason=f"no network namespaces: {UNUSABLE}")
CONNECT_TIMEOUT_S = 5.0
FAST_S = 1.0  # a cut link refuses at once (no route); a timeout would take CONNECT_TIMEOUT_S

# Answers every connection with its node index, on every address of its namespace.
SERVER = """
import socket, sys
server = socket.create_server(("0.0.0.0", 0))
print(server.getsockname()[1], flush=True)
while True:
    conn, _ = server.accept()
    conn.sendall(sys.argv[1].encode())
    conn.close()
"""
# Connects once and prints {"reply": ...} or {"errno": ...}, and how long it took.
CLIENT = """
import json, socket, sys, time
start = time.monotonic()
try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3])) as c:
        out = {"reply": c.recv(16).decode()}
except TimeoutError:
    out = {"errno": "timeout"}
except OSError as exc:
    out = {"errno": exc.errno}
out["seconds"] = time.monotonic() - start
print(json.dumps(out))
"""


class Attempt(NamedTuple):
    """One connection attempt: the server's reply, or the errno ("timeout") it failed with."""

    reply: str | None
    error: int | str | None
    seconds: float


def leftovers(prefix: str) -> list[str]:
    """Namespaces and root-namespace links whose names carry `prefix`, as `ip` lists them."""
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    names = [line.split()[0] for line in namespaces.splitlines() if line.strip()]
    names += [line.split(":")[1].strip().split("@")[0] for line in links.splitlines()]
    return sorted(name for name in names if name.startswith(f"{prefix}-"))


@pytest.fixture
def topology() -> Iterator[Topology]:
    topo = Topology(3, netns.new_prefix())
    topo.setup()
    try:
        yield topo
    finally:
        topo.teardown()
        assert leftovers(topo.prefix) == []


@pytest.fixture
def servers(topology: Topology) -> Iterator[list[int]]:
    """A TCP server in each namespace; their ports, by node."""
    procs = [
        subprocess.Popen(
            topology.command(i, [sys.executable, "-c", SERVER, str(i)]),
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(topology.n)
    ]
    try:
        ports = []
        for proc in procs:
            assert proc.stdout is not None
            ports.append(int(proc.stdout.readline()))  # printed once listening
        yield ports
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def connect(topology: Topology, src: int, host: str, port: int) -> Attempt:
    """Connect from inside node `src`'s namespace."""
    argv = [sys.executable, "-c", CLIENT, host, str(port), str(CONNECT_TIMEOUT_S)]
    done = subprocess.run(
        topology.command(src, argv), capture_output=True, text=True, timeout=30, check=True
    )
    out = json.loads(done.stdout)
    return Attempt(out.get("reply"), out.get("errno"), out["seconds"])


def assert_connects(topology: Topology, ports: list[int], src: int, dst: int) -> None:
    attempt = connect(topology, src, topology.peer_address(dst), ports[dst])
    assert attempt.reply == str(dst), (src, dst, attempt)


def assert_refused_fast(topology: Topology, src: int, host: str, port: int) -> None:
    attempt = connect(topology, src, host, port)
    assert attempt.error == errno.ENETUNREACH and attempt.seconds < FAST_S, (src, host, attempt)


def assert_mgmt_reaches(topology: Topology, ports: list[int], i: int) -> None:
    """From the root namespace, as the runner and its clients connect to each node's RPC."""
    with socket.create_connection(
        (topology.mgmt_address(i), ports[i]), timeout=CONNECT_TIMEOUT_S
    ) as conn:
        assert conn.recv(16) == str(i).encode()


@needs_netns
def test_a_partition_cuts_links_between_groups_and_heal_restores_them(
    topology: Topology, servers: list[int]
) -> None:
    pairs = [(0, 1), (0, 2), (1, 2)]
    for a, b in pairs:
        assert_connects(topology, servers, a, b)
        assert_connects(topology, servers, b, a)
    assert all(link.up for link in topology.links())

    topology.partition([[0, 1], [2]])
    assert [(link.a, link.b, link.up) for link in topology.links()] == [
        (0, 1, True),
        (0, 2, False),
        (1, 2, False),
    ]
    assert_connects(topology, servers, 0, 1)
    assert_connects(topology, servers, 1, 0)
    for a, b in [(0, 2), (2, 0), (1, 2), (2, 1)]:
        assert_refused_fast(topology, a, topology.peer_address(b), servers[b])
    for i in range(topology.n):
        assert_mgmt_reaches(topology, servers, i)
    # No way round the cut through the management links.
    assert_refused_fast(topology, 0, topology.mgmt_address(2), servers[2])
    assert_refused_fast(topology, 2, topology.mgmt_address(1), servers[1])

    topology.partition([[0], [1, 2]])  # replaces the first partition
    assert [link.up for link in topology.links()] == [False, False, True]
    assert_connects(topology, servers, 2, 1)
    assert_refused_fast(topology, 1, topology.peer_address(0), servers[0])

    topology.heal()
    assert all(link.up for link in topology.links())
    for a, b in pairs:
        assert_connects(topology, servers, a, b)
        assert_connects(topology, servers, b, a)


@needs_netns
def test_teardown_removes_everything_and_the_processes_inside(tmp_path: Path) -> None:
    topo = Topology(2, netns.new_prefix())
    with topo:
        assert len(leftovers(topo.prefix)) == 4  # two namespaces, two management links
        inside = subprocess.Popen(topo.command(1, ["sleep", "600"]))
    assert inside.wait(timeout=10) == -signal.SIGKILL
    assert leftovers(topo.prefix) == []
    topo.teardown()  # again: nothing to do
    with pytest.raises(NetnsError, match="not set up"):
        topo.mgmt_address(0)


@needs_netns
def test_cleanup_stale_removes_what_a_killed_run_left(tmp_path: Path) -> None:
    prefix = netns.new_prefix()
    run = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from node.chaos.netns import Topology\n"
            f"Topology(3, {prefix!r}).setup(); print('up', flush=True); time.sleep(600)",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert run.stdout is not None and run.stdout.readline() == "up\n"
    finally:
        run.kill()  # no teardown: the namespaces and links stay behind
        run.wait()
    left = leftovers(prefix)
    assert len(left) == 6  # three namespaces, three management links
    with pytest.raises(NetnsError, match=rf"cleanup_stale\('{prefix}'\)"):
        Topology(3, prefix).setup()
    assert sorted(netns.cleanup_stale(prefix)) == left
    assert leftovers(prefix) == []
    assert netns.cleanup_stale(prefix) == []


@needs_netns
def test_parallel_runs_get_separate_management_addresses() -> None:
    with Topology(2, netns.new_prefix()) as first, Topology(2, netns.new_prefix()) as second:
        first_addrs = {first.mgmt_address(i) for i in range(2)}
        assert first_addrs.isdisjoint(second.mgmt_address(i) for i in range(2))


@needs_netns
@pytest.mark.skipif(netns.netem_available(), reason="netem is available: links can be shaped")
def test_set_link_without_netem_says_to_use_the_fault_layer(topology: Topology) -> None:
    with pytest.raises(NetemUnavailable, match="fault layer"):
        topology.set_link(0, 1, delay_ms=(50, 200), loss=0.1)


@needs_netns
@pytest.mark.skipif(not netns.netem_available(), reason="no tc netem in this kernel")
def test_set_link_delays_both_directions_with_netem(topology: Topology, servers: list[int]) -> None:
    def attempt() -> Attempt:
        return connect(topology, 0, topology.peer_address(1), servers[1])

    assert attempt().seconds < 0.1
    topology.set_link(1, 0, delay_ms=200)
    slow = attempt()  # SYN out, SYN-ACK back, then the reply: three delayed packets
    assert slow.reply == "1" and slow.seconds >= 0.6, slow
    topology.set_link(0, 1)  # plain again
    assert attempt().seconds < 0.1


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="2 to 64 nodes"):
        Topology(1, "ok")
    with pytest.raises(ValueError, match="at most 15 characters"):
        Topology(3, "much-too-long-prefix")
    topo = Topology(3, "ok")
    with pytest.raises(ValueError, match="no node 3"):
        topo.partition([[0, 1], [3]])
    with pytest.raises(ValueError, match="node 1 is in two groups"):
        topo.partition([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="two or more groups"):
        topo.partition([[0, 1, 2]])
    with pytest.raises(ValueError, match="loss is a probability"):
        topo.set_link(0, 1, loss=1.5)
    with pytest.raises(ValueError, match="delay_ms"):
        topo.set_link(0, 1, delay_ms=(200, 50))
    with pytest.raises(ValueError, match="two different nodes"):
        topo.set_link(2, 2, delay_ms=5)
    assert topo.command(1, ["true"]) == ["ip", "netns", "exec", "ok-n1", "true"]


@needs_netns
def test_a_partitioned_follower_stops_and_catches_up_after_heal(tmp_path: Path) -> None:
    """A validator and a follower, each in its namespace: RPC on the management address,
    libp2p on the peer address; cutting their link stops the follower, healing it resumes."""
    home = tmp_path / "net"
    devnet.create(
        home,
        validators=1,
        chain_id=1337,
        rpc_port=0,
        p2p_port=0,
        metrics_port=0,
        block_interval_s=0.2,
    )
    homes = [*devnet.node_homes(home), make_follower(home)]
    with Topology(2, netns.new_prefix()) as topo:
        for i, node_home in enumerate(homes):
            cfg = replace(
                load_config(node_home),
                rpc_host=topo.mgmt_address(i),
                p2p_host=topo.peer_address(i),
                run_models=False,
                fl=False,
            )
            write_config(cfg)
        net = Network(homes)
        for i, node in enumerate(net.nodes):
            node.wrap = partial(topo.command, i)
        try:
            validator, follower = net.start(0), net.start(1)
            assert net.nodes[1].p2p.startswith(f"/ip4/{topo.peer_address(1)}/tcp/")
            wait_for_height([follower], 3)

            topo.partition([[0], [1]])
            cut_at = height(validator)
            wait_for_height([validator], cut_at + 10)
            stalled = height(follower)
            assert stalled <= cut_at + 1, (cut_at, stalled)  # at most one block in flight

            topo.heal()
            wait_for_height([follower], height(validator))
        finally:
            print(net.stop_all())
