"""The node's dashboard in headless Debian Chromium (playwright-core, tests/js/dashboard.mjs)
against a real node process: what the page shows once it has followed the head live matches
the JSON-RPC answers, the page talks to nothing but the node, and the metrics port exports
what the page shows. Screenshots go under the test's tmp path and, when BRAINCHAIN_ARTIFACTS
names a directory, there too."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

from eth_account import Account

from genesis.devnet import DEV_PRIVATE_KEYS
from node.cli.client import RpcClient
from tests.node.harness import (
    REPO,
    NodeProcess,
    signed_transfer,
    wait_for_height,
    wait_for_receipt,
)

CHROMIUM = Path("/usr/bin/chromium")
SCRIPT = REPO / "tests" / "js" / "dashboard.mjs"
GRAFANA = REPO / "grafana" / "brainchain.json"
BROWSER_TIMEOUT_S = 90
TRANSFERS = 3
CERTIFIED = 3  # heights whose certificates the metrics test waits to see counted


def send_transfers(client: RpcClient) -> None:
    """TRANSFERS transfers from the first dev account, committed."""
    account = Account.from_key(DEV_PRIVATE_KEYS[0])
    hashes = [
        client.call("eth_sendRawTransaction", signed_transfer(account, n)) for n in range(TRANSFERS)
    ]
    for tx_hash in hashes:
        wait_for_receipt(client, tx_hash)


def queue_behind_gap(client: RpcClient) -> None:
    """A transfer whose nonce leaves a gap after the TRANSFERS ones: queued for good."""
    account = Account.from_key(DEV_PRIVATE_KEYS[0])
    client.call("eth_sendRawTransaction", signed_transfer(account, TRANSFERS + 1))


def watch_dashboard(node: NodeProcess, shots: Path, *, transfers: bool = True) -> dict[str, Any]:
    """Open the page; once it has drawn a head, send the transfers (if asked, and then wait
    for the page to show them); the script's report."""
    # Not a skip: a CI without the browser must fail, not pass by leaving the page untested.
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"
    shots.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "TXS"}
    with subprocess.Popen(
        ["node", str(SCRIPT), f"{node.url}/dashboard", str(shots)],
        cwd=REPO,
        env={**env, "TXS": str(TRANSFERS)} if transfers else env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as script:
        assert script.stdout is not None
        try:
            first = script.stdout.readline()
            assert first.startswith('{"first"'), first + script.communicate()[1]
            if transfers:
                send_transfers(node.client())
            out, err = script.communicate(timeout=BROWSER_TIMEOUT_S)
        finally:
            if script.poll() is None:
                script.kill()
    assert script.returncode == 0, err
    report: dict[str, Any] = json.loads(out)
    return report


def keep_screenshots(shots: Path, name: str) -> None:
    artifacts = os.environ.get("BRAINCHAIN_ARTIFACTS")
    if artifacts:
        shutil.copytree(shots, Path(artifacts) / name, dirs_exist_ok=True)


def test_dashboard_follows_the_head_and_matches_the_rpc(node: NodeProcess, tmp_path: Path) -> None:
    client = node.client()
    queue_behind_gap(client)
    shots = tmp_path / "screenshots"
    try:
        report = watch_dashboard(node, shots)
    finally:
        keep_screenshots(shots, "dashboard")
    assert sorted(p.name for p in shots.iterdir()) == ["dashboard-first.png", "dashboard-live.png"]
    shown = report["shown"]
    assert report["errors"] == [] and shown["status"] == ""
    assert shown["height"] >= report["first"] + 3  # redrawn live for three more heads
    assert shown["transport"] == "websocket"  # live over eth_subscribe, not polling
    assert report["sockets"] == [node.url.replace("http://", "ws://") + "/"]
    assert all(url.startswith(node.url + "/") for url in report["requests"]), report["requests"]

    height = shown["height"]
    head = client.call("eth_getBlockByNumber", hex(height), False)
    assert (shown["headHeight"], shown["headHash"]) == (str(height), head["hash"])
    assert shown["chainId"] == str(int(client.call("eth_chainId"), 16))
    recent = range(height, max(height - 10, -1), -1)  # the ten newest, down to genesis at most
    assert [int(b["height"]) for b in shown["blocks"]] == list(recent)
    for row in shown["blocks"]:
        block = client.call("eth_getBlockByNumber", hex(int(row["height"])), False)
        assert row["hash"] == block["hash"]
        assert int(row["txs"]) == len(block["transactions"])
        assert row["proposer"].startswith(block["miner"][:8])

    votes = client.call("brain_consensusVotes", 10)
    assert shown["validators"] == [
        {
            "index": str(v["index"]),
            "name": v["name"],
            "address": v["address"],
            "power": str(v["power"]),
        }
        for v in votes["validators"]
    ]
    # genesis has no certificate, so no row
    assert shown["voteRows"] == [str(h) for h in range(height, max(height - 10, 0), -1)]
    pool = client.call("brain_mempool")
    assert (pool["pending"], pool["queued"]) == (0, 1)
    assert (shown["mempoolPending"], shown["mempoolQueued"], shown["mempoolRows"]) == ("0", "1", 1)
    peers = client.call("brain_peers")
    assert shown["peerCount"] == str(len(peers)) == str(int(client.call("net_peerCount"), 16))
    assert (shown["inferences"], shown["flTasks"]) == ([], [])


def test_metrics_export_what_the_dashboard_shows(node: NodeProcess) -> None:
    """The new gauges and counters have the node's values, and every metric the Grafana
    dashboard (grafana/brainchain.json) queries is exported."""
    client = node.client()
    send_transfers(client)
    queue_behind_gap(client)
    wait_for_height([client], CERTIFIED + 1)  # blocks 2.. carry their parent's certificate
    with urllib.request.urlopen(node.metrics, timeout=10) as response:
        text = response.read().decode()
    samples = dict(
        line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#")
    )
    assert float(samples["brainchain_mempool_queued_txs"]) == 1
    assert float(samples["brainchain_txs_total"]) == TRANSFERS
    assert float(samples["brainchain_commit_round"]) == 0
    # the lone validator precommitted every height whose certificate a block carries
    assert float(samples['brainchain_validator_precommits_total{validator="0"}']) >= CERTIFIED
    for name in (
        'brainchain_votes{kind="prevote"}',
        'brainchain_votes{kind="precommit"}',
        'brainchain_inference_requests_by_status{status="pending"}',
        "brainchain_inference_latency_blocks_count",
        "brainchain_fl_tasks",
        "brainchain_peers",
        "brainchain_height",
    ):
        assert name in samples, name
    exported = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
    queried = set(re.findall(r"brainchain_[a-z_]+", GRAFANA.read_text()))
    unknown = {name.removesuffix("_bucket") for name in queried} - exported  # histograms
    assert not unknown, f"the Grafana dashboard queries metrics nobody exports: {unknown}"
