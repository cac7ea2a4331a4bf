"""The transaction pool of one node: admission, replacement, eviction and block selection.

Ethereum-like rules (geth's `legacypool` is the model): transactions are kept per sender by
nonce; a sender's contiguous run from its account nonce is *pending* (executable), anything
behind a gap is *queued*. The pool is pure and deterministic: no clock, ties are broken by the
arrival sequence number, which is unique, so every output is a function of the calls made.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable

from brainchain.errors import (
    AlreadyKnown,
    InsufficientFunds,
    MempoolFull,
    NonceTooHigh,
    NonceTooLow,
    ReplacementUnderpriced,
    SenderLimitReached,
)
from brainchain.mempool.ordering import pays_replacement_bump, priority_fee_at, upfront_cost
from brainchain.types.transaction import Transaction

DEFAULT_MAX_SIZE = 20_000
# Encoded bytes pooled: without it, 20,000 transactions of the largest size a node accepts
# (128 KiB) would hold 2.5 GB. 64 MiB is 500 of those, or every slot full of ~3 KiB calls.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_PER_SENDER = 256
DEFAULT_MAX_NONCE_GAP = 64
DEFAULT_PRICE_BUMP_PERCENT = 10  # geth's default --txpool.pricebump

# G_transaction (Yellow Paper App. G): no valid transaction uses less gas, so a block with less
# left is full.
MIN_TX_GAS = 21_000

# Rebuild the eviction heap once stale entries outnumber live senders by this factor.
_EVICT_HEAP_SLACK = 2


class _Entry:
    """A pooled transaction with its arrival number and upfront cost."""

    __slots__ = ("cost", "seq", "tx")

    def __init__(self, tx: Transaction, seq: int) -> None:
        self.tx = tx
        self.seq = seq
        self.cost = upfront_cost(tx)


class _SenderTxs:
    """One sender's pooled transactions: sorted nonces and nonce → entry."""

    __slots__ = ("by_nonce", "nonces")

    def __init__(self) -> None:
        self.nonces: list[int] = []
        self.by_nonce: dict[int, _Entry] = {}

    def run_end(self, start: int) -> int:
        """First nonce at or after `start` that is not pooled (end of the contiguous run)."""
        nonces = self.nonces
        lo = bisect_left(nonces, start)
        if lo == len(nonces) or nonces[lo] != start:
            return start
        # nonces are distinct and sorted, so nonces[j] - j never decreases: the run is the
        # stretch where it stays equal to its value at `lo`.
        hi = bisect_right(range(len(nonces)), start - lo, lo=lo, key=lambda j: nonces[j] - j)
        return start + (hi - lo)

    def tail(self) -> _Entry | None:
        """The highest-nonce entry: the only one that can go without leaving a gap."""
        return self.by_nonce[self.nonces[-1]] if self.nonces else None


class Mempool:
    """Transactions waiting for a block, per sender in nonce order.

    Capacity is bounded overall (`max_size` transactions, `max_bytes` of their encodings) and
    per sender (`max_per_sender`); a sender may run at most `max_nonce_gap` nonces ahead of its
    pending nonce. When full, a newcomer that pays a higher priority fee at the current base fee
    evicts the cheapest sender *tails* (a sender's highest nonce), so eviction never opens a
    gap: one to free a slot, as many as free its bytes; all of them or none.
    """

    def __init__(
        self,
        *,
        max_size: int = DEFAULT_MAX_SIZE,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_per_sender: int = DEFAULT_MAX_PER_SENDER,
        max_nonce_gap: int = DEFAULT_MAX_NONCE_GAP,
        price_bump_percent: int = DEFAULT_PRICE_BUMP_PERCENT,
    ) -> None:
        self.max_size = max_size
        self.max_bytes = max_bytes
        self.bytes = 0  # encoded size of everything pooled
        self.max_per_sender = max_per_sender
        self.max_nonce_gap = max_nonce_gap
        self.price_bump_percent = price_bump_percent
        self._by_hash: dict[bytes, _Entry] = {}
        self._senders: dict[bytes, _SenderTxs] = {}
        self._seq = 0
        # Min-heap of (priority fee at _evict_base_fee, -seq, hash) over sender tails, built on
        # demand when the pool is full and kept up to date until the base fee changes. Entries
        # go stale lazily (checked on pop), as in geth's pricedList.
        self._evict_heap: list[tuple[int, int, bytes]] = []
        self._evict_base_fee: int | None = None

    # --- queries ----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._by_hash)

    def __contains__(self, tx_hash: object) -> bool:
        return tx_hash in self._by_hash

    def get(self, tx_hash: bytes) -> Transaction | None:
        """The pooled transaction with this hash, or None."""
        entry = self._by_hash.get(tx_hash)
        return entry.tx if entry is not None else None

    def pending_nonce(self, sender: bytes, account_nonce: int) -> int:
        """Next nonce for `sender` after its contiguous pooled run (eth_getTransactionCount
        "pending")."""
        txs = self._senders.get(sender)
        return account_nonce if txs is None else txs.run_end(account_nonce)

    def txs_of(self, sender: bytes) -> list[Transaction]:
        """The sender's pooled transactions in nonce order."""
        txs = self._senders.get(sender)
        return [] if txs is None else [txs.by_nonce[n].tx for n in txs.nonces]

    def pending(self) -> list[Transaction]:
        """Every pooled transaction, ordered by (sender, nonce)."""
        return [
            self._senders[s].by_nonce[n].tx
            for s in sorted(self._senders)
            for n in self._senders[s].nonces
        ]

    def content(
        self, nonce_of: Callable[[bytes], int]
    ) -> tuple[list[Transaction], list[Transaction]]:
        """(pending, queued), each ordered by (sender, nonce) (txpool_content).

        Pending: the contiguous run from `nonce_of(sender)`. Queued: the rest (behind a gap, or
        stale below the account nonce until `remove_committed` drops them).
        """
        pending: list[Transaction] = []
        queued: list[Transaction] = []
        for sender in sorted(self._senders):
            txs = self._senders[sender]
            start = nonce_of(sender)
            end = txs.run_end(start)
            for n in txs.nonces:
                (pending if start <= n < end else queued).append(txs.by_nonce[n].tx)
        return pending, queued

    def counts(self, nonce_of: Callable[[bytes], int]) -> tuple[int, int]:
        """(pending, queued) counts as `content` splits them (txpool_status)."""
        pending = 0
        for sender, txs in self._senders.items():
            start = nonce_of(sender)
            pending += txs.run_end(start) - start
        return pending, len(self._by_hash) - pending

    # --- admission --------------------------------------------------------------------------

    def add(
        self, tx: Transaction, *, account_nonce: int, account_balance: int, base_fee: int
    ) -> bool:
        """Admit `tx` given its sender's committed nonce and balance; True if it replaced one.

        Transactions whose fee cap is below `base_fee` are admitted and wait for the base fee to
        fall; `select` skips them meanwhile. Stale pooled transactions of the sender (nonce below
        `account_nonce`) are dropped first.

        Raises:
            AlreadyKnown: a transaction with this hash is pooled.
            NonceTooLow: `tx.nonce < account_nonce`.
            NonceTooHigh: more than `max_nonce_gap` ahead of the sender's pending nonce.
            InsufficientFunds: balance below the upfront cost of `tx` plus that of the sender's
                pooled transactions with lower nonces.
            ReplacementUnderpriced: same sender and nonce pooled, and `tx` does not raise both
                fee cap and tip by `price_bump_percent`.
            SenderLimitReached: the sender already has `max_per_sender` transactions pooled.
            MempoolFull: the pool is full and `tx` pays no higher priority fee at `base_fee` than
                the cheapest evictable transaction.
        """
        if tx.hash in self._by_hash:
            raise AlreadyKnown(f"already known: 0x{tx.hash.hex()}")
        if tx.nonce < account_nonce:
            raise NonceTooLow(account_nonce, tx.nonce)
        sender = tx.sender
        txs = self._senders.get(sender)
        if txs is not None:
            self._drop_below(sender, txs, account_nonce)
            if not txs.nonces:
                txs = None
        old = txs.by_nonce.get(tx.nonce) if txs is not None else None
        if old is None:
            next_nonce = account_nonce if txs is None else txs.run_end(account_nonce)
            if tx.nonce > next_nonce + self.max_nonce_gap:
                raise NonceTooHigh(next_nonce, tx.nonce)
        entry = _Entry(tx, self._seq)
        cost = entry.cost
        if txs is not None:
            # Cumulative: the sender must afford every earlier pooled transaction too.
            nonces, by_nonce = txs.nonces, txs.by_nonce
            cost += sum(by_nonce[n].cost for n in nonces[: bisect_left(nonces, tx.nonce)])
        if account_balance < cost:
            raise InsufficientFunds(account_balance, cost)
        if old is not None:
            if not pays_replacement_bump(old.tx, tx, self.price_bump_percent):
                raise ReplacementUnderpriced(
                    f"replacement transaction underpriced: needs +{self.price_bump_percent}% on "
                    f"fee cap {old.tx.max_fee_per_gas} and tip {old.tx.max_priority_fee_per_gas}"
                )
        else:
            if txs is not None and len(txs.nonces) >= self.max_per_sender:
                raise SenderLimitReached(
                    f"sender 0x{sender.hex()} has {len(txs.nonces)} pooled transactions, "
                    f"limit {self.max_per_sender}"
                )
        full = old is None and len(self._by_hash) >= self.max_size
        released = len(old.tx.raw) if old is not None else 0
        over = self.bytes - released + len(tx.raw) - self.max_bytes
        if full or over > 0:
            self._make_room(tx, base_fee, slot=full, size=over)
            txs = self._senders.get(sender)  # eviction may have emptied this sender
        self._seq += 1
        if txs is None:
            txs = self._senders[sender] = _SenderTxs()
        if old is not None:
            del self._by_hash[old.tx.hash]
            self.bytes -= len(old.tx.raw)
        else:
            insort(txs.nonces, tx.nonce)
        self.bytes += len(tx.raw)
        txs.by_nonce[tx.nonce] = entry
        self._by_hash[tx.hash] = entry
        self._push_tail(txs)
        return old is not None

    def _make_room(self, tx: Transaction, base_fee: int, *, slot: bool, size: int) -> None:
        """Evict the cheapest sender tails that `tx` outbids, enough to free a slot (`slot`)
        and `size` bytes; evict nothing and raise MempoolFull if they are not enough."""
        if self._evict_base_fee != base_fee:
            self._rebuild_evict_heap(base_fee)
        heap = self._evict_heap
        fee = priority_fee_at(tx, base_fee)
        taken: list[tuple[int, int, bytes]] = []
        victims: list[_Entry] = []
        freed = 0
        floor: int | str = "none evictable"
        while heap and ((slot and not victims) or freed < size):
            item = heap[0]
            entry = self._by_hash.get(item[2])
            if entry is None or self._senders[entry.tx.sender].tail() is not entry:
                heapq.heappop(heap)  # stale
                continue
            if entry.tx.sender == tx.sender and entry.tx.nonce <= tx.nonce:
                # The newcomer's own predecessor (evicting it would strand the newcomer behind
                # a gap), or the transaction it replaces.
                taken.append(heapq.heappop(heap))
                continue
            floor = priority_fee_at(entry.tx, base_fee)
            if fee <= floor:
                break  # the heap is cheapest first: nothing further is outbid either
            taken.append(heapq.heappop(heap))
            victims.append(entry)
            freed += len(entry.tx.raw)
        for item in taken:
            heapq.heappush(heap, item)
        if (slot and not victims) or freed < size:
            raise MempoolFull(
                f"txpool is full: priority fee {fee} at base fee {base_fee}, cheapest {floor}"
            )
        for entry in victims:
            self._remove_entry(entry)

    def _rebuild_evict_heap(self, base_fee: int) -> None:
        heap: list[tuple[int, int, bytes]] = []
        for txs in self._senders.values():
            entry = txs.tail()
            if entry is not None:
                heap.append((priority_fee_at(entry.tx, base_fee), -entry.seq, entry.tx.hash))
        heapq.heapify(heap)  # keys are unique (seq), so iteration order does not matter
        self._evict_heap = heap
        self._evict_base_fee = base_fee

    def _push_tail(self, txs: _SenderTxs) -> None:
        """Record the sender's (possibly new) tail in the eviction heap, if one is kept."""
        base_fee = self._evict_base_fee
        if base_fee is None:
            return
        if len(self._evict_heap) > _EVICT_HEAP_SLACK * len(self._senders) + 64:
            self._rebuild_evict_heap(base_fee)
            return
        entry = txs.tail()
        if entry is not None:
            heapq.heappush(
                self._evict_heap, (priority_fee_at(entry.tx, base_fee), -entry.seq, entry.tx.hash)
            )

    # --- removal ----------------------------------------------------------------------------

    def remove(self, tx_hash: bytes) -> None:
        """Drop one transaction (unknown hashes are ignored); later nonces become queued."""
        entry = self._by_hash.get(tx_hash)
        if entry is not None:
            self._remove_entry(entry)

    def remove_committed(
        self, txs: Iterable[Transaction], nonce_of: Callable[[bytes], int]
    ) -> None:
        """After a block: drop its transactions and their senders' stale ones.

        Stale: nonce below the sender's new account nonce `nonce_of(sender)`.
        """
        senders: dict[bytes, None] = {}
        for tx in txs:
            self.remove(tx.hash)
            senders[tx.sender] = None
        for sender in senders:
            sender_txs = self._senders.get(sender)
            if sender_txs is not None:
                self._drop_below(sender, sender_txs, nonce_of(sender))

    def _drop_below(self, sender: bytes, txs: _SenderTxs, nonce: int) -> None:
        cut = bisect_left(txs.nonces, nonce)
        if cut == 0:
            return
        for n in txs.nonces[:cut]:
            dropped = txs.by_nonce.pop(n).tx
            del self._by_hash[dropped.hash]
            self.bytes -= len(dropped.raw)
        del txs.nonces[:cut]
        if not txs.nonces:
            del self._senders[sender]
        # The tail is unchanged (or gone), so the eviction heap needs no update.

    def _remove_entry(self, entry: _Entry) -> None:
        tx = entry.tx
        txs = self._senders[tx.sender]
        del self._by_hash[tx.hash]
        self.bytes -= len(tx.raw)
        del txs.by_nonce[tx.nonce]
        was_tail = txs.nonces[-1] == tx.nonce
        del txs.nonces[bisect_left(txs.nonces, tx.nonce)]
        if not txs.nonces:
            del self._senders[tx.sender]
        elif was_tail:
            self._push_tail(txs)

    # --- block building ---------------------------------------------------------------------

    def select(
        self,
        *,
        base_fee: int,
        gas_limit: int,
        nonce_of: Callable[[bytes], int],
        max_count: int | None = None,
    ) -> list[Transaction]:
        """Executable transactions for the next block, best priority fee first.

        Each sender contributes its contiguous run from `nonce_of(sender)` in nonce order;
        across senders a heap over each sender's next transaction picks the highest priority fee
        at `base_fee` (ties: earlier arrival). A sender stops at a transaction whose fee cap is
        below `base_fee` (it stays pooled) or whose gas exceeds what the block has left; the
        others keep filling until less than `MIN_TX_GAS` is left. The pool is not changed.
        """
        # Keys are (-priority fee, seq, ...); seq is unique, so the order is a function of the
        # keys alone, never of dict iteration. The priority fee is priority_fee_at, inlined.
        heap: list[tuple[int, int, int, _SenderTxs]] = []
        push = heap.append
        for sender, txs in self._senders.items():
            nonce = nonce_of(sender)
            entry = txs.by_nonce.get(nonce)
            if entry is not None:
                tx = entry.tx
                cap = tx.max_fee_per_gas
                if cap >= base_fee:
                    tip = min(tx.max_priority_fee_per_gas, cap - base_fee)
                    push((-tip, entry.seq, nonce, txs))
        heapq.heapify(heap)
        limit = len(self._by_hash) if max_count is None else max_count
        out: list[Transaction] = []
        gas_left = gas_limit
        heappop, heapreplace = heapq.heappop, heapq.heapreplace
        while heap and len(out) < limit and gas_left >= MIN_TX_GAS:
            _, _, nonce, txs = heap[0]
            tx = txs.by_nonce[nonce].tx
            if tx.gas > gas_left:
                heappop(heap)
                continue
            out.append(tx)
            gas_left -= tx.gas
            nonce += 1
            entry = txs.by_nonce.get(nonce)
            if entry is not None and entry.tx.max_fee_per_gas >= base_fee:
                tx = entry.tx
                tip = min(tx.max_priority_fee_per_gas, tx.max_fee_per_gas - base_fee)
                heapreplace(heap, (-tip, entry.seq, nonce, txs))
            else:
                heappop(heap)
        return out
