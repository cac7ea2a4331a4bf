"""Two-phase inference on real validator processes over libp2p: honest committees, a liar, a
copier and a silent member, a Vyper consumer's callback, a validator killed mid-request and one
restarted between its commit and its reveal, with transfers committing throughout."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_abi import decode, encode
from eth_account import Account

from brainchain.crypto.keccak import keccak256
from genesis.devnet import DEV_ACCOUNTS
from genesis.inference import DEFAULTS
from genesis.models import shipped_model
from node import devnet
from node.cli.client import RpcClient
from node.config import load_config, write_config
from tests.node.contracts_kit import compile_vyper
from tests.node.harness import REPO, Network, height, wait_for_height, wait_for_receipt

MODEL = shipped_model("tiny-gptj")
INFERENCE = "0x0000000000000000000000000000000000000b03"
CHAIN_ID = 1337
GWEI = 10**9
SETTLE_TIMEOUT_S = 240.0
# Long windows: four or five validator processes share this machine's two cores, so heights
# come slower than the 0.2 s interval and a model run waits its turn.
WINDOWS = {"commit_blocks": 60, "reveal_blocks": 30}


def create(
    home: Path, stakes: list[int], committee_size: int, byzantine: dict[int, str]
) -> list[Path]:
    """A devnet with these stakes, one registered model, loaded at start, and Byzantine
    validators where asked."""
    devnet.create(
        home,
        validators=len(stakes),
        chain_id=CHAIN_ID,
        rpc_port=0,
        p2p_port=0,
        metrics_port=0,
        block_interval_s=0.2,
    )
    homes = devnet.node_homes(home)
    doc = json.loads((homes[0] / "genesis.json").read_text())
    for validator, stake in zip(doc["validators"], stakes, strict=True):
        validator["stake"] = stake
    doc["brain"]["committee_size"] = 1
    doc["brain"]["inference"] = {**WINDOWS, "committee_size": committee_size}
    doc["brain"]["models"] = [MODEL.to_json()]
    for i, node_home in enumerate(homes):
        (node_home / "genesis.json").write_text(json.dumps(doc))
        cfg = load_config(node_home)
        mode = byzantine.get(i)
        cfg_doc = {**cfg.to_json(), "warm_models": True, **({"byzantine": mode} if mode else {})}
        write_config(load_config(node_home, **cfg_doc))
    return homes


def metric(url: str, name: str) -> float:
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name))


def wait_for_models(net: Network) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if all(
            metric(n.metrics, "brainchain_model_load_seconds_count") >= 1
            for n in net.nodes
            if n.running()
        ):
            return
        time.sleep(0.5)
    raise TimeoutError("models did not load")


@pytest.fixture
def started(tmp_path: Path) -> Iterator[Any]:
    networks: list[Network] = []

    def start(stakes: list[int], committee_size: int, byzantine: dict[int, str]) -> Network:
        net = Network(create(tmp_path / f"net{len(networks)}", stakes, committee_size, byzantine))
        networks.append(net)
        for index in range(len(stakes)):
            net.start(index)
        wait_for_height(net.clients(), 2)
        wait_for_models(net)
        return net

    try:
        yield start
    finally:
        for net in networks:
            print(net.stop_all())


class Sender:
    """A development account that signs EIP-1559 transactions, tracking its nonce."""

    def __init__(self, client: RpcClient, index: int) -> None:
        self.client = client
        self.account = Account.from_key(DEV_ACCOUNTS[index].private_key)
        self.nonce = int(
            client.call("eth_getTransactionCount", self.account.address, "pending"), 16
        )

    def send(self, to: str | None, data: bytes = b"", value: int = 0, gas: int = 1_000_000) -> str:
        fields = {
            "type": 2,
            "chainId": CHAIN_ID,
            "nonce": self.nonce,
            "gas": gas,
            "value": value,
            "maxFeePerGas": 50 * GWEI,
            "maxPriorityFeePerGas": GWEI,
            "data": "0x" + data.hex(),
        }
        if to is not None:
            fields["to"] = to
        raw = bytes(self.account.sign_transaction(fields).raw_transaction)
        self.nonce += 1
        return str(self.client.call("eth_sendRawTransaction", "0x" + raw.hex()))


def call(signature: str, types: list[str], *args: Any) -> bytes:
    return keccak256(signature.encode())[:4] + encode(types, list(args))


def request(sender: Sender, prompt: bytes, tokens: int) -> int:
    data = call(
        "request(string,bytes,uint256,uint256)",
        ["string", "bytes", "uint256", "uint256"],
        MODEL.id,
        prompt,
        tokens,
        0,
    )
    receipt = wait_for_receipt(
        sender.client, sender.send(INFERENCE, data, MODEL.price_per_token * tokens)
    )
    assert receipt["status"] == "0x1"
    return int(receipt["logs"][0]["topics"][1], 16)


def settled(client: RpcClient, request_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while time.monotonic() < deadline:
        info = client.call("brain_getInference", hex(request_id))
        if info["status"] in ("settled", "expired"):
            return dict(info)
        time.sleep(0.5)
    raise TimeoutError(f"request {request_id} not settled: {info}")


def honest_output(prompt: bytes, tokens: int) -> bytes:
    from node.executors.models import build_model, generate

    return generate(build_model(MODEL), prompt, tokens)


def verdicts(info: dict[str, Any], addresses: list[str]) -> list[str | None]:
    by_member = {m["member"].lower(): m["verdict"] for m in info["members"]}
    return [by_member.get(a.lower()) for a in addresses]


def bond(client: RpcClient, address: str) -> int:
    out = client.call(
        "eth_call",
        {"to": INFERENCE, "data": "0x" + call("bondOf(address)", ["address"], address).hex()},
        "latest",
    )
    return int(decode(["uint256", "uint256"], bytes.fromhex(out[2:]))[0])


def validator_addresses(net: Network) -> list[str]:
    genesis = json.loads((net.nodes[0].home / "genesis.json").read_text())
    return [v["address"] for v in genesis["validators"]]


def test_liar_copier_and_silent_member_are_penalised_and_the_honest_output_wins(
    started: Any,
) -> None:
    # Two heavy honest validators hold 2/3 of the stake; three light ones misbehave, each its
    # own way. k = 300 of W = 900: the honest weight (~200) clears the quorum (> 150).
    net = started(
        [300, 300, 100, 100, 100], 300, {2: "wrong-output", 3: "copy-commitment", 4: "no-reveal"}
    )
    first, *_, last = net.clients()
    asker, payer = Sender(first, 1), Sender(last, 2)
    prompt, tokens = b"The chain says", 12
    request_id = request(asker, prompt, tokens)

    # The Vyper consumer asks through the precompile and gets its callback.
    code, _ = compile_vyper("InferenceConsumer.vy")
    deployed = wait_for_receipt(first, asker.send(None, code, gas=3_000_000))
    consumer = deployed["contractAddress"]
    ask = call(
        "ask(string,bytes,uint256,uint256)",
        ["string", "bytes", "uint256", "uint256"],
        MODEL.id,
        prompt,
        tokens,
        300_000,
    )
    asked = wait_for_receipt(
        first, asker.send(consumer, ask, MODEL.price_per_token * tokens + 10**17)
    )
    assert asked["status"] == "0x1"
    consumer_request = int(asked["logs"][0]["topics"][1], 16)

    # Transfers keep committing while the models run.
    start = height(first)
    recipient = Account.from_key(DEV_ACCOUNTS[5].private_key).address
    transfers = [payer.send(recipient, b"", 10**15, 21_000) for _ in range(5)]
    for tx in transfers:
        assert wait_for_receipt(last, tx)["status"] == "0x1"

    info = settled(first, request_id)
    expected = honest_output(prompt, tokens)
    assert info["status"] == "settled", info
    assert bytes.fromhex(info["result"]["output"][2:]) == expected
    addresses = validator_addresses(net)
    assert verdicts(info, addresses) == [
        "rewarded",
        "rewarded",
        "penalised",
        "penalised",
        "penalised",
    ]
    penalty, initial = DEFAULTS["penalty"], DEFAULTS["bond"]
    callback_info = settled(first, consumer_request)
    assert callback_info["callback"]["success"] is True
    answer = first.call(
        "eth_call",
        {
            "to": consumer,
            "data": "0x" + call("answers(uint256)", ["uint256"], consumer_request).hex(),
        },
        "latest",
    )
    assert decode(["bytes"], bytes.fromhex(answer[2:]))[0] == expected
    for address in addresses[:2]:
        assert bond(first, address) == initial
    for address in addresses[2:]:
        assert bond(first, address) == initial - 2 * penalty  # once per request
    # every node tells the same story
    for client in net.clients():
        assert client.call("brain_getInference", hex(request_id))["result"] == info["result"]
    assert height(first) > start + 10
    # operators see it in /metrics: an honest and a lying validator
    honest, liar = net.nodes[0].metrics, net.nodes[2].metrics
    for url in (honest, liar):
        assert metric(url, "brainchain_inference_requests_total") >= 2
        assert metric(url, "brainchain_inference_selected_total") >= 2
        assert metric(url, "brainchain_inference_commits_total") >= 2
        assert metric(url, "brainchain_model_run_seconds_count") >= 2
    assert metric(honest, "brainchain_inference_reveals_total") >= 2
    deadline = time.monotonic() + 30  # the service accounts for a request once it sees it settled
    while metric(liar, 'brainchain_inference_outcomes_total{outcome="penalised"}') < 2:
        assert time.monotonic() < deadline
        time.sleep(0.5)
    assert metric(honest, 'brainchain_inference_outcomes_total{outcome="rewarded"}') >= 2
    assert metric(honest, "brainchain_inference_rewards_wei_total") > 0


def cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "node.cli.main", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_a_killed_member_and_a_restarted_one_still_finalize(started: Any) -> None:
    """Driven through the CLI as a user would: `infer --wait` follows the request while one
    member is killed for good and another is killed after its commit and restarted."""
    net = started([100, 100, 100, 100], 100, {})
    client = net.nodes[0].client()
    prompt, tokens = "restart", 8
    key = "0x" + DEV_ACCOUNTS[1].private_key.hex()
    waiting = cli(
        "infer",
        "--rpc",
        net.nodes[0].url,
        "--from-key",
        key,
        "--model",
        MODEL.id,
        "--prompt",
        prompt,
        "--max-tokens",
        str(tokens),
        "--wait",
    )
    addresses = validator_addresses(net)
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while client.call("brain_getInference", "0x1") is None:
        assert time.monotonic() < deadline and waiting.poll() is None
        time.sleep(0.2)
    # node1 is killed for good as soon as the request is in; node2 once its commit has landed,
    # then restarted: its journal makes it reveal.
    net.nodes[1].kill()
    while time.monotonic() < deadline:
        info = client.call("brain_getInference", "0x1")
        if any(c["member"].lower() == addresses[2].lower() for c in info["commits"]):
            break
        time.sleep(0.2)
    else:
        raise TimeoutError(f"node2 never committed: {info}")
    net.nodes[2].kill()
    net.start(2)
    out, _ = waiting.communicate(timeout=SETTLE_TIMEOUT_S)
    assert waiting.returncode == 0, out
    assert "request id 1" in out and "finalized" in out, out
    info = settled(client, 1)
    assert info["status"] == "settled", info
    expected = honest_output(prompt.encode(), tokens)
    assert bytes.fromhex(info["result"]["output"][2:]) == expected
    by_member = {m["member"].lower(): m for m in info["members"]}
    assert by_member[addresses[2].lower()]["revealed"] is True
    assert by_member[addresses[2].lower()]["verdict"] == "rewarded"
    shown = cli("inference", "show", "1", "--rpc", net.nodes[3].url)
    out, _ = shown.communicate(timeout=60)
    assert shown.returncode == 0 and f"tokens:    {list(expected)}" in out, out
    verified = cli("inference", "verify", "1", "--rpc", net.nodes[3].url)
    out, _ = verified.communicate(timeout=120)
    assert verified.returncode == 0, out
