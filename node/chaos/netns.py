"""Real network faults for `brainchain chaos`: one Linux network namespace per node.

The p2p fault layer (node/p2p/faults.py) drops messages inside the node, above TCP. A partition
made here cuts the wire instead: a link set down takes its routes with it, so new connections
fail at once (ENETUNREACH) and open ones stall and time out as they would between machines.

Layout of a `Topology` of n nodes under a run prefix `p` (names carry the prefix, so parallel
runs never collide, and stay within IFNAMSIZ):
- namespace `p-n<i>` per node, lo up, holding the node's peer address (PEER_NET, a /32 on lo);
- a full mesh of veth pairs, one /30 of LINK_NET per pair, named `p-l<j>` inside node i's
  namespace for its link to node j; a /32 route to each peer's address goes over the direct
  link, so every peer dials node i at one address, and a link set down is a partition;
- a management veth per node to the root namespace (`p-m<i>` there, `p-r` inside), one /30 of
  this run's /24 of MGMT_NET: the runner and clients in the root namespace reach each node's RPC
  at its management address, and no namespace has a route to any other's management address.
Nothing has a default route: traffic stays inside these namespaces, their links and 127.0.0.1.
Only the management /24 is visible in the root namespace, so only it is allocated per run
(under a file lock); link and peer addresses repeat in every run's private namespaces.
"""

from __future__ import annotations

import fcntl
import functools
import ipaddress
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

LINK_NET = ipaddress.IPv4Network("10.231.0.0/18")  # a /30 per pair of nodes
PEER_NET = ipaddress.IPv4Network("10.231.64.0/24")  # one /32 per node, on its lo
MGMT_NET = ipaddress.IPv4Network("10.231.128.0/17")  # a /24 per run, a /30 per node
MGMT_BLOCK = 256  # addresses of one run's management /24
MAX_NODES = 64  # a /30 per node in the run's management /24
PREFIX_RE = re.compile(r"[a-z][a-z0-9]{0,7}")  # with "-m63": at most 12 of IFNAMSIZ's 15
LOCK_PATH = Path("/run/brainchain-netns.lock")  # serialises management /24 allocation
COMMAND_TIMEOUT_S = 30.0
NETEM_ADVICE = "use the p2p fault layer (chaos_setFaults) for delay, loss, duplicates, reorder"


class NetnsError(Exception):
    """A namespace, link or route could not be made or changed; the message names the command."""


class NetemUnavailable(NetnsError):
    """`tc netem` cannot shape links on this machine (no sch_netem in the kernel, or no `tc`)."""


@dataclass(frozen=True, slots=True)
class Link:
    """The direct link between nodes a < b and whether it carries traffic (both ends up)."""

    a: int
    b: int
    up: bool


def _ip(
    line: str, *, ns: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run `ip [-n ns] <line>` (names here never hold spaces); NetnsError with its stderr when
    `check` and it fails."""
    argv = ["ip", *(("-n", ns) if ns else ()), *line.split()]
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NetnsError(f"`{' '.join(argv)}` failed: {exc}") from None
    if check and done.returncode != 0:
        raise NetnsError(f"`{' '.join(argv)}` failed: {done.stderr.strip() or done.returncode}")
    return done


def _ip_json(line: str, *, ns: str | None = None) -> list[dict[str, Any]]:
    out = _ip(f"-j {line}", ns=ns).stdout.strip()
    parsed: list[dict[str, Any]] = json.loads(out) if out else []
    return parsed


@contextmanager
def _scratch_namespace() -> Iterator[str]:
    """A throwaway namespace for probing what this machine allows, deleted on exit."""
    name = f"bcprobe{os.getpid()}"
    _ip(f"netns del {name}", check=False)  # left by a killed process with this pid
    _ip(f"netns add {name}")
    try:
        yield name
    finally:
        _ip(f"netns del {name}", check=False)


def available() -> str | None:
    """None when this process can build a Topology; otherwise why not, in one line."""
    if not sys.platform.startswith("linux"):
        return "network namespaces need Linux"
    if os.geteuid() != 0:
        return "not root: network namespaces need CAP_NET_ADMIN"
    if shutil.which("ip") is None:
        return "no `ip` command (iproute2)"
    try:
        with _scratch_namespace() as ns:
            _ip("link add name probe0 type veth peer name probe1", ns=ns)
    except NetnsError as exc:
        return f"cannot make a network namespace with a veth pair: {exc}"
    return None


@functools.cache
def _netem_problem() -> str | None:
    """Why `tc netem` cannot be used here, or None; probed once, the kernel does not change."""
    if shutil.which("tc") is None:
        return "no `tc` command (iproute2)"
    try:
        with _scratch_namespace() as ns:
            _ip(f"netns exec {ns} tc qdisc add dev lo root netem delay 1ms")
    except NetnsError as exc:
        return str(exc)
    return None


def netem_available() -> bool:
    """Whether `set_link` can delay and drop on the wire (needs root and sch_netem)."""
    return available() is None and _netem_problem() is None


def new_prefix() -> str:
    """A fresh run prefix, "bc" and six hex digits: unique among runs on one machine."""
    return "bc" + secrets.token_hex(3)


def _check_prefix(prefix: str) -> None:
    if not PREFIX_RE.fullmatch(prefix):
        raise ValueError(
            f"prefix {prefix!r} must be a lower-case letter then up to 7 letters or digits "
            "(interface names carry it and have at most 15 characters)"
        )


def _ours(name: str, prefix: str) -> bool:
    """Whether a namespace or root-namespace link name belongs to the run `prefix`."""
    return re.fullmatch(rf"{re.escape(prefix)}-[nm]\d+", name) is not None


def _namespaces() -> list[str]:
    lines = _ip("netns list").stdout.splitlines()
    return [line.split()[0] for line in lines if line.strip()]


def cleanup_stale(prefix: str) -> list[str]:
    """Remove the namespaces and root-namespace links of the run `prefix` (e.g. one that was
    killed); return what was removed. Processes still inside those namespaces are SIGKILLed
    first: the namespace, and its links, live on as long as any process is in it.

    Raises:
        ValueError: a malformed prefix.
        NetnsError: `ip` failed (not root, or a namespace would not go).
    """
    _check_prefix(prefix)
    # Root ends first: a deleted namespace frees its links only once the kernel gets to it.
    # Deleting one end of a veth deletes both.
    links = [str(link.get("ifname", "")) for link in _ip_json("link show")]
    removed = [name for name in links if _ours(name, prefix)]
    for name in removed:
        _ip(f"link del {name}")
    for ns in _namespaces():
        if not _ours(ns, prefix):
            continue
        for pid in _ip(f"netns pids {ns}", check=False).stdout.split():
            with suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        _ip(f"netns del {ns}")
        removed.append(ns)
    return removed


class Topology:
    """n nodes, one namespace each, a full mesh of links, and a management link per node.

    Use as a context manager, or call `setup()` and, whatever happens, `teardown()`.
    """

    def __init__(self, n: int, prefix: str) -> None:
        """Plan the names and addresses; nothing is created before `setup`.

        Raises:
            ValueError: n outside 2..MAX_NODES, or a malformed prefix.
        """
        if not 2 <= n <= MAX_NODES:
            raise ValueError(f"a topology has 2 to {MAX_NODES} nodes, not {n}")
        _check_prefix(prefix)
        self.n, self.prefix = n, prefix
        self._pairs = {pair: k for k, pair in enumerate(itertools.combinations(range(n), 2))}
        self._mgmt_base: ipaddress.IPv4Address | None = None  # this run's /24, once set up

    # -- names and addresses ---------------------------------------------------------------

    def namespace(self, i: int) -> str:
        """The name of node i's namespace (`ip netns exec <name> ...`)."""
        self._check_node(i)
        return f"{self.prefix}-n{i}"

    def peer_address(self, i: int) -> str:
        """The address every other node dials node i at (bind libp2p here, or on 0.0.0.0)."""
        self._check_node(i)
        return str(PEER_NET.network_address + 1 + i)

    def mgmt_address(self, i: int) -> str:
        """Node i's address on its management link: bind RPC here, reach it from the root
        namespace; unreachable from the other nodes' namespaces.

        Raises:
            NetnsError: the topology is not set up (the address is allocated by `setup`).
        """
        self._check_node(i)
        if self._mgmt_base is None:
            raise NetnsError("the topology is not set up: management addresses come with setup")
        return str(self._mgmt_base + 4 * i + 2)

    def command(self, i: int, argv: Sequence[str]) -> list[str]:
        """`argv` run inside node i's namespace (`ip netns exec` execs it: same pid)."""
        if not argv:
            raise ValueError("command needs a program to run")
        return ["ip", "netns", "exec", self.namespace(i), *argv]

    def _check_node(self, i: int) -> None:
        if not isinstance(i, int) or not 0 <= i < self.n:
            raise ValueError(f"no node {i!r}: the topology has nodes 0 to {self.n - 1}")

    def _pair(self, i: int, j: int) -> tuple[int, int]:
        self._check_node(i)
        self._check_node(j)
        if i == j:
            raise ValueError(f"a link joins two different nodes, not {i} and itself")
        return (i, j) if i < j else (j, i)

    def _link_address(self, i: int, j: int) -> str:
        """Node i's address on its link to j: .1 for the lower index of the pair's /30."""
        pair = self._pair(i, j)
        return str(LINK_NET.network_address + 4 * self._pairs[pair] + (1 if i == pair[0] else 2))

    def _link_ifname(self, j: int) -> str:
        """The end of a node's link to node j, inside that node's namespace."""
        return f"{self.prefix}-l{j}"

    # -- lifecycle -------------------------------------------------------------------------

    def setup(self) -> None:
        """Create the namespaces, links, addresses and routes; on failure remove what was made.

        Raises:
            NetnsError: leftovers of a run with this prefix, no free management /24, or an
                `ip` command failed (see `available()`).
        """
        leftovers = [ns for ns in _namespaces() if _ours(ns, self.prefix)]
        if leftovers:
            raise NetnsError(
                f"namespaces of a run {self.prefix!r} exist ({', '.join(leftovers)}): "
                f"remove them with cleanup_stale({self.prefix!r})"
            )
        try:
            for i in range(self.n):
                ns = self.namespace(i)
                _ip(f"netns add {ns}")
                _ip("link set lo up", ns=ns)
                _ip(f"addr add {self.peer_address(i)}/32 dev lo", ns=ns)
            self._add_management_links()
            for i, j in self._pairs:
                _ip(
                    f"link add name {self._link_ifname(j)} type veth "
                    f"peer name {self._link_ifname(i)} netns {self.namespace(j)}",
                    ns=self.namespace(i),
                )
                for a, b in ((i, j), (j, i)):
                    address = f"{self._link_address(a, b)}/30"
                    _ip(f"addr add {address} dev {self._link_ifname(b)}", ns=self.namespace(a))
                self._bring_up(i, j)
        except BaseException:
            self.teardown()
            raise

    def _add_management_links(self) -> None:
        """Claim a free management /24 and link each namespace to the root namespace.

        The lock makes the look-for-a-free-block and the claim one step among parallel runs:
        the root namespace is the one place their addresses meet.
        """
        with open(LOCK_PATH, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            used = {
                (int(ipaddress.IPv4Address(a["local"])) - int(MGMT_NET.network_address))
                // MGMT_BLOCK
                for link in _ip_json("-4 addr show")
                for a in link.get("addr_info", ())
                if ipaddress.IPv4Address(a["local"]) in MGMT_NET
            }
            free = [b for b in range(MGMT_NET.num_addresses // MGMT_BLOCK) if b not in used]
            if not free:
                raise NetnsError(
                    f"every management /24 of {MGMT_NET} is in use: leftovers of killed runs? "
                    "(cleanup_stale(prefix))"
                )
            self._mgmt_base = MGMT_NET.network_address + MGMT_BLOCK * free[0]
            inner = f"{self.prefix}-r"
            for i in range(self.n):
                root, ns = f"{self.prefix}-m{i}", self.namespace(i)
                _ip(f"link add name {root} type veth peer name {inner} netns {ns}")
                _ip(f"addr add {self._mgmt_base + 4 * i + 1}/30 dev {root}")
                _ip(f"link set {root} up")
                _ip(f"addr add {self.mgmt_address(i)}/30 dev {inner}", ns=ns)
                _ip(f"link set {inner} up", ns=ns)

    def teardown(self) -> None:
        """Remove every namespace and link of this run, whatever state a failure left them in;
        safe to call again. Processes still inside the namespaces are killed.

        Raises:
            NetnsError: `ip` failed.
        """
        cleanup_stale(self.prefix)
        self._mgmt_base = None

    def __enter__(self) -> Topology:
        self.setup()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.teardown()

    # -- faults ----------------------------------------------------------------------------

    def partition(self, groups: Sequence[Sequence[int]]) -> None:
        """Cut every link between nodes of different groups and bring every other link up
        (this replaces an earlier partition). A node in no group keeps all its links, as in a
        scenario's groups, which need not name every node.

        Raises:
            ValueError: fewer than two groups, an unknown node, or a node in two groups.
            NetnsError: an `ip` command failed.
        """
        if len(groups) < 2:
            raise ValueError(f"a partition needs two or more groups, not {groups!r}")
        group_of: dict[int, int] = {}
        for g, group in enumerate(groups):
            for i in group:
                self._check_node(i)
                if i in group_of:
                    raise ValueError(f"node {i} is in two groups of {groups!r}")
                group_of[i] = g
        for i, j in self._pairs:
            if i in group_of and j in group_of and group_of[i] != group_of[j]:
                self._bring_down(i, j)
            else:
                self._bring_up(i, j)

    def heal(self) -> None:
        """Every link up again, with its routes.

        Raises:
            NetnsError: an `ip` command failed.
        """
        for i, j in self._pairs:
            self._bring_up(i, j)

    def links(self) -> list[Link]:
        """Each pair's link as the kernel has it now, in pair order.

        Raises:
            NetnsError: the topology is not set up, or `ip` failed.
        """
        up_ends = {
            (i, link["ifname"])
            for i in range(self.n)
            for link in _ip_json("link show", ns=self.namespace(i))
            if "UP" in link.get("flags", ())
        }
        return [
            Link(
                i, j, (i, self._link_ifname(j)) in up_ends and (j, self._link_ifname(i)) in up_ends
            )
            for i, j in self._pairs
        ]

    def _bring_down(self, i: int, j: int) -> None:
        """Both ends down: then neither side keeps a route, and connecting fails at once."""
        for a, b in ((i, j), (j, i)):
            _ip(f"link set {self._link_ifname(b)} down", ns=self.namespace(a))

    def _bring_up(self, i: int, j: int) -> None:
        """Both ends up, then each side's route to the other's peer address (a link set down
        lost it), from its own peer address: peers see each other at one address each."""
        for a, b in ((i, j), (j, i)):
            _ip(f"link set {self._link_ifname(b)} up", ns=self.namespace(a))
        for a, b in ((i, j), (j, i)):
            _ip(
                f"route replace {self.peer_address(b)}/32 via {self._link_address(b, a)} "
                f"dev {self._link_ifname(b)} src {self.peer_address(a)}",
                ns=self.namespace(a),
            )

    def set_link(
        self,
        i: int,
        j: int,
        *,
        delay_ms: float | tuple[float, float] = 0.0,
        loss: float = 0.0,
        duplicate: float = 0.0,
        reorder: float = 0.0,
    ) -> None:
        """Shape the link between i and j in both directions with `tc netem`: each packet is
        delayed (a fixed time, or uniformly within (lo, hi)), lost, duplicated or sent out of
        order (needs a delay) with the given probabilities. All zero: the link is plain again.

        Raises:
            ValueError: an unknown node, a probability outside 0..1, or a bad delay.
            NetemUnavailable: netem is not usable here; the message says what to use instead.
            NetnsError: `tc` failed.
        """
        pair = self._pair(i, j)
        lo, hi = delay_ms if isinstance(delay_ms, tuple) else (delay_ms, delay_ms)
        if not 0 <= lo <= hi:
            raise ValueError(f"delay_ms must be >= 0, or (lo, hi) with 0 <= lo <= hi: {delay_ms!r}")
        odds = {"loss": loss, "duplicate": duplicate, "reorder": reorder}
        for name, p in odds.items():
            if not 0 <= p <= 1:
                raise ValueError(f"{name} is a probability in 0..1, not {p!r}")
        if reorder and not hi:
            raise ValueError("netem reorders only delayed packets: give delay_ms with reorder")
        problem = available() or _netem_problem()
        if problem is not None:
            raise NetemUnavailable(f"tc netem is not usable here ({problem}): {NETEM_ADVICE}")
        netem = f"delay {(lo + hi) / 2}ms {(hi - lo) / 2}ms" + "".join(
            f" {name} {p * 100}%" for name, p in odds.items() if p
        )
        for a, b in (pair, pair[::-1]):
            tc = f"netns exec {self.namespace(a)} tc qdisc"
            dev = f"dev {self._link_ifname(b)} root"
            if hi == 0 and not any(odds.values()):
                _ip(f"{tc} del {dev}", check=False)  # fails when none is installed: plain
            else:
                _ip(f"{tc} replace {dev} netem {netem}")
