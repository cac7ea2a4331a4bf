"""Every Solidity file in contracts/ compiles with solc-js, as a dApp developer compiles it.

The interfaces of BRAIN's precompiles are what Solidity users import; an address literal with a
wrong EIP-55 checksum or a malformed NatSpec tag is a compile error for them, which nothing
else here would notice.
"""

from __future__ import annotations

import pytest

from tests.node.solc import CONTRACTS, compile_solidity
from vm.precompiles.addresses import INFERENCE_SYNC_ADDRESS
from vm.precompiles.mapping import BRAIN_PRECOMPILES

SOURCES = sorted(path.name for path in CONTRACTS.glob("*.sol"))


@pytest.mark.parametrize("name", SOURCES)
def test_the_source_compiles(name: str) -> None:
    assert compile_solidity(name)


def test_the_interfaces_name_each_brain_precompile() -> None:
    """Each precompile's interface file declares its address (checksummed, or solc refuses);
    INFERENCE_SYNC, the single-phase baseline, is called with raw calldata (README)."""
    sources = "".join((CONTRACTS / name).read_text().lower() for name in SOURCES)
    wanted = [a.hex() for a in BRAIN_PRECOMPILES if a != INFERENCE_SYNC_ADDRESS]
    assert [a for a in wanted if "0x" + a not in sources] == []
