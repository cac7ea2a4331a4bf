"""brain_getCommit: how this node decided a height, for `brainchain chaos`'s checkers.

The checkers compare across nodes what each committed (block hash, state root), which
validators' precommits certified it, and which double signs the block records as evidence
(node/chaos/checkers.py). The certificate is the one this node stored with the block when it
committed it (consensus or block sync, node/chain.py); where it holds none, the one the next
block carries as its last_commit. Genesis has neither: its round is null and it has no
precommits. Heights and rounds are JSON numbers except the height, a hex quantity as in eth_*.
"""

from __future__ import annotations

from typing import Any

from brainchain.types.block import Block
from brainchain.types.commit import CommitCertificate, decode_commit
from brainchain.types.evidence import decode_evidence
from brainchain.types.vote import Proposal
from node.chain import Chain, ChainError
from node.rpc.brain import expect_params
from node.rpc.hexfmt import data, parse_quantity, quantity


def brain_get_commit(chain: Chain, params: list[Any]) -> dict[str, Any] | None:
    """The block at a height ("latest" or a hex quantity) with its certificate and evidence;
    null past the head.

    Raises:
        InvalidParams: not one param, or neither "latest" nor a hex quantity.
        DecodingError: a stored certificate or piece of evidence does not decode.
        ChainError: the certificate held for the height certifies another block.
    """
    expect_params(params, 1)
    (tag,) = params
    height = chain.head.height if tag == "latest" else parse_quantity(tag, "height")
    block = chain.block_by_height(height) if height <= chain.head.height else None
    if block is None:
        return None
    cert = _certificate(chain, block)
    return {
        "height": quantity(block.height),
        "hash": data(block.hash),
        "stateRoot": data(block.header.state_root),
        "round": None if cert is None else cert.round,
        "precommits": [] if cert is None else [p.validator for p in cert.precommits],
        "evidence": [_offence(raw) for raw in block.evidence],
    }


def _certificate(chain: Chain, block: Block) -> CommitCertificate | None:
    raw = chain.commit_at(block.height)
    if not raw:
        child = chain.block_by_height(block.height + 1)
        raw = b"" if child is None else child.last_commit
    if not raw:
        return None
    cert = decode_commit(raw)
    if (cert.height, cert.block_hash) != (block.height, block.hash):
        raise ChainError(
            f"the certificate held for height {block.height} certifies block "
            f"{cert.block_hash.hex()} at height {cert.height}, not {block.hash.hex()}"
        )
    return cert


def _offence(raw: bytes) -> dict[str, Any]:
    """Who signed twice, and for which height, round and step (DoubleSign.key's fields)."""
    message = decode_evidence(raw).first
    if isinstance(message, Proposal):
        validator, step = message.proposer, "proposal"
    else:
        validator, step = message.validator, message.kind.name.lower()
    return {
        "validator": validator,
        "height": message.height,
        "round": message.round,
        "step": step,
    }
