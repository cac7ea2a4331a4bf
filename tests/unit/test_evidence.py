"""Double-sign evidence: what proves an offence, and how a block records it once."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

import pytest

from brainchain.errors import DecodingError, InvalidBlock, InvalidEvidence
from brainchain.types.evidence import DoubleSign, decode_evidence, verify_evidence
from brainchain.types.vote import Proposal, Vote, VoteKind, sign_proposal, sign_vote
from node.chain import Chain
from node.evidence import EvidencePool
from node.p2p.gossip import Gossip
from tests.unit.test_consensus_store import GENESIS, KEYS, VALIDATORS, VRF_KEYS

A, B = b"\xaa" * 32, b"\xbb" * 32


def key_of(validator: int):  # type: ignore[no-untyped-def]
    return next(k for k in KEYS if k.public_key == VALIDATORS[validator].public_key)


def vote(validator: int, value: bytes | None, *, height: int = 1, kind: VoteKind = VoteKind.PREVOTE,
         round_: int = 0) -> Vote:  # fmt: skip
    return sign_vote(Vote(height, round_, kind, value, validator), 1337, key_of(validator))


def test_two_prevotes_for_different_values_are_evidence() -> None:
    evidence = DoubleSign.of(vote(1, B), vote(1, A))
    assert DoubleSign.of(vote(1, A), vote(1, B)) == evidence  # canonical order
    assert decode_evidence(evidence.encode()) == evidence
    verify_evidence(evidence, VALIDATORS, 1337)
    nil = DoubleSign.of(vote(1, A), vote(1, None))
    verify_evidence(nil, VALIDATORS, 1337)
    assert nil.key == evidence.key  # one offence: validator 1's prevote of height 1, round 0
    first, second = (
        sign_proposal(Proposal(1, 0, value, -1, 2), 1337, key_of(2)) for value in (A, B)
    )
    verify_evidence(DoubleSign.of(first, second), VALIDATORS, 1337)


@pytest.mark.parametrize(
    "pair",
    [
        (vote(1, A), vote(1, A, kind=VoteKind.PRECOMMIT)),  # different steps
        (vote(1, A), vote(2, B)),  # different validators
        (vote(1, A), vote(1, B, round_=1)),  # different rounds
        (vote(1, A), vote(1, B, height=2)),  # different heights
        (vote(1, A), replace(vote(1, B), signature=bytes(64))),  # forged
        (replace(vote(1, A), validator=9), replace(vote(1, B), validator=9)),  # not a validator
    ],
)
def test_what_is_not_evidence(pair: tuple[Vote, Vote]) -> None:
    with pytest.raises(InvalidEvidence):
        verify_evidence(DoubleSign.of(*pair), VALIDATORS, 1337)


def test_evidence_must_be_canonical() -> None:
    evidence = DoubleSign.of(vote(1, A), vote(1, B))
    swapped = DoubleSign(evidence.second, evidence.first)
    with pytest.raises(DecodingError, match="canonical"):
        decode_evidence(swapped.encode())


class Outbox:
    """A network that goes nowhere: the driver's checks need no peers."""

    def __init__(self) -> None:
        self.inbound: asyncio.Queue[Gossip] = asyncio.Queue()
        self.sent: list[tuple[str, bytes]] = []

    def publish(self, topic: str, data: bytes) -> None:
        self.sent.append((topic, data))

    send = publish

    async def request(
        self, peer_id: str, protocol: str, data: bytes, timeout_s: float = 1
    ) -> bytes:
        raise AssertionError("no requests here")

    def peers(self) -> list[str]:
        return []

    def penalise(self, peer_id: str, reason: str) -> None:
        raise AssertionError(f"nobody to penalise: {reason}")


@pytest.mark.asyncio
async def test_a_block_records_an_offence_once(tmp_path: Path) -> None:
    chain = Chain.open(tmp_path / "data", GENESIS, proposer=bytes([0x10]) * 20)
    try:
        pool = EvidencePool(chain, VALIDATORS)
        offence = DoubleSign.of(vote(1, A), vote(1, B))
        now = int(time.time())
        early = chain.build_candidate(
            [], vrf_key=VRF_KEYS[0], timestamp=now, last_commit=b"", evidence=(offence.encode(),)
        )
        with pytest.raises(InvalidBlock, match="own height"):
            pool.check(early.block)  # an offence at height 1 cannot be in block 1
        await chain.commit_block(
            chain.build_candidate([], vrf_key=VRF_KEYS[0], timestamp=now, last_commit=b""), b""
        )
        built = chain.build_candidate(
            [], vrf_key=VRF_KEYS[0], timestamp=now, last_commit=b"", evidence=(offence.encode(),)
        )
        pool.check(built.block)
        chain.check_candidate(built.block)  # evidence_hash matches what is carried
        await chain.commit_block(built, b"")
        assert chain.store.evidence_height(offence.key) == 2
        again = chain.build_candidate(
            [], vrf_key=VRF_KEYS[0], timestamp=now, last_commit=b"", evidence=(offence.encode(),)
        )
        with pytest.raises(InvalidBlock, match="already recorded"):
            pool.check(again.block)
        with pytest.raises(InvalidBlock, match="evidence_hash"):
            chain.check_candidate(replace(again.block, evidence=()))  # header commits to it
    finally:
        chain.close()
