"""LOG0…LOG4 (spec: cancun/vm/instructions/log.py)."""

from __future__ import annotations

from collections.abc import Callable

from brainchain.types.receipt import Log
from vm.exceptions import WriteInStaticContext
from vm.frame import Evm
from vm.gas import GAS_LOG, GAS_LOG_DATA, GAS_LOG_TOPIC, calculate_memory_extend, charge_gas
from vm.memory import memory_read_bytes
from vm.stack import pop


def make_log(num_topics: int) -> Callable[[Evm], None]:
    """LOGn: append a log with n topics from the stack and data from memory."""

    def log_n(evm: Evm) -> None:
        memory_start, size = pop(evm), pop(evm)
        topics = tuple(pop(evm).to_bytes(32, "big") for _ in range(num_topics))
        extend = calculate_memory_extend(len(evm.memory), [(memory_start, size)])
        charge_gas(evm, GAS_LOG + GAS_LOG_DATA * size + GAS_LOG_TOPIC * num_topics + extend.cost)
        evm.memory += bytes(extend.expand_by)
        if evm.message.is_static:
            raise WriteInStaticContext("LOG in a static call")
        data = memory_read_bytes(evm.memory, memory_start, size)
        evm.logs.append(Log(evm.message.current_target, topics, data))
        evm.pc += 1

    log_n.__name__ = f"log{num_topics}"
    return log_n
