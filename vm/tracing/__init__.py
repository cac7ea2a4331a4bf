"""geth-style transaction tracing: the struct logger, callTracer and prestateTracer.

    tracer = make_tracer(name, config)     # name: None (struct logger), "callTracer",
                                           # "prestateTracer"; config: geth's TraceConfig
    trace = trace_transaction(state, block_env, tx, cumulative_gas_used, block_hashes, tracer)

The tracer rides on the block environment (`BlockEnvironment.tracer`), so the interpreter runs
the transaction's frames through its traced loop; without one, nothing here runs at all. A
tracer traces one transaction. geth: eth/tracers/api.go (TraceConfig), eth/tracers/logger,
eth/tracers/native.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from brainchain.errors import BrainchainError
from brainchain.state.state import State
from brainchain.types.transaction import Transaction
from vm.environment import BlockEnvironment
from vm.tracing.call_tracer import CallTracer
from vm.tracing.hooks import TransactionTracer
from vm.tracing.prestate import PrestateTracer
from vm.tracing.struct_logger import StructLogger, TraceTooLarge
from vm.transition import run_transaction

__all__ = [
    "TraceTooLarge",
    "TracerConfigError",
    "TransactionTracer",
    "make_tracer",
    "trace_transaction",
]


class TracerConfigError(BrainchainError):
    """An unknown tracer, or an option of the wrong type (geth answers -32000 with it)."""


def _flag(options: dict[str, Any], name: str) -> bool:
    value = options.get(name, False)
    if not isinstance(value, bool):
        raise TracerConfigError(f"{name}: expected a boolean, got {value!r}")
    return value


def _options(config: dict[str, Any], name: str) -> dict[str, Any]:
    options = config.get(name)
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise TracerConfigError(f"{name}: expected an object, got {options!r}")
    return options


def make_tracer(
    name: str | None, config: dict[str, Any], *, max_entries: int = 0
) -> TransactionTracer:
    """The tracer geth names `name` (None or "": the struct logger), set up from `config`, the
    TraceConfig without "tracer" and "timeout"; options geth does not know are ignored, as
    its JSON decoding ignores them. `max_entries` bounds a struct log (TraceTooLarge past it).

    Raises:
        TracerConfigError: an unknown tracer name, or an option of the wrong type.
    """
    if not isinstance(config, dict):
        raise TracerConfigError(f"trace config: expected an object, got {config!r}")
    tracer_config = _options(config, "tracerConfig")
    if not name:
        limit = config.get("limit", 0)
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
            raise TracerConfigError(f"limit: expected a non-negative integer, got {limit!r}")
        return StructLogger(
            enable_memory=_flag(config, "enableMemory"),
            disable_stack=_flag(config, "disableStack"),
            disable_storage=_flag(config, "disableStorage"),
            enable_return_data=_flag(config, "enableReturnData"),
            limit=limit,
            max_entries=max_entries,
        )
    if name == "callTracer":
        return CallTracer(
            only_top_call=_flag(tracer_config, "onlyTopCall"),
            with_log=_flag(tracer_config, "withLog"),
        )
    if name == "prestateTracer":
        return PrestateTracer(diff_mode=_flag(tracer_config, "diffMode"))
    raise TracerConfigError(f"tracer {name!r} not found")


def trace_transaction(
    state: State,
    env: BlockEnvironment,
    tx: Transaction,
    cumulative_gas_used: int,
    block_hashes: list[bytes] | None,
    tracer: TransactionTracer,
) -> dict[str, Any]:
    """Run `tx` as vm.transition.run_transaction does, with `tracer` attached; its result, as
    geth's JSON. `state` ends as an untraced run leaves it.

    Raises:
        InvalidTransaction: the transaction cannot be included; `state` is unchanged.
    """
    tracer.begin(state, env, tx)
    outcome = run_transaction(
        state, replace(env, tracer=tracer), tx, cumulative_gas_used, block_hashes
    )
    return tracer.result(state, tx, outcome)
