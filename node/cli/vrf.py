"""`brainchain vrf`: make and check ECVRF proofs by hand (RFC 9381)."""

from __future__ import annotations

from pathlib import Path

import click

from node.cli.common import console, one_line_errors


def _hex_option(text: str, option: str) -> bytes:
    try:
        return bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raise ValueError(f"{option}: {text!r} is not hex") from None


@click.group()
def vrf() -> None:
    """Make and check ECVRF proofs by hand (RFC 9381, edwards25519, SHA-512, TAI)."""


@vrf.command("prove")
@click.option(
    "--key",
    "key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="a node's keys.json (its vrf_key is used)",
)
@click.option("--alpha", required=True, help="the input to prove, hex (0x for empty)")
@one_line_errors
def vrf_prove(key_file: Path, alpha: str) -> None:
    """Prove the VRF output for --alpha with a node's VRF key: print public key, proof, beta."""
    from brainchain.crypto import ecvrf
    from node.config import load_keys

    secret = load_keys(key_file).vrf_key
    proof = ecvrf.prove(secret, _hex_option(alpha, "--alpha"))
    console.print(f"public key: 0x{ecvrf.public_key(secret).hex()}", highlight=False)
    console.print(f"proof:      0x{proof.hex()}", highlight=False)
    console.print(f"beta:       0x{ecvrf.proof_to_hash(proof).hex()}", highlight=False)


@vrf.command("verify")
@click.option("--public-key", required=True, help="32-byte VRF public key, hex")
@click.option("--alpha", required=True, help="the input the proof is for, hex (0x for empty)")
@click.option("--proof", required=True, help="80-byte proof, hex")
@one_line_errors
def vrf_verify(public_key: str, alpha: str, proof: str) -> None:
    """Check a VRF proof; print its output beta, or why it fails (exit status 1)."""
    from brainchain.crypto import ecvrf

    beta = ecvrf.verify(
        _hex_option(public_key, "--public-key"),
        _hex_option(proof, "--proof"),
        _hex_option(alpha, "--alpha"),
    )
    console.print(f"beta: 0x{beta.hex()}", highlight=False)
