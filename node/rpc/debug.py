"""The debug_trace* methods: a transaction, a block or a call re-executed under a tracer.

As geth's eth/tracers/api.go answers them: a stored transaction or block re-executes from its
parent block's state in the environment it executed in, the transactions before a traced one
untraced; a call runs as eth_call does. The config is geth's TraceConfig: "tracer" (none: the
struct logger, "callTracer", "prestateTracer"), "timeout" (a Go duration, "5s" by default, as
geth's defaultTraceTimeout) and the tracer's own options (vm/tracing). The timeout bounds the
whole request (geth: each transaction), checked as eth_call's is (node/chain.py CallLimits) and
capped at MAX_TIMEOUT_S. The methods run the EVM, so the server runs them on its simulation
workers (node/rpc/simulations.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from brainchain.types.block import Block
from node.chain import Chain
from node.overrides import Overrides
from node.rpc.errors import SERVER_ERROR, InvalidParams, RpcError
from node.rpc.hexfmt import data, parse_data, parse_quantity
from node.rpc.methods import Handler, _call_request, _height, _params
from node.rpc.overrides import parse_block_overrides, parse_state_overrides
from vm.tracing import TracerConfigError, TransactionTracer, make_tracer

# A time limit a client may ask for, at most: the simulation workers are few (geth has none,
# but serves debug_ only where its operator enables it).
MAX_TIMEOUT_S = 60.0
# Struct-log entries one transaction's trace may hold: each copies the stack (and memory, if
# asked), about a kilobyte, so this bounds a trace near 1 GB; geth sets none.
MAX_STRUCT_LOGS = 1_000_000
# Go's time.ParseDuration syntax, unsigned: "300ms", "1.5s", "2m30s".
_PART = r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)"
_DURATION = re.compile(f"(?:{_PART})+|0")
_DURATION_PART = re.compile(_PART)
_UNIT_S = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def parse_duration(text: str) -> float:
    """Seconds in a Go duration string; as geth, a bad one answers time.ParseDuration's error.

    Raises:
        RpcError: SERVER_ERROR, `text` is not a duration.
    """
    if not _DURATION.fullmatch(text):
        raise RpcError(SERVER_ERROR, f'time: invalid duration "{text}"')
    return sum(float(n) * _UNIT_S[unit] for n, unit in _DURATION_PART.findall(text))


class _Tracing:
    """A request's tracer (made fresh per traced transaction) and its time limit."""

    def __init__(self, chain: Chain, config: Any) -> None:
        config = {} if config is None else config
        if not isinstance(config, dict):
            raise InvalidParams("invalid trace config: expected an object")
        name, timeout = config.get("tracer"), config.get("timeout")
        if name is not None and not isinstance(name, str):
            raise InvalidParams(f"invalid tracer: expected a name, got {name!r}")
        if timeout is not None and not isinstance(timeout, str):
            raise InvalidParams(f'invalid timeout: expected a duration like "5s", got {timeout!r}')
        # The rest are the tracer's options; it ignores those it does not know (as geth's JSON
        # decoding does: "reexec", debug_traceCall's overrides).
        options = {key: value for key, value in config.items() if key not in ("tracer", "timeout")}
        self.config = config
        self._name, self._options = name, options
        self.make()  # refuses a bad config before any execution, even for an empty block
        seconds = chain.call_limits.timeout_s if timeout is None else parse_duration(timeout)
        self._limits = replace(chain.call_limits, timeout_s=min(seconds, MAX_TIMEOUT_S))

    def make(self) -> TransactionTracer:
        """A fresh tracer; an unknown tracer or a bad option answers -32602."""
        try:
            return make_tracer(self._name, self._options, max_entries=MAX_STRUCT_LOGS)
        except TracerConfigError as exc:
            raise InvalidParams(str(exc)) from None

    def deadline(self) -> Callable[[], None]:
        """The request's time limit, from now."""
        return self._limits.deadline()


def _block_by_number(chain: Chain, tag: Any) -> Block:
    """A block by tag or hex number (EIP-1898 objects too); geth's error when there is none."""
    if isinstance(tag, dict) and tag.get("blockHash") is not None:
        return _block_by_hash(chain, tag["blockHash"])
    if isinstance(tag, dict):
        tag = tag.get("blockNumber")
    if isinstance(tag, str) and tag.startswith(("0x", "0X")):
        number = parse_quantity(tag, "block number")  # past the head too: geth's error below
    else:
        number = _height(chain, tag)
    block = chain.block_by_height(number)
    if block is None:
        raise RpcError(SERVER_ERROR, f"block #{number} not found")
    return block


def _block_by_hash(chain: Chain, value: Any) -> Block:
    block_hash = parse_data(value, "block hash", 32)
    block = chain.block_by_hash(block_hash)
    if block is None:
        raise RpcError(SERVER_ERROR, f"block {data(block_hash)} not found")
    return block


def _trace_block(chain: Chain, block: Block, config: Any) -> list[dict[str, Any]]:
    tracing = _Tracing(chain, config)
    results = chain.trace_block(block, tracing.make, tracing.deadline())
    return [
        {"txHash": data(tx.hash), "result": result}
        for tx, result in zip(block.transactions, results, strict=True)
    ]


def debug_trace_transaction(chain: Chain, params: list[Any]) -> Any:
    tx_hash, config = _params(params, 1, 1)
    location = chain.store.tx_location(parse_data(tx_hash, "transaction hash", 32))
    block = None if location is None else chain.block_by_hash(location.block_hash)
    if location is None or block is None:  # pending ones too, as geth
        raise RpcError(SERVER_ERROR, "transaction not found")
    tracing = _Tracing(chain, config)
    return chain.trace_transaction(block, location.index, tracing.make(), tracing.deadline())


def debug_trace_block_by_number(chain: Chain, params: list[Any]) -> list[dict[str, Any]]:
    tag, config = _params(params, 1, 1)
    return _trace_block(chain, _block_by_number(chain, tag), config)


def debug_trace_block_by_hash(chain: Chain, params: list[Any]) -> list[dict[str, Any]]:
    block_hash, config = _params(params, 1, 1)
    return _trace_block(chain, _block_by_hash(chain, block_hash), config)


def debug_trace_call(chain: Chain, params: list[Any]) -> Any:
    call, tag, config = _params(params, 2, 1)
    request = _call_request(call)
    block = _block_by_number(chain, tag)
    tracing = _Tracing(chain, config)
    overrides = Overrides(
        state=parse_state_overrides(tracing.config.get("stateOverrides")),
        block=parse_block_overrides(tracing.config.get("blockOverrides")),
    )
    return chain.trace_call(request, block.height, tracing.make(), tracing.deadline(), overrides)


DEBUG_METHODS: dict[str, Handler] = {
    "debug_traceTransaction": debug_trace_transaction,
    "debug_traceBlockByNumber": debug_trace_block_by_number,
    "debug_traceBlockByHash": debug_trace_block_by_hash,
    "debug_traceCall": debug_trace_call,
}
