"""Valid encodings of every record a peer or client sends, for the fuzz tests to mutate."""

from __future__ import annotations

from dataclasses import replace

from brainchain.crypto.ed25519 import ConsensusKey
from brainchain.state.state import State
from brainchain.types.block import Block
from brainchain.types.commit import make_commit
from brainchain.types.evidence import DoubleSign
from brainchain.types.transaction import (
    TX_ACCESS_LIST,
    TX_FEE_MARKET,
    TX_LEGACY,
    decode_transaction,
    sign_transaction,
)
from brainchain.types.vote import (
    Proposal,
    Vote,
    VoteKind,
    encode_message,
    sign_proposal,
    sign_vote,
)
from genesis.block import build_genesis_block
from genesis.devnet import make_devnet_genesis
from genesis.format import GenesisValidator
from node.p2p.gossip import pack_batches
from node.p2p.wire import ProposalMessage, SyncedBlock, SyncRequest, SyncResponse

CHAIN_ID = 1337
TX_KEY = bytes([7]) * 32
CONSENSUS_KEYS = [ConsensusKey(bytes([i + 1]) * 32) for i in range(4)]
VALIDATORS = [
    GenesisValidator(f"v{i}", bytes([0x10 + i]) * 20, key.public_key, bytes(32), 1)
    for i, key in enumerate(CONSENSUS_KEYS)
]
TO = bytes([0x35]) * 20

TRANSACTIONS = [
    sign_transaction(
        private_key=TX_KEY,
        tx_type=tx_type,
        chain_id=CHAIN_ID,
        nonce=nonce,
        gas=50_000,
        to=to,
        value=10**18,
        data=data,
        max_fee_per_gas=2 * 10**9,
        max_priority_fee_per_gas=10**9,
        access_list=access_list,
    ).raw
    for tx_type, nonce, to, data, access_list in (
        (TX_LEGACY, 0, TO, b"", ()),
        (TX_ACCESS_LIST, 1, None, b"\x60\x00" * 8, ((TO, (bytes(32), bytes([1]) * 32)),)),
        (
            TX_FEE_MARKET,
            2,
            TO,
            b"\xa9\x05\x9c\xbb" + bytes(64),
            ((TO, ()), (bytes(20), (bytes([7]) * 32,))),
        ),
    )
]

BLOCK_HASH = bytes([0xAB]) * 32
VOTES = [
    sign_vote(Vote(5, round_, kind, block_hash, i, b""), CHAIN_ID, key)
    for i, key in enumerate(CONSENSUS_KEYS)
    for round_, kind, block_hash in (
        (0, VoteKind.PREVOTE, BLOCK_HASH),
        (1, VoteKind.PRECOMMIT, None),
    )
]
PRECOMMITS = [v for v in VOTES if v.kind is VoteKind.PRECOMMIT]
COMMIT = make_commit(5, 1, BLOCK_HASH, [replace(v, block_hash=BLOCK_HASH) for v in PRECOMMITS])
EVIDENCE = DoubleSign.of(VOTES[0], replace(VOTES[0], block_hash=None)).encode()

_GENESIS_BLOCK, _ = build_genesis_block(make_devnet_genesis(VALIDATORS), State({}))
BLOCK = Block(
    replace(_GENESIS_BLOCK.header, height=6),
    tuple(decode_transaction(raw) for raw in TRANSACTIONS),
    COMMIT.encode(),
    (EVIDENCE,),
)
BLOCKS = [_GENESIS_BLOCK.encode(), BLOCK.encode()]
BLOCK_COMMIT = make_commit(
    BLOCK.height,
    0,
    BLOCK.hash,
    [replace(v, height=BLOCK.height, round=0, block_hash=BLOCK.hash) for v in PRECOMMITS],
)
PROPOSAL = sign_proposal(Proposal(6, 1, BLOCK.hash, 0, 2, b""), CHAIN_ID, CONSENSUS_KEYS[2])

RECORDS = {
    "vote": [v.encode() for v in VOTES],
    "proposal": [PROPOSAL.encode(), replace(PROPOSAL, valid_round=-1).encode()],
    "message": [encode_message(m) for m in (*VOTES[:2], PROPOSAL)],
    "commit": [COMMIT.encode()],
    "evidence": [EVIDENCE],
    "header": [b.header.encode() for b in (_GENESIS_BLOCK, BLOCK)],
    "block": BLOCKS,
}
PROPOSAL_MESSAGES = [ProposalMessage(PROPOSAL, BLOCK).encode()]
SYNC_REQUESTS = [SyncRequest(0, 0).encode(), SyncRequest(7, 32).encode()]
SYNC_RESPONSES = [
    SyncResponse(9, ()).encode(),
    SyncResponse(9, (SyncedBlock(BLOCK, BLOCK_COMMIT),)).encode(),
]
BATCHES = [*pack_batches(TRANSACTIONS, 4096), *pack_batches(RECORDS["vote"], 4096)]
