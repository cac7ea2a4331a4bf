"""Double-sign evidence on its way into blocks: held until one records it, checked in theirs.

Our machine catches an offence (an `Evidence` action) or a peer gossips one; the pool holds it,
once, until a block we build records it (DESIGN.md §4: recorded on chain). A proposed block's
evidence must be valid, of an earlier height, and new to the chain, so each offence is recorded
at most once.
"""

from __future__ import annotations

from brainchain.errors import InvalidBlock
from brainchain.types.block import Block
from brainchain.types.evidence import DoubleSign, decode_evidence, verify_evidence
from brainchain.types.validators import ValidatorSet
from node.chain import Chain

MAX_PENDING_EVIDENCE = 1024
MAX_EVIDENCE_PER_BLOCK = 16


class EvidencePool:
    """Evidence caught or received and not yet recorded in a block, by offence."""

    def __init__(self, chain: Chain, validators: ValidatorSet) -> None:
        self.chain = chain
        self.validators = validators
        self._pending: dict[bytes, DoubleSign] = {}

    def keep(self, evidence: DoubleSign) -> bool:
        """Hold evidence for a block to record; False when known or recorded already."""
        key = evidence.key
        if key in self._pending or self.chain.evidence_height(key) is not None:
            return False
        if len(self._pending) >= MAX_PENDING_EVIDENCE:
            return False
        self._pending[key] = evidence
        return True

    def receive(self, data: bytes) -> None:
        """Keep the evidence a peer gossiped once it proves an offence.

        Raises:
            DecodingError, InvalidEvidence: it does not decode, or proves nothing.
        """
        evidence = decode_evidence(data)
        verify_evidence(evidence, self.validators, self.chain.chain_id)
        self.keep(evidence)

    def for_block(self, height: int) -> tuple[bytes, ...]:
        """Pending evidence for the block at `height`: offences of earlier heights only."""
        ready = [e for _, e in sorted(self._pending.items()) if e.first.height < height]
        return tuple(e.encode() for e in ready[:MAX_EVIDENCE_PER_BLOCK])

    def check(self, block: Block) -> None:
        """Recorded evidence must be valid, of an earlier height, and new to the chain.

        Raises:
            InvalidBlock: too much evidence, of too late a height, or recorded already.
            DecodingError, InvalidEvidence: a piece of evidence does not decode or prove.
        """
        if len(block.evidence) > MAX_EVIDENCE_PER_BLOCK:
            raise InvalidBlock(f"{len(block.evidence)} pieces of evidence in one block")
        keys = set()
        for data in block.evidence:
            evidence = decode_evidence(data)
            verify_evidence(evidence, self.validators, self.chain.chain_id)
            key = evidence.key
            if evidence.first.height >= block.height:
                raise InvalidBlock("evidence of the block's own height or later")
            if key in keys or self.chain.evidence_height(key) is not None:
                raise InvalidBlock("evidence of an offence already recorded")
            keys.add(key)

    def recorded(self, block: Block) -> None:
        """Forget the offences a committed block records."""
        for evidence in block.evidence:
            self._pending.pop(decode_evidence(evidence).key, None)
