"""The prices of BRAIN's native precompiles (DESIGN.md §3), and the helpers every precompile
charges with. The standard precompiles' prices are spec constants and live in vm/gas.py.

BRAIN's prices come from measured time at ecrecover's rate: GAS_ECRECOVER pays for one
ecrecover, so a unit of gas pays for 1/3000 of its time. On the reference machine (bench/vrf.py
prints the figures) an ECVRF verification (RFC 9381 §5.3) with a 32-byte alpha takes about 10.7
ecrecovers, 32,000 gas; each round of its try-and-increment loop (§5.4.1.1) that fails costs
about 560 gas more and hashes alpha again at about 2 gas per word. An honest alpha needs two
rounds on average, but a caller can search for an alpha that needs n rounds with about 2^n
hashes, so the prices below cover 16 rounds.

Sortition (brainchain/sortition.py) runs a power by squaring, about log2(stake) squarings of
numbers of 576 + 1.5·k·w/(W - k) bits (cost quadratic in their size), then about k·w/W + 1
steps of linear work on them. `sortition_gas` charges for both, with coefficients fitted to lie
above the time measured over stakes 1..10^30 and committee sizes 4..2048.
"""

from __future__ import annotations

from brainchain.sortition import OUTPUT_BITS
from vm.gas import GAS_COLD_SLOAD
from vm.precompiles.errors import PrecompileFailure

GAS_VRF_VERIFY = 40_000  # 32,000 measured + 14 extra try-and-increment rounds at 560
GAS_VRF_ALPHA_WORD = 32  # 16 rounds, each hashing alpha at 2 gas per word
REGISTRY_READS = 4  # W, k, the member's VRF key and stake (vm/precompiles/registry.py)
# isMember: a verification over a one-word seed and the registry reads, before sortition.
GAS_COMMITTEE = GAS_VRF_VERIFY + GAS_VRF_ALPHA_WORD + REGISTRY_READS * GAS_COLD_SLOAD
GAS_SORTITION_SQUARING = 4  # per stake bit and squared 64-bit word of the numbers
GAS_SORTITION_STEP = 25  # per loop step and 64-bit word
SORTITION_GUARD_BITS = 64  # brainchain/sortition.py's fixed-point bits beyond the VRF output
BITS_PER_WORD = 64


def words(size: int) -> int:
    return (size + 31) // 32


def require(gas: int, cost: int) -> int:
    """Check that `gas` covers `cost`; return `cost`.

    Raises:
        PrecompileFailure: out of gas.
    """
    if cost > gas:
        raise PrecompileFailure(f"out of gas: precompile needs {cost}, has {gas}")
    return cost


def sortition_gas(stake: int, total_stake: int, expected_size: int) -> int:
    """Gas for `selected_units(_, stake, total_stake, expected_size)`; see the module docstring."""
    if expected_size >= total_stake:  # every unit is selected, no arithmetic
        return 0
    rest = total_stake - expected_size
    bits = OUTPUT_BITS + SORTITION_GUARD_BITS + -(-3 * stake * expected_size // (2 * rest))
    number_words = -(-bits // BITS_PER_WORD)
    steps = -(-stake * expected_size // total_stake) + 1
    return (
        GAS_SORTITION_SQUARING * stake.bit_length() * number_words * number_words
        + GAS_SORTITION_STEP * steps * number_words
    )
