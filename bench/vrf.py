"""ECVRF (RFC 9381, edwards25519 TAI) and sortition throughput on one core.

Run as `python -m bench.vrf --seed 1 --size 2000`. Everything runs in one thread, so the
figures are per core. Prints figures only; never asserts on time.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import time
from collections.abc import Callable

import nacl.bindings

from brainchain.crypto import ecvrf
from brainchain.sortition import selected_units

TOTAL_STAKE = 10_000
EXPECTED_SIZE = 20


def _commit_id() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "none"
    return out.stdout.strip() or "none"


def _rate(label: str, count: int, run: Callable[[], object]) -> None:
    best = float("inf")
    for _ in range(3):  # best of three: the figure least disturbed by other load
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    print(f"{label}: {count / best:,.0f}/s ({best * 1e6 / count:.1f} µs each, best of 3)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--size", type=int, default=2_000, help="proofs per timed pass")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cpus"
        f" (one thread used), {platform.processor() or platform.platform()};"
        f" libsodium via pynacl {nacl.__version__}; commit {_commit_id()}"
    )
    keys = [rng.randbytes(ecvrf.SECRET_KEY_BYTES) for _ in range(args.size)]
    public = [ecvrf.public_key(sk) for sk in keys]
    alphas = [rng.randbytes(32) for _ in range(args.size)]
    proofs = [ecvrf.prove(sk, alpha) for sk, alpha in zip(keys, alphas, strict=True)]
    outputs = [ecvrf.proof_to_hash(pi) for pi in proofs]
    stakes = [rng.randint(1, 2 * TOTAL_STAKE // 100) for _ in range(args.size)]
    items = list(zip(keys, public, alphas, proofs, outputs, stakes, strict=True))

    _rate("prove", len(items), lambda: [ecvrf.prove(sk, a) for sk, _, a, *_ in items])
    _rate("verify", len(items), lambda: [ecvrf.verify(pk, pi, a) for _, pk, a, pi, *_ in items])
    _rate("proof_to_hash", len(items), lambda: [ecvrf.proof_to_hash(pi) for pi in proofs])
    _rate(
        f"selected_units (stake <= {2 * TOTAL_STAKE // 100} of {TOTAL_STAKE}, k={EXPECTED_SIZE})",
        len(items),
        lambda: [
            selected_units(beta, stake, TOTAL_STAKE, EXPECTED_SIZE) for *_, beta, stake in items
        ],
    )
    point = public[0]
    _rate(
        "libsodium point addition, for scale",
        len(items),
        lambda: [nacl.bindings.crypto_core_ed25519_add(point, point) for _ in items],
    )


if __name__ == "__main__":
    main()
