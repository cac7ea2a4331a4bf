"""Binomial sortition: exact against a reference, and its statistics over 10,000 seeds."""

from __future__ import annotations

import math
import random
import statistics
from fractions import Fraction

import pytest

from brainchain import sortition
from brainchain.crypto import ecvrf
from brainchain.errors import InvalidVrfProof
from brainchain.sortition import selected_units, verify_selection

STAKES = (1, 2, 4, 7, 11, 16, 24, 35)  # 100 units in all
EXPECTED_SIZE = 10
SEEDS = 10_000


def reference_units(u: int, stake: int, total: int, size: int) -> int:
    """The smallest j with u / 2^512 < CDF(j) of Binomial(stake, size / total), in Fractions."""
    if size >= total:
        return stake
    p, x, cdf = Fraction(size, total), Fraction(u, 2**512), Fraction(0)
    for j in range(stake):
        cdf += math.comb(stake, j) * p**j * (1 - p) ** (stake - j)
        if x < cdf:
            return j
    return stake


def _output(u: int) -> bytes:
    return u.to_bytes(64, "big")


def _random_case(rng: random.Random) -> tuple[int, int, int, int]:
    total = rng.randint(1, 40)
    u = rng.choice([rng.getrandbits(512), rng.getrandbits(rng.randint(1, 512)), 0, 2**512 - 1])
    return u, rng.randint(0, total), total, rng.randint(1, total + 2)


@pytest.mark.parametrize("seed", [1, 2])
def test_matches_the_exact_binomial_inverse_cdf(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(300):
        u, stake, total, size = _random_case(rng)
        assert selected_units(_output(u), stake, total, size) == reference_units(
            u, stake, total, size
        ), (u, stake, total, size)


def test_exact_path_decides_when_the_fixed_point_bracket_cannot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The widest possible bracket on (1 - p)^w: every decision falls to exact integers.
    monkeypatch.setattr(sortition, "_power_bounds", lambda num, den, exp, bits: (0, 2 << bits))
    rng = random.Random(3)
    for _ in range(200):
        u, stake, total, size = _random_case(rng)
        assert selected_units(_output(u), stake, total, size) == reference_units(
            u, stake, total, size
        ), (u, stake, total, size)


def test_cdf_boundaries_are_exact() -> None:
    """With p = 1/4 and 4 units, every CDF(j) is a multiple of 2^-8, so u can sit on it."""
    stake, total, size = 4, 8, 2
    cdf = 0
    for j in range(stake):
        cdf += math.comb(stake, j) * size**j * (total - size) ** (stake - j)
        boundary = cdf * 2**512 // total**stake  # exactly CDF(j) · 2^512
        assert cdf * 2**512 % total**stake == 0
        assert selected_units(_output(boundary - 1), stake, total, size) == j
        assert selected_units(_output(boundary), stake, total, size) == j + 1


def test_edge_cases() -> None:
    top = _output(2**512 - 1)
    assert selected_units(top, 0, 100, 10) == 0
    assert selected_units(_output(0), 100, 100, 10) == 0
    assert selected_units(top, 30, 100, 100) == 30  # k >= W: every unit
    assert selected_units(_output(0), 30, 100, 500) == 30
    assert selected_units(top, 100, 100, 99) == 100


def test_invalid_arguments() -> None:
    beta = bytes(64)
    for args in ((beta[:-1], 1, 10, 2), (beta, -1, 10, 2), (beta, 11, 10, 2), (beta, 0, 0, 1)):
        with pytest.raises(ValueError):
            selected_units(*args)
    with pytest.raises(ValueError, match="expected_size 0"):
        selected_units(beta, 1, 10, 0)


def test_statistics_over_10000_seeds() -> None:
    """Committee weight ~ Binomial(W, k/W); each validator's weight has mean k·w/W."""
    rng = random.Random(20240917)
    total = sum(STAKES)
    p = EXPECTED_SIZE / total
    weights = [
        [selected_units(rng.randbytes(64), stake, total, EXPECTED_SIZE) for stake in STAKES]
        for _ in range(SEEDS)
    ]
    sizes = [sum(row) for row in weights]
    variance = EXPECTED_SIZE * (1 - p)
    assert abs(statistics.fmean(sizes) - EXPECTED_SIZE) < 3 * math.sqrt(variance / SEEDS)
    assert abs(statistics.variance(sizes) / variance - 1) < 0.06
    for i, stake in enumerate(STAKES):
        column = [row[i] for row in weights]
        mean, sd = stake * p, math.sqrt(stake * p * (1 - p))
        assert abs(statistics.fmean(column) - mean) < 4 * sd / math.sqrt(SEEDS), stake
        chosen = 1 - (1 - p) ** stake  # probability of being in the committee at all
        frequency = sum(w > 0 for w in column) / SEEDS
        assert abs(frequency - chosen) < 4 * math.sqrt(chosen * (1 - chosen) / SEEDS), stake


def test_large_stakes_stay_cheap_and_unbiased() -> None:
    """Stakes in wei-like units: Binomial(10^18, 5·10^-20) is about Poisson(0.05)."""
    rng = random.Random(5)
    stake, total, size, draws = 10**18, 10**20, 5, 2000
    weights = [selected_units(rng.randbytes(64), stake, total, size) for _ in range(draws)]
    mean = stake * size / total
    assert abs(statistics.fmean(weights) - mean) < 4 * math.sqrt(mean / draws)


def test_real_vrf_outputs() -> None:
    rng = random.Random(11)
    stakes = (10, 20, 30, 40)
    keys = [rng.randbytes(32) for _ in stakes]
    public = [ecvrf.public_key(sk) for sk in keys]
    total, seeds = sum(stakes), 200
    sizes = []
    for n in range(seeds):
        seed = n.to_bytes(32, "big")
        size = 0
        for sk, pk, stake in zip(keys, public, stakes, strict=True):
            proof = ecvrf.prove(sk, seed)
            units = verify_selection(pk, proof, seed, stake, total, EXPECTED_SIZE)
            assert units == selected_units(ecvrf.proof_to_hash(proof), stake, total, EXPECTED_SIZE)
            size += units
        sizes.append(size)
    variance = EXPECTED_SIZE * (1 - EXPECTED_SIZE / total)
    assert abs(statistics.fmean(sizes) - EXPECTED_SIZE) < 3 * math.sqrt(variance / seeds)
    with pytest.raises(InvalidVrfProof):
        verify_selection(public[0], ecvrf.prove(keys[0], b"other"), b"seed", 10, total, 5)
