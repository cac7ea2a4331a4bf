"""Properties every simulated run must have (arXiv 1807.04938 §2; DESIGN.md §8).

Each checker returns the violations it found, as sentences; an empty list means it holds.
"""

from __future__ import annotations

from brainchain.errors import InvalidCommit
from brainchain.sim.simulator import Outcome
from brainchain.types.commit import check_commit_power
from brainchain.types.vote import ConsensusMessage, Proposal


def agreement(outcome: Outcome) -> list[str]:
    """No two honest nodes commit different blocks at a height."""
    violations = []
    first: dict[int, tuple[int, bytes]] = {}
    for node in outcome.scenario.honest:
        for height, block_hash in sorted(outcome.committed[node].items()):
            seen = first.setdefault(height, (node, block_hash))
            if seen[1] != block_hash:
                violations.append(
                    f"height {height}: node {seen[0]} committed 0x{seen[1].hex()[:12]}, "
                    f"node {node} committed 0x{block_hash.hex()[:12]}"
                )
    return violations


def validity(outcome: Outcome) -> list[str]:
    """Every committed block was proposed by some validator and is valid."""
    return [
        f"node {node} committed unproposed or invalid block 0x{block_hash.hex()[:12]} "
        f"at height {height}"
        for node in outcome.scenario.honest
        for height, block_hash in sorted(outcome.committed[node].items())
        if block_hash not in outcome.valid_values
    ]


def termination(outcome: Outcome) -> list[str]:
    """Every honest node commits the target height within the bound after the heal."""
    return [
        f"node {node} stopped at height {max(outcome.committed[node], default=0)}, "
        f"target {outcome.target_height} (virtual time {outcome.end_ms} ms)"
        for node in outcome.scenario.honest
        if outcome.target_height not in outcome.committed[node]
    ]


def certificates(outcome: Outcome) -> list[str]:
    """Every commit certificate names distinct validators holding +2/3 of the power."""
    violations = []
    for node in outcome.scenario.honest:
        for height, certificate in sorted(outcome.certificates[node].items()):
            try:
                check_commit_power(certificate, outcome.validators)
            except InvalidCommit as exc:
                violations.append(f"node {node}, height {height}: {exc}")
            if certificate.block_hash != outcome.committed[node][height]:
                violations.append(f"node {node}, height {height}: certificate for another block")
    return violations


def accountability(outcome: Outcome) -> list[str]:
    """Evidence only ever names Byzantine validators: honest ones never sign twice."""
    violations = []
    for node, evidence in outcome.evidence:
        signers = {_signer(evidence.first), _signer(evidence.second)}
        if len(signers) != 1 or not signers <= set(outcome.scenario.byzantine):
            violations.append(f"node {node} holds evidence against {sorted(signers)}: {evidence}")
    return violations


def _signer(message: ConsensusMessage) -> int:
    return message.proposer if isinstance(message, Proposal) else message.validator


def violations(outcome: Outcome) -> list[str]:
    """Everything wrong with a run, from all checkers."""
    return (
        agreement(outcome)
        + validity(outcome)
        + termination(outcome)
        + certificates(outcome)
        + accountability(outcome)
    )
