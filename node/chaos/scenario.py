"""Chaos scenario files: TOML in, a checked `Scenario` out, every mistake named by file and key.

A scenario is read once, before any process starts, so that a typo fails in a second with a
message saying where, not after minutes of devnet. The format is documented in
scenarios/quick.toml and the README ("Fault injection"); the schedule's simple order rules
(kill before wal-truncate, pause before resume, ...) are checked here for faults given by time;
faults given by height are checked when the runner applies them.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from brainchain.fl import SCORE_SCALE
from genesis.devnet import DEVNET_MODELS
from node.config import Byzantine
from node.fl.model import THRESHOLD

SCENARIOS_DIR = Path(__file__).resolve().parents[2] / "scenarios"
MAX_VALIDATORS = 16  # each is a process on this machine
DEFAULT_STAKE = 100
DEFAULT_BLOCK_INTERVAL_S = 0.5
DEFAULT_LIVENESS_BOUND_S = 30.0
DEFAULT_WAL_BYTES = 4096
DEFAULT_INFERENCE_MODEL = "tiny-gptj"
DEFAULT_INFERENCE_TOKENS = 8
DEFAULT_FL_THRESHOLD = THRESHOLD / SCORE_SCALE  # what `brainchain fl create` sets for digits-mlp
DEFAULT_FL_ATTACK_EVERY = 4  # each FL client's every 4th proposal is of zero weights
MAX_CLOCK_SKEW_S = 3600.0  # the bound chaos_setClockSkew accepts

NODE_KINDS = ("kill", "restart", "pause", "resume", "clock-skew", "wal-truncate", "wal-corrupt")
LINK_KINDS = ("delay", "drop", "duplicate", "reorder")
GROUP_KINDS = ("partition", *LINK_KINDS)
KINDS = (*NODE_KINDS, *GROUP_KINDS, "heal")
# The faults that `duration_s` can undo, and what undoes them.
UNDO = {
    "kill": "restart",
    "pause": "resume",
    "clock-skew": "clock-skew",
    **{kind: "heal" for kind in GROUP_KINDS},
}
# Keys each kind takes beside kind, at_s/at_height and (where UNDO has it) duration_s.
KIND_KEYS: dict[str, frozenset[str]] = {
    **{kind: frozenset({"node"}) for kind in ("kill", "restart", "pause", "resume")},
    "clock-skew": frozenset({"node", "skew_s"}),
    "wal-truncate": frozenset({"node", "bytes"}),
    "wal-corrupt": frozenset({"node", "bytes"}),
    "partition": frozenset({"groups"}),
    "delay": frozenset({"groups", "delay_ms"}),
    **{kind: frozenset({"groups", "probability"}) for kind in ("drop", "duplicate", "reorder")},
    "heal": frozenset(),
}
REQUIRED_KEYS = {
    **{kind: ("node",) for kind in NODE_KINDS},
    "clock-skew": ("node", "skew_s"),
    "partition": ("groups",),
    "delay": ("groups", "delay_ms"),
    **{kind: ("groups", "probability") for kind in ("drop", "duplicate", "reorder")},
}
ALL_FAULT_KEYS = frozenset({"kind", "at_s", "at_height", "duration_s"}.union(*KIND_KEYS.values()))


class ScenarioError(ValueError):
    """A scenario file is missing, not TOML, or breaks a rule; the message names file and key."""


@dataclass(frozen=True, slots=True)
class Validator:
    stake: int = DEFAULT_STAKE
    byzantine: str | None = None  # a node.config.Byzantine value


@dataclass(frozen=True, slots=True)
class Load:
    """The client load: transfers, inference requests and FL proposals per second over the
    whole run; an FL client's every `fl_attack_every`-th proposal is of zero weights (0: none),
    to a task whose acceptance threshold is `fl_threshold` (a fraction, as `fl create` takes)."""

    transfers_per_s: float = 0.0
    inference_per_s: float = 0.0
    inference_model: str = DEFAULT_INFERENCE_MODEL
    inference_max_tokens: int = DEFAULT_INFERENCE_TOKENS
    fl_proposals_per_s: float = 0.0
    fl_threshold: float = DEFAULT_FL_THRESHOLD
    fl_attack_every: int = DEFAULT_FL_ATTACK_EVERY


@dataclass(frozen=True, slots=True)
class Fault:
    """One entry of the schedule; `at_s` xor `at_height` says when (seconds since the load began,
    or the first sampled height at least this)."""

    index: int  # position in the file, for messages and the history
    kind: str
    at_s: float | None = None
    at_height: int | None = None
    node: int | None = None
    groups: tuple[tuple[int, ...], ...] = ()
    delay_ms: tuple[int, int] = (0, 0)
    probability: float = 0.0
    skew_s: float = 0.0
    duration_s: float | None = None
    bytes: int = DEFAULT_WAL_BYTES

    def describe(self) -> str:
        """A few words for the live line: kind and target."""
        if self.node is not None:
            target = f" node{self.node}"
        elif self.groups:
            target = " " + " | ".join("{" + ",".join(map(str, g)) + "}" for g in self.groups)
        else:
            target = ""
        extra = {
            "delay": f" {self.delay_ms[0]}-{self.delay_ms[1]} ms",
            "clock-skew": f" {self.skew_s:+g} s",
            "wal-truncate": f" {self.bytes} B",
            "wal-corrupt": f" {self.bytes} B",
        }.get(self.kind, f" p={self.probability:g}" if self.kind in LINK_KINDS else "")
        return f"{self.kind}{target}{extra}"


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    seed: int
    duration_s: float
    block_interval_s: float
    liveness_bound_s: float
    validators: tuple[Validator, ...]
    load: Load
    faults: tuple[Fault, ...]
    path: Path | None = None


def load_scenario(path: Path) -> Scenario:
    """Read and check a scenario file.

    Raises:
        ScenarioError: the file cannot be read, is not TOML, or breaks a rule (the message
            names the file and the key).
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario {path}: {exc.strerror}") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
    return parse_scenario(doc, Path(path))


def shipped() -> list[Path]:
    """The scenario files that ship in scenarios/, by name."""
    return sorted(SCENARIOS_DIR.glob("*.toml"))


def resolve(name_or_path: str) -> Path:
    """A scenario argument as typed: a file path, or the name of a shipped scenario.

    Raises:
        ScenarioError: neither exists (the message lists the shipped names).
    """
    path = Path(name_or_path)
    if path.is_file():
        return path
    candidate = SCENARIOS_DIR / f"{name_or_path}.toml"
    if candidate.is_file():
        return candidate
    names = ", ".join(p.stem for p in shipped())
    raise ScenarioError(
        f"no scenario file {name_or_path!r} and no shipped scenario of that name (shipped: {names})"
    )


class _Table:
    """One TOML table being read: takes keys one by one, then rejects any left over."""

    def __init__(self, doc: Any, where: str, source: str) -> None:
        self.where, self.source = where, source
        if not isinstance(doc, dict):
            self.fail("", "expected a table")
        self.doc: dict[str, Any] = doc
        self.seen: set[str] = set()

    def fail(self, key: str, message: str) -> Any:
        name = ".".join(part for part in (self.where, key) if part)
        raise ScenarioError(f"{self.source}: {name or 'scenario'}: {message}")

    def get(self, key: str) -> Any:
        self.seen.add(key)
        return self.doc.get(key)

    def has(self, key: str) -> bool:
        return key in self.doc

    def text(self, key: str, default: str) -> str:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"expected a non-empty string, not {value!r}")
        return str(value)

    def integer(self, key: str, default: int | None = None, *, low: int = 0) -> int:
        value = self.get(key)
        if value is None:
            if default is None:
                self.fail(key, "required")
            return int(default)  # type: ignore[arg-type]
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(key, f"expected an integer, not {value!r}")
        if value < low:
            self.fail(key, f"must be at least {low}, not {value}")
        return int(value)

    def number(
        self, key: str, default: float | None = None, *, low: float = 0.0, positive: bool = False
    ) -> float:
        value = self.get(key)
        if value is None:
            if default is None:
                self.fail(key, "required")
            return float(default)  # type: ignore[arg-type]
        if not isinstance(value, int | float) or isinstance(value, bool):
            self.fail(key, f"expected a number, not {value!r}")
        if positive and value <= 0:
            self.fail(key, f"must be more than 0, not {value}")
        if value < low:
            self.fail(key, f"must be at least {low:g}, not {value}")
        return float(value)

    def done(self, allowed: frozenset[str] | None = None) -> None:
        """Reject keys nobody read (or outside `allowed`), naming the first."""
        extra = sorted(set(self.doc) - (self.seen if allowed is None else allowed))
        if extra:
            self.fail(extra[0], "unknown key")


def parse_scenario(doc: dict[str, Any], path: Path | None = None) -> Scenario:
    """Check a decoded scenario document (`path` is for messages and the default name).

    Raises:
        ScenarioError: the first broken rule, naming the file and the key.
    """
    source = str(path) if path is not None else "<scenario>"
    top = _Table(doc, "", source)
    name = top.text("name", path.stem if path is not None else "")
    if not name:
        top.fail("name", "required")
    description = top.text("description", "")
    seed = top.integer("seed", 0)
    duration_s = top.number("duration_s", positive=True)
    block_interval_s = top.number("block_interval_s", DEFAULT_BLOCK_INTERVAL_S, positive=True)
    liveness_bound_s = top.number("liveness_bound_s", DEFAULT_LIVENESS_BOUND_S, positive=True)
    validators = _validators(top, source)
    load = _load(top.get("load"), source)
    raw_faults = top.get("faults")
    top.done()
    if raw_faults is None:
        raw_faults = []
    if not isinstance(raw_faults, list):
        top.fail("faults", "expected an array of tables ([[faults]])")
    faults = tuple(
        _fault(raw, i, len(validators), duration_s, source) for i, raw in enumerate(raw_faults)
    )
    _check_order(faults, source)
    return Scenario(
        name=name,
        description=description,
        seed=seed,
        duration_s=duration_s,
        block_interval_s=block_interval_s,
        liveness_bound_s=liveness_bound_s,
        validators=validators,
        load=load,
        faults=faults,
        path=path,
    )


def _validators(top: _Table, source: str) -> tuple[Validator, ...]:
    raw = top.get("validators")
    if raw is None:
        top.fail("validators", "required: a count, or one [[validators]] table per validator")
    if isinstance(raw, int) and not isinstance(raw, bool):
        if not 1 <= raw <= MAX_VALIDATORS:
            top.fail("validators", f"must be 1 to {MAX_VALIDATORS}, not {raw}")
        return tuple(Validator() for _ in range(raw))
    if not isinstance(raw, list) or not raw:
        top.fail("validators", f"expected a count or [[validators]] tables, not {raw!r}")
    if len(raw) > MAX_VALIDATORS:
        top.fail("validators", f"at most {MAX_VALIDATORS} validators, not {len(raw)}")
    roles = {b.value for b in Byzantine}
    out = []
    for i, entry in enumerate(raw):
        table = _Table(entry, f"validators[{i}]", source)
        stake = table.integer("stake", DEFAULT_STAKE, low=1)
        role = table.get("byzantine")
        if role is not None and role not in roles:
            table.fail("byzantine", f"{role!r} is not one of {', '.join(sorted(roles))}")
        table.done()
        out.append(Validator(stake, role))
    return tuple(out)


def _load(raw: Any, source: str) -> Load:
    if raw is None:
        return Load()
    table = _Table(raw, "load", source)
    if table.has("fl_proposals"):
        # The design's first spelling, a flag: a rate says how much load it is.
        table.fail("fl_proposals", "use fl_proposals_per_s = <FL proposals per second> instead")
    load = Load(
        transfers_per_s=table.number("transfers_per_s", 0.0),
        inference_per_s=table.number("inference_per_s", 0.0),
        inference_model=table.text("inference_model", DEFAULT_INFERENCE_MODEL),
        inference_max_tokens=table.integer("inference_max_tokens", DEFAULT_INFERENCE_TOKENS, low=1),
        fl_proposals_per_s=table.number("fl_proposals_per_s", 0.0),
        fl_threshold=table.number("fl_threshold", DEFAULT_FL_THRESHOLD, positive=True),
        fl_attack_every=table.integer("fl_attack_every", DEFAULT_FL_ATTACK_EVERY),
    )
    table.done()
    if load.fl_threshold > 1:
        table.fail("fl_threshold", f"must be in (0, 1], not {load.fl_threshold:g}")
    fl_keys = ("fl_threshold", "fl_attack_every")
    if load.fl_proposals_per_s == 0 and (unused := [k for k in fl_keys if table.has(k)]):
        table.fail(unused[0], "applies only with fl_proposals_per_s above 0")
    if load.inference_model not in DEVNET_MODELS:
        table.fail(
            "inference_model",
            f"{load.inference_model!r} is not a devnet model ({', '.join(DEVNET_MODELS)})",
        )
    return load


def _fault(raw: Any, index: int, validators: int, duration_s: float, source: str) -> Fault:
    table = _Table(raw, f"faults[{index}]", source)
    kind = table.get("kind")
    if kind is None:
        table.fail("kind", f"required: one of {', '.join(KINDS)}")
    if kind not in KINDS:
        table.fail("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    allowed = KIND_KEYS[kind] | {"kind", "at_s", "at_height"}
    if kind in UNDO:
        allowed |= {"duration_s"}
    for key in sorted(table.doc):
        if key not in allowed and key in ALL_FAULT_KEYS:
            table.fail(key, f"does not apply to kind {kind!r}")
    table.done(frozenset(ALL_FAULT_KEYS))
    for key in REQUIRED_KEYS.get(kind, ()):
        if not table.has(key):
            table.fail(key, f"required for kind {kind!r}")

    if table.has("at_s") == table.has("at_height"):
        table.fail("at_s", "give exactly one of at_s and at_height")
    at_s = table.number("at_s") if table.has("at_s") else None
    at_height = table.integer("at_height", low=1) if table.has("at_height") else None
    undo_s = table.number("duration_s", positive=True) if table.has("duration_s") else None
    if at_s is not None and at_s >= duration_s:
        table.fail("at_s", f"{at_s:g} is not before the scenario's duration_s ({duration_s:g})")
    if at_s is not None and undo_s is not None and at_s + undo_s > duration_s:
        table.fail(
            "duration_s",
            f"the fault would end at {at_s + undo_s:g} s, after the scenario's duration_s"
            f" ({duration_s:g})",
        )

    node = None
    if table.has("node"):
        node = table.integer("node")
        if node >= validators:
            table.fail("node", f"no node {node}: the scenario has nodes 0 to {validators - 1}")
    groups = _groups(table, validators) if table.has("groups") else ()
    delay_ms = (0, 0)
    if table.has("delay_ms"):
        delay_ms = _delay(table)
    probability = 0.0
    if table.has("probability"):
        probability = table.number("probability")
        if probability > 1:
            table.fail("probability", f"must be 0 to 1, not {probability:g}")
    skew_s = table.number("skew_s", 0.0, low=-MAX_CLOCK_SKEW_S)
    if abs(skew_s) > MAX_CLOCK_SKEW_S:
        table.fail("skew_s", f"must be within ±{MAX_CLOCK_SKEW_S:g} s, not {skew_s:g}")
    size = table.integer("bytes", DEFAULT_WAL_BYTES, low=1)
    return Fault(
        index=index,
        kind=kind,
        at_s=at_s,
        at_height=at_height,
        node=node,
        groups=groups,
        delay_ms=delay_ms,
        probability=probability,
        skew_s=skew_s,
        duration_s=undo_s,
        bytes=size,
    )


def _groups(table: _Table, validators: int) -> tuple[tuple[int, ...], ...]:
    raw = table.get("groups")
    shape = "expected two or more arrays of node indices, e.g. [[0, 1, 2], [3]]"
    if not isinstance(raw, list) or len(raw) < 2:
        table.fail("groups", shape)
    seen: set[int] = set()
    groups = []
    for group in raw:
        if not isinstance(group, list) or not group:
            table.fail("groups", shape)
        for node in group:
            if not isinstance(node, int) or isinstance(node, bool):
                table.fail("groups", f"{node!r} is not a node index")
            if not 0 <= node < validators:
                table.fail(
                    "groups", f"no node {node}: the scenario has nodes 0 to {validators - 1}"
                )
            if node in seen:
                table.fail("groups", f"node {node} is in two groups")
            seen.add(node)
        groups.append(tuple(group))
    return tuple(groups)


def _delay(table: _Table) -> tuple[int, int]:
    raw = table.get("delay_ms")
    if (
        not isinstance(raw, list)
        or len(raw) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in raw)
    ):
        table.fail("delay_ms", f"expected [low, high] in whole milliseconds, not {raw!r}")
    low, high = raw
    if not 0 <= low <= high:
        table.fail("delay_ms", f"expected 0 <= low <= high, not {raw!r}")
    return int(low), int(high)


def _check_order(faults: tuple[Fault, ...], source: str) -> None:
    """Walk the timed faults (and the undos their duration_s implies) in time order, checking
    that each finds its node in a state it can act on."""
    events: list[tuple[float, int, str, Fault]] = []
    for fault in faults:
        if fault.at_s is None or fault.node is None:
            continue
        events.append((fault.at_s, fault.index, fault.kind, fault))
        if fault.duration_s is not None:
            events.append((fault.at_s + fault.duration_s, fault.index, UNDO[fault.kind], fault))
    state: dict[int, str] = {}
    for at, _, kind, fault in sorted(events, key=lambda e: (e[0], e[1])):
        node = fault.node
        assert node is not None
        now = state.get(node, "running")
        problem = order_problem(kind, now)
        if problem:
            where = f"faults[{fault.index}]"
            what = kind if kind == fault.kind else f"{kind} (end of {fault.kind})"
            raise ScenarioError(f"{source}: {where}: {what} of node{node} at {at:g} s: {problem}")
        state[node] = {
            "kill": "down",
            "pause": "paused",
            "restart": "running",
            "resume": "running",
        }.get(kind, now)


def order_problem(kind: str, state: str) -> str | None:
    if kind in ("kill", "pause", "clock-skew") and state != "running":
        return f"the node is {state} then"
    if kind == "resume" and state != "paused":
        return f"the node is {state}, not paused, then"
    if kind == "restart" and state == "paused":
        return "the node is paused then (resume it first)"
    if kind.startswith("wal-") and state != "down":
        return "the node must be down (kill it first, restart it after)"
    return None
