"""The one table from exceptions to JSON-RPC error codes (JSON-RPC 2.0 §5.1, EIP-1474)."""

from __future__ import annotations

from brainchain.errors import (
    AlreadyKnown,
    BrainchainError,
    ExecutionReverted,
    FeeCapTooLow,
    MempoolFull,
    ReplacementUnderpriced,
)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000  # EIP-1474: invalid input, e.g. a transaction the node refuses
TRANSACTION_REJECTED = -32003  # EIP-1474: transaction rejected by pool policy
LIMIT_EXCEEDED = -32005  # EIP-1474: request exceeds a defined limit (busy, too large)
EXECUTION_REVERTED = 3  # geth: a call reverted; `data` carries the revert payload


class RpcError(Exception):
    """An error answer: code, message and optional data."""

    def __init__(self, code: int, message: str, data: object = None) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data

    def to_json(self) -> dict[str, object]:
        error: dict[str, object] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


class InvalidParams(RpcError):
    """Wrong number or shape of parameters."""

    def __init__(self, message: str) -> None:
        super().__init__(INVALID_PARAMS, message)


# Pool-policy rejections: the transaction is valid, the pool will not take it now.
POLICY_REJECTIONS = (AlreadyKnown, ReplacementUnderpriced, MempoolFull, FeeCapTooLow)


def to_rpc_error(exc: BrainchainError) -> RpcError:
    """Map a protocol error to its JSON-RPC answer; messages follow geth's wording."""
    if isinstance(exc, ExecutionReverted):
        return RpcError(EXECUTION_REVERTED, str(exc), "0x" + exc.data.hex())
    code = TRANSACTION_REJECTED if isinstance(exc, POLICY_REJECTIONS) else SERVER_ERROR
    return RpcError(code, str(exc))
