"""Byzantine consensus roles: what each one sends, signed for real, and the offences it logs."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from brainchain.consensus.proposer import ProposerSchedule
from brainchain.crypto.ed25519 import ConsensusKey
from brainchain.types.evidence import DoubleSign, verify_evidence
from brainchain.types.vote import (
    NO_ROUND,
    ConsensusMessage,
    Proposal,
    Vote,
    VoteKind,
    decode_vote,
    sign_proposal,
    verify_message,
)
from node.byzantine_consensus import (
    OFFENCES_FILE,
    ByzantineConsensus,
    OffenceLog,
    byzantine_consensus,
)
from node.chain import Chain
from node.config import Byzantine, ConfigError, NodeKeys
from node.consensus_driver import ConsensusDriver
from node.p2p.gossip import unpack_batch
from node.p2p.limits import TOPIC_PROPOSALS, TOPIC_VOTES
from node.p2p.wire import ProposalMessage, decode_proposal_message
from tests.unit.test_consensus_store import GENESIS, KEYS, VALIDATORS, VRF_KEYS
from tests.unit.test_evidence import Outbox, key_of, vote

CHAIN_ID = 1337
ME = 2  # the Byzantine validator's index in VALIDATORS
A = b"\xaa" * 32
SETTLE_S = 10.0  # deadline for the driver to propose


def genesis_index(validator: int) -> int:
    """Where validator `validator` (an index in VALIDATORS) sits in GENESIS and the key lists."""
    return next(i for i, k in enumerate(KEYS) if k.public_key == VALIDATORS[validator].public_key)


def node_keys(validator: int) -> NodeKeys:
    i = genesis_index(validator)
    return NodeKeys(bytes([0x51 + i]) * 32, bytes([i + 1]) * 32, VRF_KEYS[i], bytes(32))


def open_chain(path: Path, validator: int) -> Chain:
    return Chain.open(path, GENESIS, proposer=GENESIS.validators[genesis_index(validator)].address)


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[Chain]:
    chain = open_chain(tmp_path / "data", ME)
    try:
        yield chain
    finally:
        chain.close()


def role(chain: Chain, which: Byzantine, home: Path, validator: int = ME) -> ByzantineConsensus:
    return ByzantineConsensus(
        which,
        chain=chain,
        index=validator,
        key=key_of(validator),
        vrf_key=VRF_KEYS[genesis_index(validator)],
        offences=OffenceLog(home / OFFENCES_FILE),
    )


def offences(home: Path) -> list[dict[str, object]]:
    path = home / OFFENCES_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def assert_double_sign(a: ConsensusMessage, b: ConsensusMessage) -> None:
    """Both verify under the signer's key and make valid evidence against it."""
    for message in (a, b):
        signer = message.proposer if isinstance(message, Proposal) else message.validator
        verify_message(message, CHAIN_ID, VALIDATORS[signer].public_key)
    verify_evidence(DoubleSign.of(a, b), VALIDATORS, CHAIN_ID)


@pytest.mark.parametrize("value", [A, None], ids=["block", "nil"])
def test_a_double_voter_sends_a_conflicting_vote_beside_each_of_its_own(
    chain: Chain, tmp_path: Path, value: bytes | None
) -> None:
    voter = role(chain, Byzantine.DOUBLE_VOTER, tmp_path)
    for kind in VoteKind:
        own = vote(ME, value, height=3, round_=1, kind=kind)
        sent = voter.outgoing([own])
        assert len(sent) == 2 and sent[0] == own
        other = sent[1]
        assert isinstance(other, Vote)
        assert (other.height, other.round, other.kind) == (3, 1, kind)
        if value is None:
            assert other.block_hash is not None and len(other.block_hash) == 32
        else:
            assert other.block_hash is None
        assert_double_sign(own, other)
    assert offences(tmp_path) == [
        {"height": 3, "round": 1, "step": step, "kind": "equivocation"}
        for step in ("prevote", "precommit")
    ]


def test_a_double_voter_relays_others_votes_and_proposals_as_they_are(
    chain: Chain, tmp_path: Path
) -> None:
    voter = role(chain, Byzantine.DOUBLE_VOTER, tmp_path)
    others = [vote(0, A), vote(1, None), vote(3, A, kind=VoteKind.PRECOMMIT)]
    proposal = sign_proposal(Proposal(3, 0, A, NO_ROUND, ME), CHAIN_ID, key_of(ME))
    assert voter.outgoing([*others, proposal]) == [*others, proposal]
    assert offences(tmp_path) == []


def test_an_offence_is_logged_once_also_across_a_restart(chain: Chain, tmp_path: Path) -> None:
    """Re-broadcasts and a restart re-send the same votes; the same twin, signed alike, follows
    them, and the log keeps one line per offence."""
    own = vote(ME, A, height=5)
    first = role(chain, Byzantine.DOUBLE_VOTER, tmp_path).outgoing([own])
    again = role(chain, Byzantine.DOUBLE_VOTER, tmp_path)  # a new process: the log is re-read
    assert again.outgoing([own]) == again.outgoing([own]) == first
    assert offences(tmp_path) == [
        {"height": 5, "round": 0, "step": "prevote", "kind": "equivocation"}
    ]


def test_a_vote_withholder_sends_no_vote_of_its_own(chain: Chain, tmp_path: Path) -> None:
    withholder = role(chain, Byzantine.VOTE_WITHHOLDER, tmp_path)
    mine = [vote(ME, A, height=4), vote(ME, A, height=4, kind=VoteKind.PRECOMMIT)]
    others = [vote(0, A, height=4), vote(1, A, height=4, kind=VoteKind.PRECOMMIT)]
    proposal = sign_proposal(Proposal(4, 0, A, NO_ROUND, ME), CHAIN_ID, key_of(ME))
    assert withholder.outgoing([*mine, proposal, *others]) == [proposal, *others]
    assert offences(tmp_path) == [
        {"height": 4, "round": 0, "step": step, "kind": "withheld"}
        for step in ("prevote", "precommit")
    ]


def test_an_equivocating_proposer_re_proposes_without_the_valid_round_too(
    chain: Chain, tmp_path: Path
) -> None:
    """A re-proposal (Alg. 1 L16: validValue of round 0) gets a twin naming no valid round; a
    fresh proposal whose twin block it does not hold (lost in a restart) goes alone."""
    proposer = role(chain, Byzantine.EQUIVOCATING_PROPOSER, tmp_path)
    again = sign_proposal(Proposal(6, 1, A, 0, ME), CHAIN_ID, key_of(ME))
    sent = proposer.outgoing([again])
    assert len(sent) == 2 and sent[0] == again
    assert isinstance(sent[1], Proposal)
    assert (sent[1].block_hash, sent[1].valid_round) == (A, NO_ROUND)
    assert_double_sign(again, sent[1])
    fresh = sign_proposal(Proposal(7, 0, A, NO_ROUND, ME), CHAIN_ID, key_of(ME))
    assert proposer.outgoing([fresh]) == [fresh]
    own_vote = vote(ME, A, height=7)
    assert proposer.outgoing([own_vote]) == [own_vote]  # it votes honestly
    assert offences(tmp_path) == [
        {"height": 6, "round": 1, "step": "proposal", "kind": "equivocation"}
    ]


@pytest.mark.asyncio
async def test_an_equivocating_proposer_sends_two_valid_blocks_and_follows_the_first(
    tmp_path: Path,
) -> None:
    """The real driver, as round 0's proposer of height 1: two signed proposals leave, each with
    a block the chain accepts; the node itself prevotes the first."""
    proposer = ProposerSchedule(VALIDATORS).proposer(1, 0)
    chain = open_chain(tmp_path / "data", proposer)
    outbox = Outbox()
    try:
        driver = ConsensusDriver(
            chain,
            outbox,
            consensus_key=bytes([genesis_index(proposer) + 1]) * 32,
            vrf_key=VRF_KEYS[genesis_index(proposer)],
            interval_s=0,
            empty_blocks=True,
            byzantine=role(chain, Byzantine.EQUIVOCATING_PROPOSER, tmp_path, proposer),
        )
        async with asyncio.TaskGroup() as tasks:
            serving = tasks.create_task(driver.serve(asyncio.Event()))
            deadline = time.monotonic() + SETTLE_S
            while not any(topic == TOPIC_VOTES for topic, _ in outbox.sent):
                assert time.monotonic() < deadline, f"nothing voted: {outbox.sent}"
                await asyncio.sleep(0.01)
            serving.cancel()
        messages = [
            decode_proposal_message(data) for topic, data in outbox.sent if topic == TOPIC_PROPOSALS
        ]
        votes = [
            decode_vote(item)
            for topic, data in outbox.sent
            if topic == TOPIC_VOTES
            for item in unpack_batch(data)
        ]
        assert len(messages) == 2
        first, twin = messages
        assert (twin.proposal.height, twin.proposal.round) == (1, 0)
        assert first.block.hash != twin.block.hash
        assert twin.block.header.timestamp == first.block.header.timestamp + 1
        assert_double_sign(first.proposal, twin.proposal)
        for message in (first, twin):
            chain.check_candidate(message.block)  # raises unless a valid child of the head
        assert [(v.kind, v.block_hash) for v in votes] == [(VoteKind.PREVOTE, first.block.hash)]
        assert offences(tmp_path) == [
            {"height": 1, "round": 0, "step": "proposal", "kind": "equivocation"}
        ]
    finally:
        chain.close()


def test_only_consensus_roles_make_a_byzantine_driver(chain: Chain, tmp_path: Path) -> None:
    keys = node_keys(ME)
    for other in (None, Byzantine.WRONG_OUTPUT, Byzantine.RANDOM_FL_SCORE):
        assert byzantine_consensus(other, chain, keys, tmp_path) is None
    made = byzantine_consensus(Byzantine.VOTE_WITHHOLDER, chain, keys, tmp_path)
    assert made is not None and (made.role, made.index) == (Byzantine.VOTE_WITHHOLDER, ME)
    stranger = NodeKeys(bytes([0x77]) * 32, bytes([0x99]) * 32, bytes([0x98]) * 32, bytes(32))
    with pytest.raises(ConfigError, match="needs a validator"):
        byzantine_consensus(Byzantine.DOUBLE_VOTER, chain, stranger, tmp_path)
    with pytest.raises(ValueError, match="not a consensus role"):
        ByzantineConsensus(
            Byzantine.NO_REVEAL,
            chain=chain,
            index=ME,
            key=ConsensusKey(bytes(32)),
            vrf_key=bytes(32),
            offences=OffenceLog(tmp_path / OFFENCES_FILE),
        )


def test_a_damaged_offences_file_is_named(tmp_path: Path) -> None:
    (tmp_path / OFFENCES_FILE).write_text('{"height": 1, "round": 0, "step": "prevote"}\n')
    with pytest.raises(ConfigError, match=rf"{OFFENCES_FILE}:1: not an offence"):
        OffenceLog(tmp_path / OFFENCES_FILE)


@pytest.mark.asyncio
async def test_prepare_builds_a_twin_only_for_an_equivocating_proposer(
    chain: Chain, tmp_path: Path
) -> None:
    """The twin is another valid child of the head, and the twin proposal names it."""
    block = chain.build_candidate(
        [], vrf_key=VRF_KEYS[genesis_index(ME)], timestamp=int(time.time()), last_commit=b""
    ).block
    assert await role(chain, Byzantine.DOUBLE_VOTER, tmp_path).prepare(block) == {}
    proposer = role(chain, Byzantine.EQUIVOCATING_PROPOSER, tmp_path)
    twins = await proposer.prepare(block)
    assert len(twins) == 1
    (twin,) = twins.values()
    assert twin.hash != block.hash
    chain.check_candidate(twin)
    proposal = sign_proposal(Proposal(1, 0, block.hash, NO_ROUND, ME), CHAIN_ID, key_of(ME))
    _, other = proposer.outgoing([proposal])
    assert isinstance(other, Proposal) and other.block_hash == twin.hash
    wire = ProposalMessage(other, twin).encode()  # what the driver sends
    assert decode_proposal_message(wire).block == twin
