"""Byzantine consensus roles for fault injection (issue 14): a validator that lies in what it
sends, so a chaos run can show the honest nodes catch it and keep committing.

Test-only (config "byzantine"); never set it on a real network. A role rewrites only the
consensus messages the driver is about to send: the node's own machine runs the honest
algorithm on what it signed first (an equivocating proposer prevotes its first proposal, a
double voter tallies its first vote), and its WAL holds only those, so the node's state stays
that of an honest validator that happens to say more, or less, than it should.

- equivocating-proposer: beside each proposal of its own, a second one for the same height and
  round: for a fresh block, its twin (the same transactions, last commit and evidence, a second
  later: another valid block); for a re-proposal, the same block without its valid round.
- double-voter: beside each prevote and precommit, a conflicting one: nil for a block, a
  made-up hash for nil.
- vote-withholder: never sends its own prevotes or precommits; it still proposes and relays
  others' messages.

Every offence is appended once, as a JSON line, to <home>/byzantine.jsonl: {"height", "round",
"step": "proposal"|"prevote"|"precommit", "kind": "equivocation"|"withheld"}, so the chaos
checkers (node/chaos/checkers.py) know which DoubleSign evidence the honest nodes owe.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from brainchain.crypto.ed25519 import ConsensusKey
from brainchain.crypto.keccak import keccak256
from brainchain.encoding import msgpack_canon
from brainchain.types.block import Block
from brainchain.types.vote import (
    NO_ROUND,
    ConsensusMessage,
    Proposal,
    Vote,
    sign_proposal,
    sign_vote,
)
from node.chain import Chain
from node.config import Byzantine, ConfigError, NodeKeys
from node.consensus_driver import validator_set

log = logging.getLogger(__name__)

OFFENCES_FILE = "byzantine.jsonl"
CONSENSUS_ROLES = frozenset(
    {Byzantine.EQUIVOCATING_PROPOSER, Byzantine.DOUBLE_VOTER, Byzantine.VOTE_WITHHOLDER}
)
EQUIVOCATION = "equivocation"
WITHHELD = "withheld"
PROPOSAL_STEP = "proposal"
TWIN_DELAY_S = 1  # a twin block's timestamp is this much after its original's
MADE_UP_DOMAIN = "brainchain/byzantine/made-up"  # seeds the hash a double voter votes for nil


class OffenceLog:
    """<home>/byzantine.jsonl: each offence once, across restarts too (a restarted node re-sends
    what its WAL holds, and a double voter re-signs the same conflicting votes)."""

    def __init__(self, path: Path) -> None:
        """Open the log, remembering the offences it holds already.

        Raises:
            ConfigError: a line of the file is not an offence.
        """
        self.path = path
        self._seen: set[tuple[int, int, str, str]] = set()
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            lines = []
        for number, line in enumerate(lines, 1):
            try:
                doc = json.loads(line)
                self._seen.add((doc["height"], doc["round"], doc["step"], doc["kind"]))
            except (ValueError, KeyError, TypeError):
                raise ConfigError(f"{path}:{number}: not an offence: {line[:80]!r}") from None

    def record(self, message: ConsensusMessage, kind: str) -> None:
        """Append the offence `message` commits unless it is logged already; written before
        the message leaves, so a kill right after sending cannot hide it."""
        offence = (message.height, message.round, _step(message), kind)
        if offence in self._seen:
            return
        self._seen.add(offence)
        doc = dict(zip(("height", "round", "step", "kind"), offence, strict=True))
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(doc) + "\n")
        log.info("byzantine: %s at height %d round %d (%s)", kind, *offence[:3])


class ByzantineConsensus:
    """One validator's consensus role: rewrites the proposals and votes its driver sends."""

    def __init__(
        self,
        role: Byzantine,
        *,
        chain: Chain,
        index: int,
        key: ConsensusKey,
        vrf_key: bytes,
        offences: OffenceLog,
    ) -> None:
        """`index`: this validator's index in the set; `key` and `vrf_key` sign and prove what
        it sends beside its honest messages.

        Raises:
            ValueError: `role` is not a consensus role.
        """
        if role not in CONSENSUS_ROLES:
            raise ValueError(f"{role.value!r} is not a consensus role")
        self.role = role
        self.index = index
        self.offences = offences
        self._chain = chain
        self._key = key
        self._vrf_key = vrf_key
        self._twins: dict[bytes, Block] = {}  # our proposed blocks' twins, by original hash

    async def prepare(self, block: Block) -> dict[bytes, Block]:
        """Blocks to keep beside `block`, which we are about to propose, by hash: its twin, for
        an equivocating proposer. The twin is built now, off the loop as the driver builds, so
        both proposals leave together."""
        if self.role is not Byzantine.EQUIVOCATING_PROPOSER:
            return {}
        twin = await asyncio.to_thread(self._build_twin, block)
        if self._chain.head.hash != block.header.parent_hash:
            return {}  # the head moved: `block` is stale, and the twin maybe of another height
        self._twins = {h: t for h, t in self._twins.items() if t.height == block.height}
        self._twins[block.hash] = twin
        return {twin.hash: twin}

    def outgoing(self, messages: Sequence[ConsensusMessage]) -> list[ConsensusMessage]:
        """What to send in place of `messages`: others' go as they are, ours as the role says.

        Each offence is logged before the message that commits it is handed back.
        """
        out: list[ConsensusMessage] = []
        for message in messages:
            if _signer(message) != self.index:
                out.append(message)
            elif isinstance(message, Vote) and self.role is Byzantine.VOTE_WITHHOLDER:
                self.offences.record(message, WITHHELD)
            else:
                out.append(message)
                other = self._conflicting(message)
                if other is not None:
                    self.offences.record(message, EQUIVOCATION)
                    out.append(other)
        return out

    def _conflicting(self, message: ConsensusMessage) -> ConsensusMessage | None:
        """The second message the role signs for the same height, round and step, if any."""
        chain_id = self._chain.chain_id
        if isinstance(message, Vote):
            if self.role is not Byzantine.DOUBLE_VOTER:
                return None
            value = None if message.block_hash is not None else _made_up(message)
            return sign_vote(replace(message, block_hash=value), chain_id, self._key)
        if self.role is not Byzantine.EQUIVOCATING_PROPOSER:
            return None
        twin = self._twins.get(message.block_hash)
        if twin is not None:
            other = replace(message, block_hash=twin.hash)
        elif message.valid_round != NO_ROUND:
            other = replace(message, valid_round=NO_ROUND)
        else:
            return None  # a fresh block whose twin we lost in a restart: nothing to pair it with
        return sign_proposal(other, chain_id, self._key)

    def _build_twin(self, block: Block) -> Block:
        """Another valid child of the head, a second later (worker thread, as the driver's)."""
        return self._chain.build_candidate(
            list(block.transactions),
            vrf_key=self._vrf_key,
            timestamp=block.header.timestamp + TWIN_DELAY_S,
            last_commit=block.last_commit,
            evidence=block.evidence,
        ).block


def byzantine_consensus(
    role: Byzantine | None, chain: Chain, keys: NodeKeys, home: Path
) -> ByzantineConsensus | None:
    """The consensus role config "byzantine" names, with a loud warning; None when there is
    none (an honest validator, or one whose fault lies in inference or FL).

    Raises:
        ConfigError: a consensus role on a node that is no genesis validator, or an unreadable
            offences file.
    """
    if role not in CONSENSUS_ROLES:
        return None
    assert role is not None
    index = validator_set(chain.genesis.validators).index_of(keys.consensus_pubkey)
    if index is None:
        raise ConfigError(f"byzantine {role.value!r} needs a validator: this node is none")
    log.warning(
        "BYZANTINE TEST MODE: validator %d is a %s; its offences go to %s",
        index,
        role.value,
        home / OFFENCES_FILE,
    )
    return ByzantineConsensus(
        role,
        chain=chain,
        index=index,
        key=ConsensusKey(keys.consensus_key),
        vrf_key=keys.vrf_key,
        offences=OffenceLog(home / OFFENCES_FILE),
    )


def _signer(message: ConsensusMessage) -> int:
    return message.proposer if isinstance(message, Proposal) else message.validator


def _step(message: ConsensusMessage) -> str:
    return PROPOSAL_STEP if isinstance(message, Proposal) else message.kind.name.lower()


def _made_up(vote: Vote) -> bytes:
    """A block hash no block has, the same after a restart (so is the vote signed for it)."""
    return keccak256(msgpack_canon.pack([MADE_UP_DOMAIN, vote.height, vote.round, int(vote.kind)]))
