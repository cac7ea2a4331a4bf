"""`brainchain vrf prove` and `vrf verify`, run as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from brainchain.crypto import ecvrf
from node.config import generate_keys, write_keys
from tests.node.harness import REPO

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors" / "rfc9381-ecvrf.json"


def brainchain(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "node.cli.main", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def fields(stdout: str) -> dict[str, bytes]:
    """`name: 0xHEX` lines as {name: bytes}."""
    pairs = (line.split(":", 1) for line in stdout.splitlines() if ":" in line)
    return {name.strip(): bytes.fromhex(value.strip()[2:]) for name, value in pairs}


def test_prove_uses_the_nodes_vrf_key_and_never_prints_it(tmp_path: Path) -> None:
    keys = generate_keys()
    write_keys(keys, tmp_path / "keys.json")
    alpha = bytes(range(40))
    proved = brainchain(
        "vrf", "prove", "--key", str(tmp_path / "keys.json"), "--alpha", alpha.hex()
    )
    assert proved.returncode == 0, proved.stderr
    out = fields(proved.stdout)
    # The genesis VRF key (ed25519 public key of the seed) is the ECVRF public key.
    assert out["public key"] == keys.vrf_pubkey == ecvrf.public_key(keys.vrf_key)
    assert ecvrf.verify(out["public key"], out["proof"], alpha) == out["beta"]
    for secret in (keys.vrf_key, keys.account_key, keys.consensus_key, keys.p2p_key):
        assert secret.hex() not in proved.stdout + proved.stderr

    verified = brainchain(
        "vrf",
        "verify",
        "--public-key",
        "0x" + out["public key"].hex(),
        "--alpha",
        "0x" + alpha.hex(),
        "--proof",
        "0x" + out["proof"].hex(),
    )
    assert verified.returncode == 0, verified.stderr
    assert fields(verified.stdout) == {"beta": out["beta"]}


def test_verify_checks_the_rfc_vector_and_reports_failures_in_one_line() -> None:
    vectors = json.loads(VECTORS.read_text(encoding="utf-8"))
    v = next(v for v in vectors if v["suite_string"] == "03")
    args = ["vrf", "verify", "--public-key", v["pk"], "--alpha", "0x" + v["alpha"]]
    good = brainchain(*args, "--proof", v["pi"])
    assert good.returncode == 0 and fields(good.stdout) == {"beta": bytes.fromhex(v["beta"])}

    tampered = v["pi"][:-1] + ("0" if v["pi"][-1] != "0" else "1")
    bad = brainchain(*args, "--proof", tampered)
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr.startswith("error: invalid VRF proof") and "Traceback" not in bad.stderr
    assert "challenge does not match" in bad.stderr

    not_hex = brainchain(*args, "--proof", "zz")
    assert not_hex.returncode == 1 and "--proof: 'zz' is not hex" in not_hex.stderr


def test_prove_refuses_a_file_that_is_not_keys(tmp_path: Path) -> None:
    (tmp_path / "keys.json").write_text("{}")
    result = brainchain("vrf", "prove", "--key", str(tmp_path / "keys.json"), "--alpha", "00")
    assert result.returncode == 1 and "cannot read validator keys" in result.stderr
