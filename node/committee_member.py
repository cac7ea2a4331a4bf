"""What a validator does as a member of any of BRAIN's VRF committees, shared by the inference
service (node/inference_service.py, DESIGN.md §5) and the federated-learning service
(node/fl/service.py, DESIGN.md §6).

- `follow_blocks` runs a service on the committed blocks, one at a time and in order, with a
  task group for the work the blocks start (model runs, scoring) that dies with the service.
- `Member.draw` evaluates the validator's VRF over a committee's seed and runs stake-unit
  sortition (brainchain/sortition.py) with that committee's expected weight k: the weight the
  precompile will find when it checks the proof (DESIGN.md §5 step 2).
- `seal` draws a salt and the commitment keccak(payload ‖ member ‖ salt) (step 4); the caller
  journals both, fsynced (node/store/inference_journal.py), before the commitment leaves.
- `Member.send` signs a call to a precompile from the validator's account, fees filled as the
  RPC suggests them, and submits it to the local mempool.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from brainchain.crypto import ecvrf
from brainchain.errors import BrainchainError
from brainchain.inference import commitment
from brainchain.sortition import selected_units
from brainchain.types.block import Block
from brainchain.types.receipt import Log
from brainchain.types.transaction import TX_FEE_MARKET, sign_transaction
from node.chain import Chain
from node.config import NodeKeys
from node.rpc.fees import suggested_priority_fee
from vm.precompiles.addresses import INFERENCE_ADDRESS
from vm.precompiles.inference_state import PENALTY_SLOT, ReadOnlySlots, load_bond

log = logging.getLogger(__name__)

SALT_BYTES = 32


async def follow_blocks(
    chain: Chain,
    ready: asyncio.Event,
    start: Callable[[asyncio.TaskGroup], None],
    on_block: Callable[[Block], None],
) -> None:
    """Call `start(group)`, set `ready`, then `on_block(block)` for every block committed from
    then on, until cancelled. Blocks committed while `start` runs are queued, not lost: the
    subscription opens first. Tasks created in `group` are cancelled with the service."""
    queue = chain.subscribe()
    try:
        async with asyncio.TaskGroup() as group:
            start(group)
            ready.set()
            while True:
                on_block(await queue.get())
    finally:
        chain.unsubscribe(queue)


def open_blocks(chain: Chain, commit_blocks: int) -> Iterator[Block]:
    """The committed blocks whose requests or proposals still take commits: those of the last
    `commit_blocks` heights, oldest first (a restarted service serves them)."""
    head = chain.head.height
    for height in range(max(1, head - commit_blocks + 1), head + 1):
        block = chain.block_by_height(height)
        if block is not None:
            yield block


def block_logs(chain: Chain, block: Block) -> Iterator[Log]:
    """Every log of a committed block's receipts, in order."""
    for receipt in chain.receipts(block.hash):
        yield from receipt.logs


def seal(payload: bytes, member: bytes) -> tuple[bytes, bytes]:
    """A fresh salt from the OS and the commitment keccak(payload ‖ member ‖ salt) to it
    (brainchain.inference.commitment): (salt, commitment)."""
    salt = os.urandom(SALT_BYTES)
    return salt, commitment(payload, member, salt)


@dataclass(frozen=True, slots=True)
class Member:
    """A node's validator, as a committee member: its stake in genesis and its keys."""

    chain: Chain
    keys: NodeKeys

    @property
    def address(self) -> bytes:
        return self.keys.address

    @property
    def stake(self) -> int:
        """The validator's stake (0 for a node that is no validator)."""
        genesis = self.chain.genesis
        return next((v.stake for v in genesis.validators if v.address == self.address), 0)

    def draw(self, seed: bytes, expected_size: int) -> tuple[bytes, int]:
        """(VRF proof over `seed`, the stake units it selects for a committee of expected weight
        `expected_size`); weight 0: not a member. A node without stake draws nothing."""
        stake = self.stake
        if stake == 0:
            return b"", 0
        proof = ecvrf.prove(self.keys.vrf_key, seed)
        total = self.chain.genesis.total_stake
        return proof, selected_units(ecvrf.proof_to_hash(proof), stake, total, expected_size)

    def bond_covers_commit(self, what: str) -> bool:
        """Whether the validator's bond at the head covers the penalty of one more commit, as
        INFERENCE and FL_REGISTRY require (vm/precompiles/bonds.py lock_penalty); when it does
        not, says so and what to do, instead of sending a commit that would revert and burn its
        gas. Commits still in the mempool are not counted: a burst may still meet the revert."""
        slots = ReadOnlySlots(partial(self.chain.storage, INFERENCE_ADDRESS))
        bond, pending = load_bond(slots, self.address)
        penalty = slots.load(PENALTY_SLOT)
        if bond >= penalty * (pending + 1):
            return True
        log.warning(
            "not sending %s: the bond of %d wei covers the penalty of %d wei for %d pending"
            " commits, not one more (deposit() to INFERENCE raises it)",
            what,
            bond,
            penalty,
            pending,
        )
        return False

    def send(self, to: bytes, data: bytes, gas: int, what: str) -> bool:
        """Sign and submit a call to `to` from the validator's account; False if refused.

        Runs on the event loop without awaiting between reading the pending nonce and
        submitting, so two sends never take the same nonce.
        """
        chain = self.chain
        tip = suggested_priority_fee(chain)
        tx = sign_transaction(
            private_key=self.keys.account_key,
            tx_type=TX_FEE_MARKET,
            chain_id=chain.chain_id,
            nonce=chain.pending_nonce(self.address),
            gas=gas,
            to=to,
            value=0,
            data=data,
            max_fee_per_gas=2 * chain.next_base_fee() + tip,
            max_priority_fee_per_gas=tip,
        )
        try:
            chain.submit_transaction(tx.raw)
        except BrainchainError as exc:
            log.warning("%s refused by the mempool: %s", what, exc)
            return False
        log.info("sent %s (tx 0x%s)", what, tx.hash.hex())
        return True
