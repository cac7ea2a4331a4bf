"""What a chaos run must show, judged from its history alone (issue 14; DESIGN.md §8).

The simulator's checkers (brainchain/sim/checkers.py) judge a run they watched from inside;
these judge real processes from the outside, by what clients were told, what the nemesis did
and what each node holds afterwards, as Jepsen's checkers do. Each is a function from a
`History` to the violations it found; an empty list means the property held.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from node.chaos.history import FlProposalSeen, History, Nemesis, Operation

AGREEMENT = "agreement"
STATE_ROOTS = "state-roots"
LIVENESS = "liveness"
ACKNOWLEDGED = "acknowledged"
HONEST_VOTES = "honest-votes"
EVIDENCE = "evidence"
INFERENCE = "inference"
FL = "fl"
QUORUM = "quorum"

# An offence is caught when an honest node holds both messages, gossiped, and recorded by the
# next proposer that holds it, each in turn: a few heights. Ten leave room for a proposer
# that is down or Byzantine; offences later than that before the run ended are not judged.
EVIDENCE_WITHIN_HEIGHTS = 10
# A standing role, set before the run, not a fault that ends: it does not restart the clock.
STANDING_NEMESES = frozenset({"byzantine"})
DOWN = frozenset({"kill", "pause"})
UP = frozenset({"restart", "resume"})
FINALIZED = frozenset({"finalized", "settled"})  # settled: finalized, then paid out
HASH_CHARS = 14  # "0x" and 12 hex digits name a hash in a message
FL_DECIDED = frozenset({"accepted", "rejected"})  # the FL proposals that have a median
# A block whose precommits were gathered just before a cut may still commit after it.
COMMITS_IN_FLIGHT = 1


@dataclass(frozen=True, slots=True)
class Violation:
    """One thing a run did that it must not, said in a sentence."""

    checker: str
    message: str
    height: int | None = None
    time: float | None = None
    node: int | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """A checker's judgement of a run; `summary` is one line for the verdict table."""

    name: str
    ok: bool
    violations: tuple[Violation, ...]
    summary: str


def _short(hash_hex: str) -> str:
    return hash_hex[:HASH_CHARS]


def _first_disagreements(
    checker: str, seen: dict[int, dict[int, str]], what: str
) -> list[Violation]:
    """Per height (node → value), each node whose value differs from the lowest node's."""
    violations = []
    for height, by_node in sorted(seen.items()):
        first_node = min(by_node)
        first = by_node[first_node]
        for node, value in sorted(by_node.items()):
            if value != first:
                violations.append(
                    Violation(
                        checker,
                        f"height {height}: node {first_node} has {what} {_short(first)}, "
                        f"node {node} has {_short(value)}",
                        height=height,
                        node=node,
                    )
                )
    return violations


def agreement(history: History) -> list[Violation]:
    """No two nodes commit different blocks at a height (Tendermint's agreement)."""
    hashes: dict[int, dict[int, str]] = defaultdict(dict)
    for block in history.blocks:
        hashes[block.height][block.node] = block.hash
    return _first_disagreements(AGREEMENT, hashes, "block")


def state_roots(history: History) -> list[Violation]:
    """Every node holds the same state root at each height."""
    roots: dict[int, dict[int, str]] = defaultdict(dict)
    for block in history.blocks:
        roots[block.height][block.node] = block.state_root
    return _first_disagreements(STATE_ROOTS, roots, "state root")


def _last_fault(history: History) -> float:
    """When the fault schedule last changed: from then on the network is as it ends."""
    times = [n.time for n in history.nemeses if n.f not in STANDING_NEMESES]
    return max(times, default=history.scenario.time)


def _down_at(nemeses: tuple[Nemesis, ...], moment: float) -> set[int]:
    """Nodes killed or paused, and not restarted or resumed, by `moment`."""
    down: set[int] = set()
    for nemesis in sorted(nemeses, key=lambda n: n.time):
        if nemesis.time > moment:
            break
        if nemesis.f in DOWN:
            down.update(nemesis.nodes)
        elif nemesis.f in UP:
            down.difference_update(nemesis.nodes)
    return down


def liveness(history: History) -> list[Violation]:
    """After the last fault heals, every honest node that runs passes the highest height any
    node had then, within the scenario's bound (the "heights advance" of issue 14)."""
    healed = _last_fault(history)
    bound = history.scenario.liveness_bound_s
    deadline = healed + bound
    target = max((s.height for s in history.heights if s.time <= healed), default=0)
    running = sorted(history.scenario.honest - _down_at(history.nemeses, healed))
    violations = []
    for node in running:
        samples = [s for s in history.heights if s.node == node]
        if any(healed < s.time <= deadline and s.height > target for s in samples):
            continue
        last = max(samples, key=lambda s: s.time, default=None)
        seen = "never sampled" if last is None else f"last at {last.height} (t={last.time:.1f} s)"
        short = (
            f"; the history ends {history.end_time - healed:.1f} s after it"
            if history.end_time < deadline
            else ""
        )
        violations.append(
            Violation(
                LIVENESS,
                f"node {node} did not pass height {target} within {bound:g} s of the last "
                f"fault (t={healed:.1f} s): {seen}{short}",
                height=target,
                time=healed,
                node=node,
            )
        )
    return violations


def acknowledged(history: History) -> list[Violation]:
    """Every ok transaction is committed, at the block its receipt said, on every node that
    finished the run; every accepted one is committed somewhere or reported dropped, and none
    reported dropped is committed."""
    finished = {b.node for b in history.blocks} | {r.node for r in history.receipts}
    committed: dict[str, dict[int, int]] = defaultdict(dict)  # tx → node → height
    for receipt in history.receipts:
        if receipt.block is not None:
            committed[receipt.tx][receipt.node] = receipt.block
    dropped = {d.tx: d for d in history.dropped}
    violations = []
    accepted: dict[str, Operation] = {}
    for op in history.operations:
        if op.tx is None or op.type == "invoke":
            continue
        if op.type == "ok" or op.accepted:
            accepted.setdefault(op.tx, op)
        if op.type != "ok":
            continue
        for node in sorted(finished):
            height = committed[op.tx].get(node)
            if height is None:
                message = f"tx {_short(op.tx)} acknowledged at t={op.time:.1f} s is not "
                message += f"committed on node {node}"
            elif op.block is not None and height != op.block:
                message = f"tx {_short(op.tx)} is in block {height} on node {node}; the "
                message += f"client's receipt said block {op.block}"
            else:
                continue
            violations.append(
                Violation(ACKNOWLEDGED, message, height=op.block, time=op.time, node=node)
            )
    for tx, op in accepted.items():
        if not committed[tx] and tx not in dropped:
            violations.append(
                Violation(
                    ACKNOWLEDGED,
                    f"tx {_short(tx)} accepted by node {op.node} at t={op.time:.1f} s is "
                    "neither committed nor reported dropped",
                    time=op.time,
                    node=op.node,
                )
            )
    for tx, drop in dropped.items():
        for node, height in sorted(committed[tx].items()):
            violations.append(
                Violation(
                    ACKNOWLEDGED,
                    f"tx {_short(tx)} reported dropped ({drop.reason}) is committed in block "
                    f"{height} on node {node}",
                    height=height,
                    node=node,
                )
            )
    return violations


def honest_votes(history: History) -> list[Violation]:
    """No evidence names an honest validator, and no validator's precommits in the nodes'
    certificates name two blocks for one height and round."""
    honest = history.scenario.honest
    violations = []
    blamed = set()
    for block in history.blocks:
        for e in block.evidence:
            offence = (e.validator, e.height, e.round, e.step)
            if e.validator in honest and offence not in blamed:
                blamed.add(offence)
                violations.append(
                    Violation(
                        HONEST_VOTES,
                        f"block {block.height} on node {block.node} records evidence against "
                        f"honest validator {e.validator} ({e.step} at height {e.height}, "
                        f"round {e.round})",
                        height=block.height,
                        node=block.node,
                    )
                )
    precommitted: dict[tuple[int, int, int], dict[str, int]] = defaultdict(dict)
    for block in history.blocks:
        if block.round is None:
            continue
        for validator in block.precommits:
            precommitted[block.height, block.round, validator].setdefault(block.hash, block.node)
    for (height, round_, validator), by_hash in sorted(precommitted.items()):
        if len(by_hash) > 1:
            named = ", ".join(
                f"{_short(h)} (node {node}'s certificate)" for h, node in sorted(by_hash.items())
            )
            violations.append(
                Violation(
                    HONEST_VOTES,
                    f"validator {validator} precommitted {named} at height {height}, "
                    f"round {round_}",
                    height=height,
                )
            )
    return violations


def evidence(history: History) -> list[Violation]:
    """Every equivocation a Byzantine node committed is recorded as evidence in a block, once
    the chain has gone EVIDENCE_WITHIN_HEIGHTS past it.

    Only offences after the network formed are judged: above the highest height of the first
    samples, taken once every node had peered. A double vote sent while the Byzantine node had
    no peers yet reached nobody, and nodes re-send only the votes of the height they are at.
    """
    recorded = {
        (e.validator, e.height, e.round, e.step) for b in history.blocks for e in b.evidence
    }
    top = max((b.height for b in history.blocks), default=-1)
    first = min((s.time for s in history.heights), default=0.0)
    formed = max((s.height for s in history.heights if s.time <= first), default=0)
    violations = []
    reported = set()  # one violation per offence, however often it was logged
    for o in history.offences:
        offence = (o.node, o.height, o.round, o.step)
        if o.kind != "equivocation" or o.height <= formed:
            continue
        if offence in recorded or offence in reported:
            continue
        if top < o.height + EVIDENCE_WITHIN_HEIGHTS:
            continue  # the run ended before a block was due to record it
        reported.add(offence)
        violations.append(
            Violation(
                EVIDENCE,
                f"node {o.node}'s {o.step} equivocation at height {o.height}, round {o.round} "
                f"is in no block up to height {top}",
                height=o.height,
                time=o.time,
                node=o.node,
            )
        )
    return violations


def inference(history: History) -> list[Violation]:
    """Every finalized inference output is the honest one (DESIGN.md §5)."""
    return [
        Violation(
            INFERENCE,
            f"request {r.request} finalized on node {r.node} with "
            + ("no output" if r.output is None else f"output {_short(r.output)}")
            + f", the honest output is {_short(r.honest_output)}",
            time=r.time,
            node=r.node,
        )
        for r in history.inferences
        if r.status in FINALIZED and r.output != r.honest_output
    ]


def fl(history: History) -> list[Violation]:
    """Federated learning (DESIGN.md §6): every node that recomputed an FL version holds the
    same global weights, the ones the chain attests where it attests them; no proposal of zero
    weights is accepted; and each decided proposal's median lies between the lowest and the
    highest score honest members revealed, wherever they revealed more than half the weight:
    brainchain.fl.weighted_median's premise, under which a lying scorer cannot move it."""
    violations: list[Violation] = []
    computed: dict[tuple[int, int], dict[int, str]] = defaultdict(dict)  # (task, version) → …
    attested: dict[tuple[int, int], dict[int, str]] = defaultdict(dict)
    for v in history.fl_versions:
        if v.computed_hash is not None:
            computed[v.task, v.version][v.node] = v.computed_hash
        if v.global_hash is not None:
            attested[v.task, v.version][v.node] = v.global_hash
    for (task, version), by_node in sorted(computed.items()):
        where = f"FL task {task} version {version}"
        first_node = min(by_node)
        for node, value in sorted(by_node.items()):
            if value != by_node[first_node]:
                violations.append(
                    Violation(
                        FL,
                        f"{where}: node {first_node} recomputed {_short(by_node[first_node])}, "
                        f"node {node} {_short(value)}",
                        node=node,
                    )
                )
        for node, value in sorted(by_node.items()):
            chain = attested[task, version].get(node)
            if chain is not None and chain != value:
                violations.append(
                    Violation(
                        FL,
                        f"{where}: node {node} recomputed {_short(value)}, its chain attests "
                        f"{_short(chain)}",
                        node=node,
                    )
                )
    judged: set[tuple[int, str]] = set()  # one violation per proposal and kind
    honest = _honest_members(history)
    for p in history.fl_proposals:
        problem = _fl_proposal_problem(p, honest)
        if problem is None or (p.proposal, problem[0]) in judged:
            continue
        judged.add((p.proposal, problem[0]))
        violations.append(Violation(FL, problem[1], time=p.time, node=p.node))
    return violations


def _honest_members(history: History) -> frozenset[int | str]:
    """How an fl-proposal names the honest validators: by node index, or by address."""
    honest = [v for v in history.scenario.validators if v.byzantine is None]
    return frozenset([v.index for v in honest] + [v.address.lower() for v in honest])


def _member(member: int | str) -> str:
    return f"node {member}" if isinstance(member, int) else member


def _fl_proposal_problem(p: FlProposalSeen, honest: frozenset[int | str]) -> tuple[str, str] | None:
    """(kind, message) of what is wrong with one proposal as one node holds it, or None."""
    where = f"FL proposal {p.proposal} on node {p.node}"
    if p.attack is not None and p.status == "accepted":
        return "attack", f"{where}: {p.attack} weights (an attack) accepted, median {p.score}"
    if p.status not in FL_DECIDED or p.score is None:
        return None
    by_honest = [s for s in p.scores if s.member in honest]
    weight = sum(s.weight for s in p.scores)
    if 2 * sum(s.weight for s in by_honest) <= weight:
        return None  # the premise fails: most of the revealed weight is not honest
    low, high = min(s.score for s in by_honest), max(s.score for s in by_honest)
    if low <= p.score <= high:
        return None
    others = ", ".join(f"{_member(s.member)} {s.score}" for s in p.scores if s.member not in honest)
    return "median", (
        f"{where} ({p.status}): median {p.score} outside the honest members' scores "
        f"{low}..{high} (others revealed {others or 'nothing'})"
    )


Checker = Callable[[History], list[Violation]]


def quorum(history: History) -> list[Violation]:
    """While a partition leaves no side with more than 2/3 of the stake, no node commits:
    BFT safety's other face (issue 14: "majority-partition: no commits while split"). A
    partition is in force from its start until the next heal or partition; the heights each
    node had at its start may grow by COMMITS_IN_FLIGHT at most. Partitions that leave a node
    in no group (it keeps its links) are not judged."""
    stake = {v.index: v.stake for v in history.scenario.validators}
    total = sum(stake.values())
    cuts = [n for n in history.nemeses if n.f in ("partition", "heal") and n.phase != "end"]
    ends = [n.time for n in history.nemeses if n.f in ("partition", "heal")]
    violations = []
    for cut in cuts:
        if cut.f != "partition":
            continue
        groups = [set(g) for g in cut.value.get("groups", ())]
        if set().union(*groups) != set(stake) or any(
            3 * sum(stake[i] for i in g) > 2 * total for g in groups
        ):
            continue  # a side can commit, or a node straddles the cut
        end = min((t for t in ends if t > cut.time), default=history.end_time)
        before = max((s.height for s in history.heights if s.time <= cut.time), default=0)
        limit = before + COMMITS_IN_FLIGHT
        caught: set[int] = set()  # one violation per node and partition
        for s in history.heights:
            if cut.time < s.time < end and s.height > limit and s.node not in caught:
                caught.add(s.node)
                violations.append(
                    Violation(
                        QUORUM,
                        f"node {s.node} reached height {s.height} at t={s.time:.1f} s while "
                        f"no side of the partition from t={cut.time:.1f} s held 2/3 of the stake"
                        f" (height {before} when it began)",
                        height=s.height,
                        time=s.time,
                        node=s.node,
                    )
                )
    return violations


CHECKERS: dict[str, Checker] = {
    AGREEMENT: agreement,
    STATE_ROOTS: state_roots,
    LIVENESS: liveness,
    ACKNOWLEDGED: acknowledged,
    HONEST_VOTES: honest_votes,
    EVIDENCE: evidence,
    INFERENCE: inference,
    FL: fl,
    QUORUM: quorum,
}


def check_all(history: History) -> list[Verdict]:
    """Every checker's verdict on a run, in CHECKERS order."""
    verdicts = []
    for name, check in CHECKERS.items():
        violations = tuple(check(history))
        if not violations:
            summary = "ok"
        else:
            count = f"{len(violations)} violation" + ("s" if len(violations) > 1 else "")
            summary = f"{count}; first: {violations[0].message}"
        verdicts.append(Verdict(name, not violations, violations, summary))
    return verdicts


def verdict_table(verdicts: list[Verdict]) -> list[str]:
    """The verdicts as aligned text lines: checker, ok/VIOLATED, count, first violation."""
    rows = [("checker", "verdict", "count", "first violation")] + [
        (
            v.name,
            "ok" if v.ok else "VIOLATED",
            str(len(v.violations)),
            v.violations[0].message if v.violations else "-",
        )
        for v in verdicts
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return [
        f"{name:<{widths[0]}}  {verdict:<{widths[1]}}  {count:>{widths[2]}}  {first}"
        for name, verdict, count, first in rows
    ]
