"""Four validator processes over libp2p on 127.0.0.1, one of them Byzantine in consensus: the
three honest ones keep committing, record its double signs as evidence (every double vote, the
late ones too), and decide without the votes it withholds; its byzantine.jsonl lists what it
did."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from genesis.format import load_genesis
from node.byzantine_consensus import OFFENCES_FILE
from node.cli.client import RpcClient
from node.config import Byzantine, load_config, load_keys, write_config
from node.consensus_driver import validator_set
from tests.node.harness import Network, height, wait_for_height
from tests.node.test_consensus_network import VALIDATORS, create_devnet

BYZANTINE = 3  # node3 misbehaves
EVIDENCE_TIMEOUT_S = 90.0  # its offences recorded in an honest node's committed block
MORE_HEIGHTS = 5  # and the chain moves on after that
WINDOW = 20  # heights, after the start, whose every double vote must become evidence

Evidence = list[dict[str, Any]]


class ByzantineNet:
    """The running network, the Byzantine validator's index in the set, and its home."""

    def __init__(self, net: Network, index: int, home: Path) -> None:
        self.net, self.index, self.home = net, index, home

    def honest(self) -> list[RpcClient]:
        return [n.client() for i, n in enumerate(self.net.nodes) if i != BYZANTINE]

    def offences(self) -> list[dict[str, Any]]:
        path = self.home / OFFENCES_FILE
        return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def byzantine_net(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ByzantineNet]:
    """A devnet of VALIDATORS whose node BYZANTINE plays the role `request.param`."""
    homes = create_devnet(tmp_path / "net", 0.2)
    home = homes[BYZANTINE]
    write_config(load_config(home, byzantine=request.param))
    validators = validator_set(load_genesis(home / "genesis.json").validators)
    index = validators.index_of(load_keys(home / "keys.json").consensus_pubkey)
    assert index is not None
    net = Network(homes)
    try:
        for i in range(VALIDATORS):
            net.start(i)
        wait_for_height(net.clients(), 2)
        assert "BYZANTINE TEST MODE" in (home / "test-node.log").read_text()
        yield ByzantineNet(net, index, home)
    finally:
        print(net.stop_all())


def commit(client: RpcClient, at: int) -> dict[str, Any]:
    doc = client.call("brain_getCommit", hex(at))
    assert doc is not None, f"no block {at}"
    return doc  # type: ignore[no-any-return]


def wait_for_evidence(client: RpcClient, done: Callable[[Evidence], bool], what: str) -> Evidence:
    """Every piece of evidence the node's chain records, once `done` holds of it."""
    found: Evidence = []
    checked, deadline = 0, time.monotonic() + EVIDENCE_TIMEOUT_S
    while time.monotonic() < deadline:
        for at in range(checked + 1, height(client) + 1):
            found.extend(commit(client, at)["evidence"])
            checked = at
        if done(found):
            return found
        time.sleep(0.2)
    raise TimeoutError(f"no {what} by height {checked}: {found}")


def keeps_committing(b: ByzantineNet) -> None:
    wait_for_height(b.net.clients(), max(height(c) for c in b.net.clients()) + MORE_HEIGHTS)


@pytest.mark.parametrize(
    ("byzantine_net", "steps"),
    [
        (Byzantine.DOUBLE_VOTER.value, {"prevote", "precommit"}),
        (Byzantine.EQUIVOCATING_PROPOSER.value, {"proposal"}),
    ],
    indirect=["byzantine_net"],
)
def test_honest_nodes_record_the_double_signs_in_committed_blocks(
    byzantine_net: ByzantineNet, steps: set[str]
) -> None:
    b = byzantine_net
    for client in b.honest():
        evidence = wait_for_evidence(
            client,
            lambda found: any(e["validator"] == b.index for e in found),
            f"evidence against validator {b.index}",
        )
        assert {e["validator"] for e in evidence} == {b.index}  # nobody honest is accused
        assert {e["step"] for e in evidence} <= steps
        offences = [(o["height"], o["round"], o["step"]) for o in b.offences()]
        assert {o["kind"] for o in b.offences()} == {"equivocation"}
        for e in evidence:  # each recorded offence is one it committed and logged
            assert (e["height"], e["round"], e["step"]) in offences
    keeps_committing(b)


@pytest.mark.parametrize("byzantine_net", [Byzantine.DOUBLE_VOTER.value], indirect=True)
def test_every_double_vote_becomes_evidence(byzantine_net: ByzantineNet) -> None:
    """The second precommit of a pair often lands after the honest precommits decided the
    height; the honest nodes still compare it with the votes of the height they just finished.
    Offences before the test starts are left out: a vote sent while the network was forming
    may reach nobody."""
    b = byzantine_net
    client = b.honest()[0]
    start = height(client)
    window = range(start + 1, start + WINDOW + 1)
    wait_for_height([client], window.stop)
    owed = {(o["height"], o["round"], o["step"]) for o in b.offences() if o["height"] in window}
    assert {step for _, _, step in owed} == {"prevote", "precommit"}

    def recorded(found: Evidence) -> set[tuple[int, int, str]]:
        return {(e["height"], e["round"], e["step"]) for e in found}

    evidence = wait_for_evidence(
        client,
        lambda found: owed <= recorded(found),
        f"evidence of every offence in {sorted(owed)}",
    )
    assert {e["validator"] for e in evidence} == {b.index}
    assert len(recorded(evidence)) == len(evidence)  # each offence recorded once


@pytest.mark.parametrize("byzantine_net", [Byzantine.VOTE_WITHHOLDER.value], indirect=True)
def test_heights_advance_on_three_of_four_without_the_withheld_votes(
    byzantine_net: ByzantineNet,
) -> None:
    b = byzantine_net
    start = max(height(c) for c in b.net.clients())
    keeps_committing(b)
    honest_signers = set(range(VALIDATORS)) - {b.index}
    for at in range(start + 1, start + MORE_HEIGHTS + 1):
        # Block sync may hand a node a certificate the withholder built, with its own
        # precommit in; whoever decided the height by consensus holds one without it.
        signers = [set(commit(client, at)["precommits"]) for client in b.honest()]
        assert honest_signers in signers, f"height {at}: {signers}"
    withheld = {(o["height"], o["step"]) for o in b.offences() if o["kind"] == "withheld"}
    assert {o["kind"] for o in b.offences()} == {"withheld"}
    for at in range(start + 1, start + MORE_HEIGHTS + 1):
        assert {(at, "prevote"), (at, "precommit")} <= withheld
