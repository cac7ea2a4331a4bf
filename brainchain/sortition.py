"""Stake-weighted committee sortition from VRF outputs (DESIGN.md §5 step 2).

The rule is Algorand's binomial sortition (Gilad et al., "Algorand: Scaling Byzantine Agreements
for Cryptocurrencies", SOSP 2017, §5 and Algorithm 1). With total stake W and expected committee
size k, each unit of stake is selected with probability p = k / W. A validator holding w units
is chosen for Binomial(w, p) of them: its weight is the j with CDF(j - 1) ≤ u < CDF(j), where u
is its VRF output read as a big-endian fraction of 2^512 and CDF is the Binomial(w, p) CDF
(CDF(-1) = 0). It is in the committee when j > 0.

Statistics, for independent uniform VRF outputs:
- a validator's weight has mean k·w/W, exactly proportional to its stake, and variance
  w·p·(1 - p); it is selected at all with probability 1 - (1 - p)^w, which is k·w/W to first
  order and never more;
- the committee's total weight is Binomial(W, p): mean exactly k, variance k·(1 - k/W),
  however the stake is split among validators, so splitting stake into many identities gains
  nothing.
When k ≥ W every unit is selected.

The choice is exact: u is compared with CDF(j) as rationals. So that the cost does not grow
with the size of the stake numbers, CDF(j) is first bracketed in fixed point, rounding down for
one bound and up for the other at every step, with enough bits that (1 - p)^w cannot underflow;
only when u falls inside a bracket (probability well under 2^-50) is it recomputed in exact
integers, on numbers of w·log2(W) bits. The loop runs about k·w/W + O(√(k·w/W)) + 1 steps on
numbers of 576 + 1.5·k·w/(W - k) bits: cheap for committees far smaller than the total stake.
"""

from __future__ import annotations

from brainchain.crypto import ecvrf

OUTPUT_BITS = 8 * ecvrf.OUTPUT_BYTES
_GUARD_BITS = 64  # fixed-point bits beyond the VRF output's own


def selected_units(vrf_output: bytes, stake: int, total_stake: int, expected_size: int) -> int:
    """The number of the validator's stake units its VRF output selects: 0 when it is not in
    the committee, else its weight (binomial sortition, Algorand SOSP 2017 Algorithm 1).

    Raises:
        ValueError: the output is not 64 bytes, total_stake or expected_size is not positive,
            or stake is outside 0..total_stake.
    """
    if len(vrf_output) != ecvrf.OUTPUT_BYTES:
        raise ValueError(f"VRF output of {len(vrf_output)} bytes, want {ecvrf.OUTPUT_BYTES}")
    if total_stake <= 0 or expected_size <= 0 or not 0 <= stake <= total_stake:
        raise ValueError(
            f"need 0 <= stake <= total_stake and positive total_stake and expected_size, got"
            f" stake {stake}, total_stake {total_stake}, expected_size {expected_size}"
        )
    if expected_size >= total_stake:
        return stake
    u = int.from_bytes(vrf_output, "big")
    rest = total_stake - expected_size  # 1 - p = rest / total_stake
    # log2(1 / (1 - p)^stake) < 1.5·stake·k/rest bits keep pmf(0) = (1 - p)^stake above zero.
    bits = OUTPUT_BITS + _GUARD_BITS + -(-3 * stake * expected_size // (2 * rest))
    target = u << (bits - OUTPUT_BITS)
    pmf_low, pmf_high = _power_bounds(rest, total_stake, stake, bits)
    cdf_low = cdf_high = 0
    for j in range(stake):
        cdf_low += pmf_low
        cdf_high += pmf_high
        if target < cdf_low:
            return j
        if target < cdf_high:  # too close to CDF(j) to tell at this precision
            return _exact_units(u, stake, total_stake, expected_size)
        # pmf(j + 1) = pmf(j) · (stake - j)/(j + 1) · p/(1 - p)
        num, den = (stake - j) * expected_size, (j + 1) * rest
        pmf_low = pmf_low * num // den
        pmf_high = -(-pmf_high * num // den)
    return stake


def verify_selection(
    vrf_public_key: bytes,
    proof: bytes,
    seed: bytes,
    stake: int,
    total_stake: int,
    expected_size: int,
) -> int:
    """Check the validator's VRF proof over the committee seed (RFC 9381 §5.3) and return the
    number of its stake units selected (`selected_units`; 0: not in the committee).

    Raises:
        InvalidVrfKey: the VRF public key is invalid.
        InvalidVrfProof: the proof does not verify for this key and seed.
        ValueError: the stakes or expected size are out of range.
    """
    beta = ecvrf.verify(vrf_public_key, proof, seed)
    return selected_units(beta, stake, total_stake, expected_size)


def _power_bounds(num: int, den: int, exp: int, bits: int) -> tuple[int, int]:
    """Floor and ceiling bounds on 2^bits·(num/den)^exp, by square-and-multiply rounding down
    in one and up in the other."""
    low = high = 1 << bits
    base_low, base_high = (num << bits) // den, -(-(num << bits) // den)
    while exp:
        if exp & 1:
            low, high = low * base_low >> bits, -(-high * base_high >> bits)
        exp >>= 1
        if exp:
            base_low, base_high = base_low * base_low >> bits, -(-base_high * base_high >> bits)
    return low, high


def _exact_units(u: int, stake: int, total_stake: int, expected_size: int) -> int:
    """`selected_units` in exact integers:
    u/2^512 < CDF(j) ⟺ u·W^w < 2^512·Σ_{i≤j} C(w,i)·k^i·(W-k)^(w-i)."""
    rest = total_stake - expected_size
    scaled_u = u * total_stake**stake
    term = rest**stake  # C(w, 0)·k^0·(W - k)^w
    cdf = 0
    for j in range(stake):
        cdf += term
        if scaled_u < cdf << OUTPUT_BITS:
            return j
        # C(w, j+1)·k^(j+1)·(W-k)^(w-j-1), an integer, so the division is exact.
        term = term * (stake - j) * expected_size // ((j + 1) * rest)
    return stake
