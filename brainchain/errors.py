"""The one exception tree of brainchain.

Every error a caller may see derives from `BrainchainError`, and carries the failing values as
attributes and in its message (as execution-specs `ethereum/exceptions.py` does), so the RPC
layer can map classes to JSON-RPC codes in one table.
"""

from __future__ import annotations


class BrainchainError(Exception):
    """Root of every error brainchain raises on purpose."""


class DecodingError(BrainchainError):
    """Bytes that are not a valid canonical encoding (RLP or msgpack)."""


# --- transactions -------------------------------------------------------------------------


class InvalidTransaction(BrainchainError):
    """A transaction that must not enter the mempool or a block."""


class MalformedTransaction(InvalidTransaction):
    """The raw bytes do not decode to a well-formed transaction."""


class UnsupportedTransactionType(InvalidTransaction):
    """A typed transaction whose type this chain does not accept (e.g. EIP-4844 blobs)."""

    def __init__(self, tx_type: int) -> None:
        self.tx_type = tx_type
        super().__init__(f"transaction type {tx_type:#x} not supported")


class WrongChainId(InvalidTransaction):
    """Signed for another chain (EIP-155 replay protection)."""

    def __init__(self, expected: int, got: int | None) -> None:
        self.expected, self.got = expected, got
        got_text = "none (pre-EIP-155)" if got is None else str(got)
        super().__init__(f"invalid chain id: expected {expected}, got {got_text}")


class InvalidSignature(InvalidTransaction):
    """r, s or v out of range, or no public key recovers from them."""


class IntrinsicGasTooLow(InvalidTransaction):
    """The gas limit does not cover the intrinsic gas (Yellow Paper eq. 60, EIP-2028/2930/3860)."""

    def __init__(self, gas: int, intrinsic: int) -> None:
        self.gas, self.intrinsic = gas, intrinsic
        super().__init__(f"intrinsic gas too low: have {gas}, want {intrinsic}")


class OversizeTransaction(InvalidTransaction):
    """Encoded transaction larger than the node accepts."""

    def __init__(self, size: int, limit: int) -> None:
        self.size, self.limit = size, limit
        super().__init__(f"oversized data: transaction size {size}, limit {limit}")


class InitCodeTooLarge(InvalidTransaction):
    """Creation init code longer than EIP-3860 allows."""

    def __init__(self, size: int, limit: int) -> None:
        self.size, self.limit = size, limit
        super().__init__(f"max initcode size exceeded: code size {size}, limit {limit}")


class NonceTooLow(InvalidTransaction):
    """Nonce already used by the sender."""

    def __init__(self, expected: int, got: int) -> None:
        self.expected, self.got = expected, got
        super().__init__(f"nonce too low: next nonce {expected}, tx nonce {got}")


class NonceTooHigh(InvalidTransaction):
    """Nonce leaves a gap (in a block) or too large a gap (in the mempool)."""

    def __init__(self, expected: int, got: int) -> None:
        self.expected, self.got = expected, got
        super().__init__(f"nonce too high: next nonce {expected}, tx nonce {got}")


class NonceOverflow(InvalidTransaction):
    """Nonce at 2**64-1 can never be incremented (EIP-2681)."""


class InsufficientFunds(InvalidTransaction):
    """Balance below gas limit × max fee + value."""

    def __init__(self, balance: int, cost: int) -> None:
        self.balance, self.cost = balance, cost
        super().__init__(
            f"insufficient funds for gas * price + value: balance {balance}, cost {cost}"
        )


class FeeCapTooLow(InvalidTransaction):
    """Max fee per gas below the block's base fee (EIP-1559)."""

    def __init__(self, max_fee: int, base_fee: int) -> None:
        self.max_fee, self.base_fee = max_fee, base_fee
        super().__init__(
            f"max fee per gas less than block base fee: maxFeePerGas {max_fee}, baseFee {base_fee}"
        )


class TipAboveFeeCap(InvalidTransaction):
    """Priority fee above max fee (EIP-1559)."""

    def __init__(self, tip: int, max_fee: int) -> None:
        self.tip, self.max_fee = tip, max_fee
        super().__init__(f"max priority fee per gas higher than max fee per gas: {tip} > {max_fee}")


class GasLimitExceeded(InvalidTransaction):
    """Transaction gas above what the block has left."""

    def __init__(self, gas: int, available: int) -> None:
        self.gas, self.available = gas, available
        super().__init__(f"exceeds block gas limit: tx gas {gas}, available {available}")


class SenderNotEOA(InvalidTransaction):
    """The sender account has code (EIP-3607)."""


class AlreadyKnown(InvalidTransaction):
    """The mempool already holds this exact transaction."""


class ReplacementUnderpriced(InvalidTransaction):
    """Same sender and nonce as a pending transaction, without the required fee bump."""


class MempoolFull(InvalidTransaction):
    """The pool is full and this transaction pays no more than the cheapest one held."""


class SenderLimitReached(InvalidTransaction):
    """The sender already has the maximum number of transactions in the pool."""


# --- blocks ---------------------------------------------------------------------------------


class InvalidBlock(BrainchainError):
    """A block that must not be committed; the message names the field and both values."""


class MissingTrieNode(BrainchainError):
    """A trie node referenced by hash is in neither the trie's cache nor its node database."""

    def __init__(self, node_hash: bytes) -> None:
        self.node_hash = node_hash
        super().__init__(f"trie node 0x{node_hash.hex()} missing from the node database")


class InvalidProof(BrainchainError):
    """A Merkle proof that does not lead from the given root to the key (EIP-1186)."""


# --- execution ------------------------------------------------------------------------------


class ExecutionReverted(BrainchainError):
    """A call ended in REVERT; `data` is the revert payload (an ABI-encoded reason, usually)."""

    ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)

    def __init__(self, data: bytes) -> None:
        self.data = data
        reason = self.reason()
        super().__init__("execution reverted" + (f": {reason}" if reason else ""))

    def reason(self) -> str | None:
        """The string of a Solidity `Error(string)` payload, as geth unpacks it."""
        body = self.data[4:]
        if self.data[:4] != self.ERROR_SELECTOR or len(body) < 64:
            return None
        offset = int.from_bytes(body[:32], "big")
        if offset + 32 > len(body):
            return None
        length = int.from_bytes(body[offset : offset + 32], "big")
        text = body[offset + 32 : offset + 32 + length]
        if len(text) != length:
            return None
        return text.decode("utf-8", errors="replace")


class ExecutionFailed(BrainchainError):
    """A call halted exceptionally (out of gas, invalid opcode, …); the message says which."""


# --- consensus ------------------------------------------------------------------------------


class ExecutionInterrupted(BrainchainError):
    """A simulation (eth_call, eth_estimateGas) stopped at its time limit (geth: RPCEVMTimeout)."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        super().__init__(f"execution aborted (timeout = {timeout_s:g}s)")


class InvalidConsensusMessage(BrainchainError):
    """A proposal, vote or commit certificate that must not be counted."""


class InvalidConsensusSignature(InvalidConsensusMessage):
    """An ed25519 signature that does not verify against the claimed consensus key."""


class InvalidEvidence(InvalidConsensusMessage):
    """Claimed double-sign evidence that does not prove a validator signed twice for one step."""


class InvalidCommit(InvalidConsensusMessage):
    """A commit certificate that does not prove +2/3 of the voting power precommitted a block."""


# --- VRF ------------------------------------------------------------------------------------


class InvalidVrf(BrainchainError):
    """An ECVRF public key or proof that must not be accepted; `ecvrf.verify` raises only these."""


class InvalidVrfKey(InvalidVrf):
    """A VRF public key that is not a canonical curve point or has small order (RFC 9381 §5.4.5)."""

    def __init__(self, public_key: bytes, reason: str) -> None:
        self.public_key, self.reason = public_key, reason
        super().__init__(f"invalid VRF public key 0x{public_key.hex()}: {reason}")


class InvalidVrfProof(InvalidVrf):
    """A VRF proof that does not decode (RFC 9381 §5.4.4) or does not verify (§5.3)."""

    def __init__(self, proof: bytes, reason: str) -> None:
        self.proof, self.reason = proof, reason
        super().__init__(f"invalid VRF proof 0x{proof.hex()}: {reason}")


class ModelUnavailable(BrainchainError):
    """A node cannot run a registered model: its weights are missing or differ from the spec's
    hash, or it runs no models at all."""
