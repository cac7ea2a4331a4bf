"""brain_getCommit over the in-process RPC and a real LevelDB chain: blocks committed with real
signed certificates and double-sign evidence, read back as the chaos checkers will."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from brainchain.types.block import Block
from brainchain.types.commit import make_commit
from brainchain.types.evidence import DoubleSign
from brainchain.types.vote import Proposal, Vote, VoteKind, sign_proposal, sign_vote
from node.chain import Chain
from node.rpc.errors import INVALID_PARAMS, SERVER_ERROR
from tests.unit.rpc_harness import call, serving
from tests.unit.test_consensus_store import GENESIS, VALIDATORS, VRF_KEYS
from tests.unit.test_evidence import A, B, key_of, vote

PROPOSER = bytes([0x10]) * 20  # validator 0


def certificate(height: int, round_: int, block_hash: bytes, signers: list[int]) -> bytes:
    votes = [
        sign_vote(Vote(height, round_, VoteKind.PRECOMMIT, block_hash, v), 1337, key_of(v))
        for v in signers
    ]
    return make_commit(height, round_, block_hash, votes).encode()


async def commit(
    chain: Chain, *, last_commit: bytes = b"", evidence: tuple[bytes, ...] = (), cert: bool = True
) -> tuple[Block, bytes]:
    """Commit the next block; with `cert`, store a certificate by validators 0, 1, 3 whose round
    is the height. Returns the block and the certificate made for it (stored or not)."""
    built = chain.build_candidate(
        [],
        vrf_key=VRF_KEYS[0],
        timestamp=int(time.time()),
        last_commit=last_commit,
        evidence=evidence,
    )
    block = built.block
    made = certificate(block.height, block.height, block.hash, [0, 1, 3])
    await chain.commit_block(built, made if cert else b"")
    return block, made


@pytest.mark.asyncio
async def test_certificates_and_evidence_as_committed(tmp_path: Path) -> None:
    async with serving(tmp_path / "data", GENESIS, PROPOSER) as (client, chain):
        assert len(VALIDATORS) == 4
        block1, cert1 = await commit(chain)
        prevotes = DoubleSign.of(vote(2, A), vote(2, B))
        proposals = DoubleSign.of(
            *(sign_proposal(Proposal(1, 1, v, -1, 3), 1337, key_of(3)) for v in (A, B))
        )
        # Block 2's certificate is not stored: only block 3's last_commit carries it.
        block2, cert2 = await commit(
            chain,
            last_commit=cert1,
            evidence=(prevotes.encode(), proposals.encode()),
            cert=False,
        )
        block3, _ = await commit(chain, last_commit=cert2)

        first = (await call(client, "brain_getCommit", "0x1"))["result"]
        assert first == {
            "height": "0x1",
            "hash": "0x" + block1.hash.hex(),
            "stateRoot": "0x" + block1.header.state_root.hex(),
            "round": 1,
            "precommits": [0, 1, 3],
            "evidence": [],
        }
        second = (await call(client, "brain_getCommit", "0x2"))["result"]
        assert second["hash"] == "0x" + block2.hash.hex()
        assert (second["round"], second["precommits"]) == (2, [0, 1, 3])
        expected = [
            {"validator": 2, "height": 1, "round": 0, "step": "prevote"},
            {"validator": 3, "height": 1, "round": 1, "step": "proposal"},
        ]
        assert sorted(second["evidence"], key=lambda e: e["validator"]) == expected
        latest = (await call(client, "brain_getCommit", "latest"))["result"]
        assert (latest["height"], latest["hash"]) == ("0x3", "0x" + block3.hash.hex())
        genesis = (await call(client, "brain_getCommit", "0x0"))["result"]
        assert (genesis["round"], genesis["precommits"], genesis["evidence"]) == (None, [], [])
        assert (await call(client, "brain_getCommit", "0x4"))["result"] is None


@pytest.mark.asyncio
async def test_a_certificate_for_another_block_is_an_error(tmp_path: Path) -> None:
    async with serving(tmp_path / "data", GENESIS, PROPOSER) as (client, chain):
        built = chain.build_candidate(
            [], vrf_key=VRF_KEYS[0], timestamp=int(time.time()), last_commit=b""
        )
        await chain.commit_block(built, certificate(1, 0, b"\xcc" * 32, [0, 1, 2]))
        answer = await call(client, "brain_getCommit", "0x1")
        assert answer["error"]["code"] == SERVER_ERROR
        assert "certifies block cccc" in answer["error"]["message"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ([], "expected 1 params, got 0"),
        (["0x1", "0x2"], "expected 1 params, got 2"),
        (["earliest"], "invalid height"),
        ([1], "invalid height"),
        (["0xzz"], "not hexadecimal"),
    ],
)
async def test_bad_params(tmp_path: Path, params: list[object], message: str) -> None:
    async with serving(tmp_path / "data", GENESIS, PROPOSER) as (client, _):
        answer = await call(client, "brain_getCommit", *params)
        assert answer["error"]["code"] == INVALID_PARAMS
        assert message in answer["error"]["message"]
