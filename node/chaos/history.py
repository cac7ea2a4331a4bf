"""The history of a chaos run: report/history.jsonl, one JSON event per line (issue 14).

Jepsen's way: the runner records what clients asked for and what they were told (invoke, then
ok, fail or info: unknown), what the nemesis did and what each node showed, and the checkers
judge the run from this file alone, so `brainchain chaos check report/` can judge it again
later. Every event has "time" (seconds since the run started) and "type"; the first line is
the scenario. The fields of each type are those of the chaos design ("History"); heights and
rounds are JSON numbers, hashes 0x-hex (compared in lower case).

A nemesis event names the nodes it acts on as "node" (an index) or "nodes" (a list) in its
value; the liveness checker reads them to know which nodes were down.

Federated learning adds the operation "fl-create" (the task, made once) beside "fl-propose", and
two observations per node at the end: {"type": "fl-version", "node", "task", "version",
"proposal", "score", "computedHash", "globalHash"} (brain_getFlVersion; null where not yet known)
and {"type": "fl-proposal", "node", "task", "proposal", "status", "score", "attack": null |
"zero", "scores": [{"member": node index or address, "weight", "score"}]} (brain_getFlProposal,
the members that revealed).
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, TextIO, TypeVar

T = TypeVar("T")

OPERATION_TYPES = ("invoke", "ok", "fail", "info")
OPERATION_FUNCTIONS = ("transfer", "infer", "fl-create", "fl-propose")
NEMESIS_FUNCTIONS = (
    "kill",
    "restart",
    "pause",
    "resume",
    "partition",
    "heal",
    "delay",
    "drop",
    "duplicate",
    "reorder",
    "clock-skew",
    "wal-truncate",
    "wal-corrupt",
    "byzantine",
)
NEMESIS_MECHANISMS = ("signal", "netns", "fault-layer", "file", "config")
PHASES = ("start", "end")
PARTITION_MECHANISMS = ("netns", "fault-layer")
LINK_MECHANISMS = ("netem", "fault-layer")
STEPS = ("proposal", "prevote", "precommit")
OFFENCE_KINDS = ("equivocation", "withheld")
FL_STATUSES = ("pending", "accepted", "rejected", "expired")  # brain_getFlProposal's
FL_ATTACKS = ("zero",)  # what a Byzantine client proposed instead of trained weights


class HistoryError(ValueError):
    """A history event or file breaks the format; the message names the line and field."""


@dataclass(frozen=True, slots=True)
class ValidatorInfo:
    index: int
    address: str
    peer_id: str
    byzantine: str | None  # a node.config.Byzantine value; None for an honest validator
    stake: int = 1  # its voting power (histories without it: equal stakes)


@dataclass(frozen=True, slots=True)
class ScenarioInfo:
    """The first line: what ran, on which validators, by which fault mechanisms."""

    time: float
    name: str
    seed: int
    validators: tuple[ValidatorInfo, ...]
    partition: str  # "netns" | "fault-layer"
    links: str  # "netem" | "fault-layer"
    liveness_bound_s: float

    @property
    def honest(self) -> frozenset[int]:
        """Indices of the validators with no Byzantine role (nodes are numbered the same)."""
        return frozenset(v.index for v in self.validators if v.byzantine is None)


@dataclass(frozen=True, slots=True)
class Operation:
    """A client operation's invocation or completion (ok, fail, or info: outcome unknown)."""

    time: float
    type: str
    process: int
    node: int
    f: str
    value: Mapping[str, Any]

    @property
    def tx(self) -> str | None:
        """The transaction hash the value names, lower case."""
        tx = self.value.get("tx")
        return tx.lower() if isinstance(tx, str) else None

    @property
    def accepted(self) -> bool:
        """The RPC returned the transaction's hash: the node took it."""
        return self.value.get("accepted") is True

    @property
    def block(self) -> int | None:
        """The height the client's receipt put the transaction at (ok transactions)."""
        block = self.value.get("block")
        return block if _is_int(block) else None


@dataclass(frozen=True, slots=True)
class Nemesis:
    time: float
    f: str
    value: Mapping[str, Any]
    mechanism: str
    phase: str

    @property
    def nodes(self) -> tuple[int, ...]:
        """The nodes the value names ("node" or "nodes"); () for a network-wide fault."""
        if "node" in self.value:
            return (self.value["node"],)
        return tuple(self.value.get("nodes", ()))


@dataclass(frozen=True, slots=True)
class HeightSample:
    time: float
    node: int
    height: int


@dataclass(frozen=True, slots=True)
class EvidenceSeen:
    """One offence a block records: who signed twice, and for which height, round and step."""

    validator: int
    height: int
    round: int
    step: str


@dataclass(frozen=True, slots=True)
class BlockSeen:
    """What one node committed at a height, with its certificate (brain_getCommit)."""

    time: float
    node: int
    height: int
    hash: str
    state_root: str
    round: int | None  # None where the node holds no certificate (genesis)
    precommits: tuple[int, ...]
    evidence: tuple[EvidenceSeen, ...]


@dataclass(frozen=True, slots=True)
class ReceiptSeen:
    time: float
    node: int
    tx: str
    block: int | None  # None: not committed on that node


@dataclass(frozen=True, slots=True)
class Dropped:
    time: float
    tx: str
    reason: str


@dataclass(frozen=True, slots=True)
class Offence:
    """What a Byzantine node says it did (its byzantine.jsonl)."""

    time: float
    node: int
    height: int
    round: int
    step: str
    kind: str


@dataclass(frozen=True, slots=True)
class InferenceResult:
    time: float
    node: int
    request: int | str
    status: str
    output: str | None
    honest_output: str


@dataclass(frozen=True, slots=True)
class FlVersionSeen:
    """One version of an FL task as one node holds it (brain_getFlVersion): the hash of the
    global weights it recomputed (None: not recomputed, or adopted from peers) and the one the
    chain attests (None: not yet; version 0's is the initial weights)."""

    time: float
    node: int
    task: int
    version: int
    proposal: int | None  # None for version 0
    score: int | None
    computed_hash: str | None
    global_hash: str | None


@dataclass(frozen=True, slots=True)
class FlScore:
    """A committee member's revealed score and its sortition weight."""

    member: int | str  # the node index, or the address where it is no validator of the run
    weight: int
    score: int


@dataclass(frozen=True, slots=True)
class FlProposalSeen:
    """One FL proposal as one node holds it (brain_getFlProposal), with the revealed scores."""

    time: float
    node: int
    task: int
    proposal: int
    status: str  # one of FL_STATUSES
    score: int | None  # the weighted median, once accepted or rejected
    attack: str | None  # one of FL_ATTACKS; None for honestly trained weights
    scores: tuple[FlScore, ...]


Event = (
    ScenarioInfo
    | Operation
    | Nemesis
    | HeightSample
    | BlockSeen
    | ReceiptSeen
    | Dropped
    | Offence
    | InferenceResult
    | FlVersionSeen
    | FlProposalSeen
)


@dataclass(frozen=True, slots=True)
class History:
    """A whole run's events by kind, each tuple in file order."""

    scenario: ScenarioInfo
    operations: tuple[Operation, ...]
    nemeses: tuple[Nemesis, ...]
    heights: tuple[HeightSample, ...]
    blocks: tuple[BlockSeen, ...]
    receipts: tuple[ReceiptSeen, ...]
    dropped: tuple[Dropped, ...]
    offences: tuple[Offence, ...]
    inferences: tuple[InferenceResult, ...]
    fl_versions: tuple[FlVersionSeen, ...]
    fl_proposals: tuple[FlProposalSeen, ...]
    end_time: float  # the last event's time

    @classmethod
    def from_events(cls, events: Iterable[Mapping[str, Any]]) -> History:
        """Check and sort the events of a run, numbered from line 1 in the messages.

        Raises:
            HistoryError: the first broken rule, with its line number.
        """
        return _build(enumerate(events, 1))


def _build(numbered: Iterable[tuple[int, Any]]) -> History:
    """Beyond each event's own fields: the scenario comes first and only once, and every
    process completes only what it invoked, one operation at a time."""
    kinds: defaultdict[type, list[Any]] = defaultdict(list)
    pending: dict[int, Operation] = {}
    first = True
    for line, raw in numbered:
        try:
            event = parse_event(raw)
            if first != isinstance(event, ScenarioInfo):
                raise HistoryError("the scenario event must be the first line, and only it")
            if isinstance(event, Operation):
                _pair(pending, event)
        except HistoryError as exc:
            raise HistoryError(f"line {line}: {exc}") from None
        first = False
        kinds[type(event)].append(event)
    if first:
        raise HistoryError("empty history: no scenario event")
    return History(
        scenario=kinds[ScenarioInfo][0],
        operations=tuple(kinds[Operation]),
        nemeses=tuple(kinds[Nemesis]),
        heights=tuple(kinds[HeightSample]),
        blocks=tuple(kinds[BlockSeen]),
        receipts=tuple(kinds[ReceiptSeen]),
        dropped=tuple(kinds[Dropped]),
        offences=tuple(kinds[Offence]),
        inferences=tuple(kinds[InferenceResult]),
        fl_versions=tuple(kinds[FlVersionSeen]),
        fl_proposals=tuple(kinds[FlProposalSeen]),
        end_time=max(e.time for found in kinds.values() for e in found),
    )


def _pair(pending: dict[int, Operation], op: Operation) -> None:
    """Jepsen's well-formedness: a process invokes, then completes that invocation."""
    if op.type == "invoke":
        if op.process in pending:
            raise HistoryError(f"process {op.process} invokes before its last operation completed")
        pending[op.process] = op
        return
    invoked = pending.pop(op.process, None)
    if invoked is None:
        raise HistoryError(f"{op.type} for process {op.process}, which invoked nothing")
    if (invoked.f, invoked.node) != (op.f, op.node):
        raise HistoryError(
            f"{op.type} {op.f} on node {op.node} completes process {op.process}'s "
            f"{invoked.f} on node {invoked.node}"
        )


def load_history(path: Path) -> History:
    """Read and check a history.jsonl; blank lines are skipped but counted.

    Raises:
        HistoryError: a line is not a JSON object or breaks the format (named by number).
        OSError: the file cannot be read.
    """
    numbered = []
    with open(path, encoding="utf-8") as file:
        for line, text in enumerate(file, 1):
            if not text.strip():
                continue
            try:
                numbered.append((line, json.loads(text)))
            except ValueError as exc:
                raise HistoryError(f"{path}: line {line}: not JSON: {exc}") from None
    try:
        return _build(numbered)
    except HistoryError as exc:
        raise HistoryError(f"{path}: {exc}") from None


class Recorder:
    """Writes a run's events as they happen: thread-safe (one client thread per process),
    stamped with the time since the recorder started, checked, and flushed line by line so a
    crashed run leaves a readable history."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._start = clock()
        self._lock = threading.Lock()
        self._file: TextIO = open(path, "w", encoding="utf-8")  # noqa: SIM115 (closed in close)
        self._lines = 0

    def record(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Stamp, check and append one event; returns it as written.

        Raises:
            HistoryError: the event carries its own "time", breaks the format, or is not the
                scenario when it comes first (then nothing is written).
        """
        if "time" in event:
            raise HistoryError('the recorder stamps "time"; the event must not carry it')
        with self._lock:
            stamped = {"time": round(self._clock() - self._start, 6), **event}
            parsed = parse_event(stamped)
            if (self._lines == 0) != isinstance(parsed, ScenarioInfo):
                raise HistoryError("the scenario event must be the first line, and only it")
            self._file.write(json.dumps(stamped, separators=(",", ":")) + "\n")
            self._file.flush()
            self._lines += 1
        return stamped

    def close(self) -> None:
        with self._lock:
            self._file.close()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


# --- one event ----------------------------------------------------------------------------


def parse_event(raw: Any) -> Event:
    """One event dict → its typed form.

    Raises:
        HistoryError: not an object, an unknown type, or a field missing or of the wrong type.
    """
    if not isinstance(raw, Mapping):
        raise HistoryError(f"an event must be a JSON object, got {type(raw).__name__}")
    fields = _Fields(raw)
    kind = fields.text("type")
    parse = _PARSERS.get(kind)
    if parse is None:
        raise HistoryError(f"unknown event type {kind!r}")
    return parse(fields, fields.number("time"))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Fields:
    """Typed reads of an event's fields; each failure names the field."""

    def __init__(self, raw: Mapping[str, Any], where: str = "") -> None:
        self.raw = raw
        self.where = where

    def get(self, name: str) -> Any:
        if name not in self.raw:
            raise HistoryError(f'missing field "{self.where}{name}"')
        return self.raw[name]

    def bad(self, name: str, expected: str) -> HistoryError:
        return HistoryError(
            f'field "{self.where}{name}": expected {expected}, got {self.raw[name]!r}'
        )

    def maybe(self, read: Callable[[str], T], name: str) -> T | None:
        """`read(name)`, or None where the field is null."""
        return None if self.get(name) is None else read(name)

    def integer(self, name: str) -> int:
        value = self.get(name)
        if not _is_int(value) or value < 0:
            raise self.bad(name, "an integer >= 0")
        return int(value)

    def number(self, name: str) -> float:
        value = self.get(name)
        if (
            not isinstance(value, (int, float))
            or isinstance(value, bool)
            or not math.isfinite(value)
            or value < 0
        ):
            raise self.bad(name, "a number >= 0")
        return float(value)

    def text(self, name: str) -> str:
        value = self.get(name)
        if not isinstance(value, str):
            raise self.bad(name, "a string")
        return value

    def choice(self, name: str, options: tuple[str, ...]) -> str:
        value = self.get(name)
        if value not in options:
            raise self.bad(name, "one of " + ", ".join(options))
        return str(value)

    def hex(self, name: str) -> str:
        value = self.get(name)
        if not isinstance(value, str) or not value.startswith("0x"):
            raise self.bad(name, "0x-hex")
        try:
            bytes.fromhex(value[2:])
        except ValueError:
            raise self.bad(name, "even-length 0x-hex") from None
        return value.lower()

    def flag(self, name: str) -> bool:
        value = self.get(name)
        if not isinstance(value, bool):
            raise self.bad(name, "true or false")
        return value

    def integers(self, name: str) -> tuple[int, ...]:
        values = self.get(name)
        if not isinstance(values, list) or not all(_is_int(v) and v >= 0 for v in values):
            raise self.bad(name, "a list of integers >= 0")
        return tuple(values)

    def mapping(self, name: str) -> Mapping[str, Any]:
        value = self.get(name)
        if not isinstance(value, Mapping):
            raise self.bad(name, "an object")
        return MappingProxyType(dict(value))

    def items(self, name: str) -> list[Any]:
        value = self.get(name)
        if not isinstance(value, list):
            raise self.bad(name, "a list")
        return value

    def nested(self, name: str, item: Any, index: int | None = None) -> _Fields:
        where = f"{self.where}{name}" + ("" if index is None else f"[{index}]") + "."
        if not isinstance(item, Mapping):
            raise HistoryError(f'field "{where[:-1]}": expected an object, got {item!r}')
        return _Fields(item, where)


def _scenario(f: _Fields, t: float) -> ScenarioInfo:
    validators = []
    for i, item in enumerate(f.items("validators")):
        v = f.nested("validators", item, i)
        validators.append(
            ValidatorInfo(
                v.integer("index"),
                v.text("address"),
                v.text("peerId"),
                v.maybe(v.text, "byzantine"),
                v.integer("stake") if "stake" in v.raw else 1,
            )
        )
    if [v.index for v in validators] != list(range(len(validators))):
        raise HistoryError('field "validators": indices must be 0, 1, 2, ... in order')
    mechanism = f.nested("mechanism", f.mapping("mechanism"))
    return ScenarioInfo(
        t,
        f.text("name"),
        f.integer("seed"),
        tuple(validators),
        mechanism.choice("partition", PARTITION_MECHANISMS),
        mechanism.choice("links", LINK_MECHANISMS),
        f.number("livenessBoundS"),
    )


def _operation(f: _Fields, t: float) -> Operation:
    value = f.mapping("value")
    op = Operation(
        t,
        f.choice("type", OPERATION_TYPES),
        f.integer("process"),
        f.integer("node"),
        f.choice("f", OPERATION_FUNCTIONS),
        value,
    )
    v = f.nested("value", value)
    if "tx" in value:
        v.hex("tx")
    if "block" in value:
        v.maybe(v.integer, "block")
    if "accepted" in value:
        v.flag("accepted")
    if (op.type == "ok" or op.accepted) and op.tx is None:
        raise HistoryError('missing field "value.tx": an ok or accepted operation names its tx')
    return op


def _nemesis(f: _Fields, t: float) -> Nemesis:
    value = f.mapping("value")
    v = f.nested("value", value)
    if "node" in value:
        v.integer("node")
    if "nodes" in value:
        v.integers("nodes")
    return Nemesis(
        t,
        f.choice("f", NEMESIS_FUNCTIONS),
        value,
        f.choice("mechanism", NEMESIS_MECHANISMS),
        f.choice("phase", PHASES),
    )


def _height(f: _Fields, t: float) -> HeightSample:
    return HeightSample(t, f.integer("node"), f.integer("height"))


def _block(f: _Fields, t: float) -> BlockSeen:
    evidence = []
    for i, item in enumerate(f.items("evidence")):
        e = f.nested("evidence", item, i)
        evidence.append(
            EvidenceSeen(
                e.integer("validator"),
                e.integer("height"),
                e.integer("round"),
                e.choice("step", STEPS),
            )
        )
    return BlockSeen(
        t,
        f.integer("node"),
        f.integer("height"),
        f.hex("hash"),
        f.hex("stateRoot"),
        f.maybe(f.integer, "round"),
        f.integers("precommits"),
        tuple(evidence),
    )


def _receipt(f: _Fields, t: float) -> ReceiptSeen:
    return ReceiptSeen(t, f.integer("node"), f.hex("tx"), f.maybe(f.integer, "block"))


def _dropped(f: _Fields, t: float) -> Dropped:
    return Dropped(t, f.hex("tx"), f.text("reason"))


def _offence(f: _Fields, t: float) -> Offence:
    return Offence(
        t,
        f.integer("node"),
        f.integer("height"),
        f.integer("round"),
        f.choice("step", STEPS),
        f.choice("kind", OFFENCE_KINDS),
    )


def _inference(f: _Fields, t: float) -> InferenceResult:
    request = f.get("request")
    if not (_is_int(request) or isinstance(request, str)):
        raise f.bad("request", "an id (number or hex string)")
    return InferenceResult(
        t,
        f.integer("node"),
        request,
        f.text("status"),
        f.maybe(f.hex, "output"),
        f.hex("honestOutput"),
    )


def _fl_version(f: _Fields, t: float) -> FlVersionSeen:
    return FlVersionSeen(
        t,
        f.integer("node"),
        f.integer("task"),
        f.integer("version"),
        f.maybe(f.integer, "proposal"),
        f.maybe(f.integer, "score"),
        f.maybe(f.hex, "computedHash"),
        f.maybe(f.hex, "globalHash"),
    )


def _fl_proposal(f: _Fields, t: float) -> FlProposalSeen:
    scores = []
    for i, item in enumerate(f.items("scores")):
        s = f.nested("scores", item, i)
        member = s.get("member")
        if not (_is_int(member) and member >= 0):
            member = s.hex("member")  # an address
        scores.append(FlScore(member, s.integer("weight"), s.integer("score")))
    attack = f.get("attack")
    if attack is not None and attack not in FL_ATTACKS:
        raise f.bad("attack", "null or one of " + ", ".join(FL_ATTACKS))
    return FlProposalSeen(
        t,
        f.integer("node"),
        f.integer("task"),
        f.integer("proposal"),
        f.choice("status", FL_STATUSES),
        f.maybe(f.integer, "score"),
        attack,
        tuple(scores),
    )


_PARSERS: dict[str, Callable[[_Fields, float], Event]] = {
    "scenario": _scenario,
    **dict.fromkeys(OPERATION_TYPES, _operation),
    "nemesis": _nemesis,
    "height": _height,
    "block": _block,
    "receipt": _receipt,
    "dropped": _dropped,
    "offence": _offence,
    "inference": _inference,
    "fl-version": _fl_version,
    "fl-proposal": _fl_proposal,
}
