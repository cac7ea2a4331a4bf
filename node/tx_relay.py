"""Transactions between peers and the mempool: taken in from peers, passed on in batches.

Peers send transactions one hop (node.p2p.direct). A validator passes none on: validators
connect to each other, so each proposer has them first-hand from the node a client chose. A
follower (between clients and validators) passes on what is new to it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from brainchain.errors import InvalidTransaction
from node.chain import Chain
from node.p2p.gossip import pack_batches
from node.p2p.limits import TOPIC_TXS, gossip_limit

TX_RELAY_DELAY_S = 0.02  # collect transactions this long into one gossip batch


class TransactionRelay:
    """Admits the transactions peers send to the mempool, and sends on those to relay.

    `send` takes one batch for each connected peer; with `relays` (a follower), what peers
    send and is new here is sent on too, else only what clients submitted to this node.
    `peers` lists the connected peers: what is queued when the relay starts (the transaction
    journal's, re-admitted by node/chain.py `Chain.open`) waits for the first connection.
    """

    def __init__(
        self,
        chain: Chain,
        send: Callable[[bytes], None],
        peers: Callable[[], list[str]],
        *,
        relays: bool,
    ) -> None:
        self.chain = chain
        self._send = send
        self._peers = peers
        self._relays = relays

    def receive(self, raws: list[bytes]) -> None:
        """Admit transactions a peer sent; the ones the mempool refuses are dropped."""
        for raw in raws:
            try:
                self.chain.submit_transaction(raw, relay=self._relays)
            except InvalidTransaction:
                continue  # known already, or no longer valid here: not the relayer's fault

    async def run(self) -> None:
        """Send the transactions to relay to each peer, in batches."""
        limit = gossip_limit(TOPIC_TXS)
        # Held apart: no larger than the journal, itself bounded by the pool. What arrives later
        # is sent to the peers of the moment, as before.
        held = self.chain.take_relay()
        while True:
            if not held:
                await self.chain.relay_ready.wait()
            await asyncio.sleep(TX_RELAY_DELAY_S)
            raws = self.chain.take_relay()
            if held and self._peers():
                raws, held = held + raws, []
            for batch in pack_batches(raws, limit):
                self._send(batch)
