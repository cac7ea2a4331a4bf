"""FL_REGISTRY (0x…0b04) driven through real signed transactions, VRF proofs and blocks: tasks,
proposals, committees scoring with commit/reveal, finalization at the deadline (weighted
median, threshold, α over the window, expiry), staleness, attestation of global hashes, and
every refusal with its reason and no change to the state."""

from __future__ import annotations

import random
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from brainchain.crypto.keccak import keccak256
from brainchain.fl import (
    ATTEST_BLOCKS,
    MAX_BLOB_BYTES,
    SCORE_SCALE,
    ProposalStatus,
    committee_weight,
    score_word,
)
from brainchain.inference import commitment, request_seed
from brainchain.state.account import Account
from brainchain.state.state import get_account, set_account, set_code
from brainchain.types.receipt import Receipt
from tests.vm.fl_chain import (
    ATTEST,
    COMMIT,
    CREATE,
    FL,
    INITIAL,
    PROPOSE,
    REVEAL,
    SIZE,
    FlChain,
    salt,
    weights,
)
from tests.vm.inference_chain import USER, USER_KEY, Member, call_data
from vm.abi import selector
from vm.precompiles.addresses import INFERENCE_ADDRESS
from vm.precompiles.fl_registry import (
    ATTESTED,
    FUNCTIONS,
    PROPOSED,
    SCORE_COMMITTED,
    SCORE_REVEALED,
    TASK_CREATED,
    VERSION_ATTESTED,
    Attested,
    Proposed,
    ScoreCommitted,
    ScoreRevealed,
    TaskCreated,
    VersionAttested,
    decode_fl_event,
)

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
TOTAL_STAKE = 400  # 4 validators of 100
K = committee_weight(TOTAL_STAKE)  # 220 units: every validator serves, with about 55 each
GOOD = 900_000


def brute_median(pairs: list[tuple[int, int]]) -> int:
    """The weighted lower median, computed the slow way: the least score that at least half
    the weight scored at or below."""
    total = sum(w for _, w in pairs)
    return min(s for s, _ in pairs if 2 * sum(w for t, w in pairs if t <= s) >= total)


def events(receipts: list[Receipt]) -> list[Any]:
    return [e for r in receipts for log in r.logs if (e := decode_fl_event(log)) is not None]


def proposed_chain(**inference: int) -> tuple[FlChain, int, int, list[tuple[Member, int]]]:
    chain = FlChain(inference=inference or None)
    task_id = chain.create_task()
    proposal_id = chain.propose(task_id, 0)
    return chain, task_id, proposal_id, chain.scorers(proposal_id)


def accepted_chain() -> tuple[FlChain, int, int, list[tuple[Member, int]], Member]:
    """A task whose first proposal became version 1; the lightest member committed and never
    revealed."""
    chain, task_id, proposal_id, scorers = proposed_chain()
    silent = min(scorers, key=lambda mw: mw[1])[0]
    chain.score(
        proposal_id,
        {m.address: None if m is silent else GOOD + i for i, (m, _) in enumerate(scorers)},
    )
    assert chain.proposal(proposal_id)[5] == ProposalStatus.ACCEPTED
    return chain, task_id, proposal_id, scorers, silent


# --- the protocol ---------------------------------------------------------------------------


def test_a_task_takes_k_from_the_validators_stake_and_starts_at_version_0() -> None:
    chain = FlChain()
    assert get_account(chain.state, FL).nonce == 0  # nothing at genesis
    receipt = chain.send(USER_KEY, CREATE, "digits-mlp", INITIAL, SIZE, 4, 125_000, 4, 550_000)
    assert get_account(chain.state, FL).nonce == 1  # exists, so no touch deletes its storage
    (created,) = events([receipt])
    assert created == TaskCreated(1, USER, "digits-mlp", INITIAL, K)
    creator, model, initial, size, version, window, threshold, staleness, k, proposals = chain.task(
        1
    )
    assert creator.lower() == "0x" + USER.hex()
    assert model == b"digits-mlp".ljust(32, b"\0") and initial == INITIAL and size == SIZE
    assert (version, window, threshold, staleness, k, proposals) == (0, 4, 125_000, 4, 220, 0)
    assert chain.version(1, 0) == (0, "0x" + "00" * 20, 0, 0, bytes(32), SIZE, INITIAL, 0)
    assert chain.create_task("other", fraction=SCORE_SCALE) == 2  # ids count up
    assert chain.task(2)[8] == TOTAL_STAKE  # the whole stake: every unit serves


def test_an_honest_committee_accepts_with_the_weighted_median_at_the_deadline() -> None:
    chain = FlChain()
    task_id = chain.create_task()
    (receipt,) = chain.mine(chain.fl_tx(USER_KEY, PROPOSE, task_id, 0, weights(1), SIZE))
    (proposed,) = events([receipt])
    included = chain.head.height
    due = included + 6  # C = R = 3
    assert proposed == Proposed(task_id, 1, USER, 0, weights(1), SIZE, due)
    scorers = chain.scorers(1)
    assert len(scorers) == 4  # 0.55 of each validator's 100 units: all serve
    scores = {m.address: 880_000 + 13_000 * i for i, (m, _) in enumerate(scorers)}
    commits = chain.mine(*(chain.score_commit_tx(m, 1, scores[m.address]) for m, _ in scorers))
    assert events(commits) == [ScoreCommitted(1, m.address, w) for m, w in scorers]
    chain.until(included + 3)
    reveals = chain.mine(*(chain.score_reveal_tx(m, 1, scores[m.address]) for m, _ in scorers))
    assert events(reveals) == [ScoreRevealed(1, m.address, scores[m.address]) for m, _ in scorers]
    chain.until(due - 1)
    pending = chain.proposal(1)
    assert pending[5] == ProposalStatus.PENDING and pending[10] == 4
    assert pending[11] == sum(w for _, w in scorers)
    chain.mine()  # the deadline block: finalized at its end
    median = brute_median([(scores[m.address], w) for m, w in scorers])
    proposal = chain.proposal(1)
    assert proposal[5] == ProposalStatus.ACCEPTED and proposal[9] == median
    assert chain.task(task_id)[4] == 1
    assert chain.version(task_id, 1) == (
        1,
        "0x" + USER.hex(),
        median,
        median // 2,  # α: half the mean of a window of one accepted score
        weights(1),
        SIZE,
        bytes(32),  # until attested
        due,
    )


def test_alpha_is_half_the_mean_of_the_last_window_accepted_scores() -> None:
    chain = FlChain()
    task_id = chain.create_task(window=2, threshold=200_000, staleness=8)
    alphas = []
    for n, score in enumerate([900_000, 600_000, 100_000, 300_000, 500_000]):
        version = chain.task(task_id)[4]
        proposal_id = chain.propose(task_id, version, n)
        chain.score(proposal_id, {m.address: score for m, _ in chain.scorers(proposal_id)})
        status = chain.proposal(proposal_id)[5]
        assert status == (ProposalStatus.REJECTED if score < 200_000 else ProposalStatus.ACCEPTED)
        if status == ProposalStatus.ACCEPTED:
            alphas.append(chain.version(task_id, chain.task(task_id)[4])[3])
    # the rejected 100_000 never enters the window
    assert alphas == [450_000, 375_000, 225_000, 200_000]
    assert chain.task(task_id)[4] == 4


def test_proposals_of_one_block_finalize_together_in_id_order_across_tasks() -> None:
    chain = FlChain()
    first, second = chain.create_task("a"), chain.create_task("b")
    receipts = chain.mine(
        chain.fl_tx(USER_KEY, PROPOSE, first, 0, weights(1), SIZE),
        chain.fl_tx(USER_KEY, PROPOSE, second, 0, weights(2), SIZE),
        chain.fl_tx(USER_KEY, PROPOSE, first, 0, weights(3), SIZE),
    )
    assert all(r.succeeded for r in receipts)
    chain.mine(*(chain.score_commit_tx(m, p, GOOD) for p in (1, 2, 3) for m, _ in chain.scorers(p)))
    chain.until(chain.proposal(1)[7])
    chain.mine(*(chain.score_reveal_tx(m, p, GOOD) for p in (1, 2, 3) for m, _ in chain.scorers(p)))
    chain.until(chain.deadline(1))
    assert [chain.proposal(p)[5] for p in (1, 2, 3)] == [ProposalStatus.ACCEPTED] * 3
    assert [chain.version(first, v)[0] for v in (1, 2)] == [1, 3]
    assert chain.version(second, 1)[0] == 2
    assert chain.task(first)[4] == 2 and chain.task(second)[4] == 1


def test_a_score_below_the_threshold_is_rejected() -> None:
    chain, task_id, proposal_id, scorers = proposed_chain()
    chain.score(proposal_id, {m.address: 124_999 for m, _ in scorers})
    proposal = chain.proposal(proposal_id)
    assert proposal[5] == ProposalStatus.REJECTED and proposal[9] == 124_999
    assert chain.task(task_id)[4] == 0


def test_without_quorum_a_proposal_expires() -> None:
    chain, task_id, proposal_id, scorers = proposed_chain()
    lone, weight = scorers[0]
    chain.score(proposal_id, {m.address: GOOD if m is lone else None for m, _ in scorers})
    proposal = chain.proposal(proposal_id)
    assert 2 * weight <= K
    assert proposal[5] == ProposalStatus.EXPIRED and proposal[9] == 0 and proposal[11] == weight
    assert chain.task(task_id)[4] == 0
    unserved = chain.propose(task_id, 0, 2)
    chain.until(chain.deadline(unserved))
    assert chain.proposal(unserved)[5] == ProposalStatus.EXPIRED


def test_a_stale_proposal_is_refused() -> None:
    chain = FlChain()
    task_id = chain.create_task(staleness=1)
    for n in range(2):
        proposal_id = chain.propose(task_id, n, n)
        chain.score(proposal_id, {m.address: GOOD for m, _ in chain.scorers(proposal_id)})
    assert chain.task(task_id)[4] == 2
    assert chain.refusal(USER_KEY, call_data(PROPOSE, task_id, 0, weights(9), SIZE)) == (
        "FL_REGISTRY: stale: base version 0 is more than 1 versions behind task 1's version 2"
    )
    assert chain.propose(task_id, 1, 9) == 3  # one behind: within the bound


def test_scorers_are_bonded_and_a_silent_one_loses_the_penalty() -> None:
    """A commit locks the penalty in the member's INFERENCE bond until the deadline; a member
    that committed and never revealed loses it, burned; revealed scores cost nothing."""
    chain, _, _, scorers, silent = accepted_chain()
    bond, penalty = chain.genesis.inference["bond"], chain.genesis.inference["penalty"]
    assert chain.bond(silent) == (bond - penalty, 0)
    for m, _ in scorers:
        if m is not silent:
            assert chain.bond(m) == (bond, 0)
    held = get_account(chain.state, INFERENCE_ADDRESS).balance
    assert held == len(chain.members) * bond - penalty


def test_a_scorer_whose_bond_cannot_cover_its_commits_cannot_commit() -> None:
    chain, _, proposal_id, scorers = proposed_chain()
    member = scorers[0][0]
    bond = chain.genesis.inference["bond"]
    chain.mine(chain.tx(member.account_key, call_data("withdraw(uint256)", bond)))
    assert chain.bond(member) == (0, 0)
    hidden = commitment(score_word(GOOD), member.address, salt(member, proposal_id))
    proof = member.proof(chain.fl_seed(proposal_id))
    reason = chain.refusal(member.account_key, call_data(COMMIT, proposal_id, hidden, proof))
    assert re.fullmatch(
        r"FL_REGISTRY: bond 0 of 0x[0-9a-fA-F]{40} cannot cover the penalty \d+ of 1 commits",
        reason,
    ), reason
    receipts = chain.mine(*(chain.score_commit_tx(m, proposal_id, GOOD) for m, _ in scorers[1:]))
    assert all(r.succeeded for r in receipts)
    assert all(chain.bond(m)[1] == 1 for m, _ in scorers[1:])  # locked until the deadline


def test_a_minority_revealing_random_scores_does_not_move_the_median() -> None:
    """3 of 11 scorers reveal random scores, as in the issue's attack setting (seeded)."""
    rng = random.Random(13)
    chain = FlChain(validators=11, seed=13)
    task_id = chain.create_task()
    for n in range(2):
        proposal_id = chain.propose(task_id, chain.task(task_id)[4], n)
        scorers = chain.scorers(proposal_id)
        assert len(scorers) == 11
        honest = {m.address: rng.randint(880_000, 920_000) for m, _ in scorers[3:]}
        liars = {m.address: rng.randint(0, SCORE_SCALE) for m, _ in scorers[:3]}
        chain.score(proposal_id, {**liars, **honest})
        weight = dict((m.address, w) for m, w in scorers)
        attacked = chain.proposal(proposal_id)[9]
        assert attacked == brute_median([(s, weight[a]) for a, s in {**liars, **honest}.items()])
        clean = brute_median([(s, weight[a]) for a, s in honest.items()])
        assert min(honest.values()) <= attacked <= max(honest.values())
        assert abs(attacked - clean) <= max(honest.values()) - min(honest.values())
        assert chain.proposal(proposal_id)[5] == ProposalStatus.ACCEPTED


def test_members_that_revealed_attest_the_global_hash_until_it_is_final() -> None:
    chain, task_id, _, scorers, silent = accepted_chain()
    voters = sorted(((m, w) for m, w in scorers if m is not silent), key=lambda mw: mw[1])
    finalized = chain.version(task_id, 1)[7]
    global_hash, other = keccak256(b"global 1"), keccak256(b"a wrong mix")
    # the lightest voter attests a wrong hash: alone it cannot make it final
    wrong, wrong_weight = voters[0]
    assert 2 * wrong_weight <= K
    (receipt,) = chain.mine(chain.fl_tx(wrong.account_key, ATTEST, task_id, 1, other))
    assert events([receipt]) == [Attested(task_id, 1, wrong.address, other, wrong_weight)]
    tally = 0
    for m, w in voters[1:]:
        (receipt,) = chain.mine(chain.fl_tx(m.account_key, ATTEST, task_id, 1, global_hash))
        tally += w
        if 2 * tally > K:
            assert events([receipt]) == [
                Attested(task_id, 1, m.address, global_hash, w),
                VersionAttested(task_id, 1, global_hash),
            ]
            break
        assert chain.version(task_id, 1)[6] == bytes(32)
    assert 2 * tally > K and chain.head.height <= finalized + ATTEST_BLOCKS
    assert chain.version(task_id, 1)[6] == global_hash
    assert chain.refusal(wrong.account_key, call_data(ATTEST, task_id, 1, other)) == (
        "FL_REGISTRY: version 1 of task 1 is final: its hash is attested"
    )


# --- refusals: each reverts with its reason and changes nothing ------------------------------


def create(model: Any = "digits-mlp", **changes: Any) -> bytes:
    fields = {
        "weights": INITIAL,
        "size": SIZE,
        "window": 4,
        "threshold": 125_000,
        "staleness": 4,
        "fraction": 550_000,
        **changes,
    }
    return call_data(CREATE, model, *fields.values())


def bad_utf8_create() -> bytes:
    data = bytearray(create("abc"))
    at = data.index(b"abc")
    data[at : at + 3] = b"\xff\xfe\xfd"
    return bytes(data)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (create(""), "model name of 0 bytes outside 1..32"),
        (create("m" * 33), "model name of 33 bytes outside 1..32"),
        (create("é" * 17), "model name of 34 bytes outside 1..32"),
        (create("a\0b"), "model name holds a NUL byte"),
        (create(weights=bytes(32)), "initialWeights is the zero hash"),
        (create(size=0), "initialSize 0 outside 1..67108864"),
        (create(size=MAX_BLOB_BYTES + 1), "initialSize 67108865 outside 1..67108864"),
        (create(window=0), "window 0 outside 1..64"),
        (create(window=65), "window 65 outside 1..64"),
        (create(threshold=0), "threshold 0 outside 1..1000000"),
        (create(threshold=SCORE_SCALE + 1), "threshold 1000001 outside 1..1000000"),
        (create(staleness=1025), "staleness 1025 exceeds 1024"),
        (create(fraction=0), "committeeFraction 0 outside 1..1000000"),
        (create(fraction=SCORE_SCALE + 1), "committeeFraction 1000001 outside 1..1000000"),
        (bad_utf8_create(), "call data does not match createTask("),
        (create()[:-32], "call data does not match createTask("),
        (selector(CREATE), "call data does not match createTask("),
        (b"\x12\x34\x56\x78", "unknown function selector 0x12345678"),
        (b"\x12", "call data has no function selector"),
        (call_data("getTask(uint256)", 99), "no task 99"),
        (call_data("getProposal(uint256)", 99), "no proposal 99"),
        (call_data("getVersion(uint256,uint256)", 99, 0), "no task 99"),
        (call_data(PROPOSE, 99, 0, weights(1), SIZE), "no task 99"),
        (call_data(COMMIT, 99, keccak256(b"x"), bytes(80)), "no proposal 99"),
        (call_data(REVEAL, 99, GOOD, bytes(32)), "no proposal 99"),
        (call_data(ATTEST, 99, 1, keccak256(b"x")), "no task 99"),
    ],
)
def test_bad_calls_on_a_fresh_chain(data: bytes, reason: str) -> None:
    chain = FlChain()
    assert chain.refusal(USER_KEY, data).startswith("FL_REGISTRY: " + reason)


def test_value_and_static_and_delegate_calls_are_refused() -> None:
    chain = FlChain()
    assert chain.refusal(USER_KEY, create(), value=1) == (
        "FL_REGISTRY: createTask(string,bytes32,uint256,uint256,uint256,uint256,uint256)"
        " does not accept value"
    )
    for op, reason in [(0xF4, "only callable with CALL"), (0xFA, "changes state in a static")]:
        proxy = bytes([op]) * 20
        set_account(chain.state, proxy, Account(nonce=1))
        # CALLDATASIZE 0 0 CALLDATACOPY | 0 0 CALLDATASIZE 0 PUSH2 0x0b04 GAS <op> |
        # RETURNDATASIZE 0 0 RETURNDATACOPY | RETURNDATASIZE 0 RETURN
        code = "3660006000376000600036600061" + "0b04" + f"5a{op:02x}" + "503d600060003e3d6000f3"
        set_code(chain.state, proxy, bytes.fromhex(code))
        result = chain.dry_run(USER_KEY, create(), to=proxy)
        assert reason in bytes(result.output).decode("latin-1")


def test_propose_refusals() -> None:
    chain = FlChain()
    task_id = chain.create_task()
    for data, reason in [
        (call_data(PROPOSE, task_id, 1, weights(1), SIZE), "base version 1 is newer than"),
        (call_data(PROPOSE, task_id, 0, bytes(32), SIZE), "weightsHash is the zero hash"),
        (call_data(PROPOSE, task_id, 0, weights(1), 0), "size 0 outside 1..67108864"),
        (
            call_data(PROPOSE, task_id, 0, weights(1), MAX_BLOB_BYTES + 1),
            "size 67108865 outside 1..67108864",
        ),
    ]:
        assert chain.refusal(USER_KEY, data).startswith("FL_REGISTRY: " + reason)


def test_proposals_per_block_are_capped_so_finalization_work_is_bounded() -> None:
    chain = FlChain(inference={"max_requests_per_block": 2})
    task_id = chain.create_task()
    receipts = chain.mine(
        *(chain.fl_tx(USER_KEY, PROPOSE, task_id, 0, weights(n), SIZE) for n in range(3))
    )
    assert [r.succeeded for r in receipts] == [True, True, False]
    assert chain.propose(task_id, 0, 4) == 3  # a new block, a new allowance
    assert chain.task(task_id)[9] == 3


def test_commit_refusals() -> None:
    chain, _, proposal_id, scorers = proposed_chain(max_members=2)
    member, other, third = (m for m, _ in scorers[:3])
    seed = chain.fl_seed(proposal_id)
    hidden = keccak256(b"x")
    stranger = Member(bytes([5]) * 32, bytes([6]) * 32, 1)
    assert "is not a validator" in chain.refusal(
        USER_KEY, call_data(COMMIT, proposal_id, hidden, stranger.proof(seed))
    )
    bad = bytearray(member.proof(seed))
    bad[-1] ^= 1
    assert "invalid proof" in chain.refusal(
        member.account_key, call_data(COMMIT, proposal_id, hidden, bytes(bad))
    )
    # a proof for the inference request with the same id in the same block: another seed
    inference_seed = request_seed(proposal_id, chain.hashes[chain.proposal(proposal_id)[6]])
    assert "invalid proof" in chain.refusal(
        member.account_key, call_data(COMMIT, proposal_id, hidden, member.proof(inference_seed))
    )
    assert chain.refusal(
        member.account_key, call_data(COMMIT, proposal_id, bytes(32), member.proof(seed))
    ) == ("FL_REGISTRY: the zero commitment is reserved for no commitment")
    chain.mine(
        chain.score_commit_tx(member, proposal_id, GOOD),
        chain.score_commit_tx(other, proposal_id, GOOD),
    )
    assert "already committed to 1" in chain.refusal(
        member.account_key, call_data(COMMIT, proposal_id, hidden, member.proof(seed))
    )
    assert chain.refusal(
        third.account_key, call_data(COMMIT, proposal_id, hidden, third.proof(seed))
    ) == ("FL_REGISTRY: proposal 1 has its 2 members")
    chain.until(chain.proposal(proposal_id)[7])  # the last commit height
    assert "takes commits at heights 3..5, this is 6" in chain.refusal(
        third.account_key, call_data(COMMIT, proposal_id, hidden, third.proof(seed))
    )


def test_a_commit_in_the_proposals_own_block_is_refused() -> None:
    chain = FlChain()
    task_id = chain.create_task()
    member = chain.members[0]
    receipts = chain.mine(
        chain.fl_tx(USER_KEY, PROPOSE, task_id, 0, weights(1), SIZE),
        chain.fl_tx(member.account_key, COMMIT, 1, keccak256(b"x"), bytes(80)),
    )
    assert receipts[0].succeeded and not receipts[1].succeeded
    assert chain.proposal(1)[10] == 0


def test_a_validator_outside_the_committee_cannot_commit() -> None:
    chain = FlChain()
    task_id = chain.create_task(fraction=1_000)  # k = 1 unit of 400
    for n in range(20):
        proposal_id = chain.propose(task_id, 0, n)
        drawn = {m.address for m, _ in chain.scorers(proposal_id)}
        outsiders = [m for m in chain.members if m.address not in drawn]
        if outsiders:
            break
    outsider = outsiders[0]
    proof = outsider.proof(chain.fl_seed(proposal_id))
    assert "is not in the committee of" in chain.refusal(
        outsider.account_key, call_data(COMMIT, proposal_id, keccak256(b"x"), proof)
    )


def test_reveal_refusals() -> None:
    chain, _, proposal_id, scorers = proposed_chain()
    member, copier, outsider = (m for m, _ in scorers[:3])
    copied = commitment(score_word(GOOD), member.address, salt(member, proposal_id))
    chain.mine(
        chain.score_commit_tx(member, proposal_id, GOOD),
        chain.score_commit_tx(copier, proposal_id, GOOD, hidden=copied),
    )
    mine = call_data(REVEAL, proposal_id, GOOD, salt(member, proposal_id))
    # while commits are open nobody may reveal, so nobody can copy a revealed score
    assert "takes reveals at heights 6..8, this is 4" in chain.refusal(member.account_key, mine)
    chain.until(chain.proposal(proposal_id)[7])
    assert "did not commit to 1" in chain.refusal(outsider.account_key, mine)
    assert chain.refusal(
        member.account_key, call_data(REVEAL, proposal_id, GOOD + 1, salt(member, proposal_id))
    ) == ("FL_REGISTRY: reveal does not match the commitment")
    assert chain.refusal(
        member.account_key,
        call_data(REVEAL, proposal_id, SCORE_SCALE + 1, salt(member, proposal_id)),
    ) == ("FL_REGISTRY: score 1000001 outside 0..1000000")
    chain.mine(chain.score_reveal_tx(member, proposal_id, GOOD))
    assert "already revealed for 1" in chain.refusal(member.account_key, mine)
    # the copier learned the score and the salt, and still cannot open a commitment bound to
    # another member's address
    assert chain.refusal(copier.account_key, mine) == (
        "FL_REGISTRY: reveal does not match the commitment"
    )
    chain.until(chain.deadline(proposal_id))
    assert "takes reveals at heights 6..8, this is 9" in chain.refusal(
        copier.account_key, call_data(REVEAL, proposal_id, GOOD, salt(copier, proposal_id))
    )


def test_attest_refusals() -> None:
    chain, task_id, _, scorers, silent = accepted_chain()
    voter = next(m for m, _ in scorers if m is not silent)
    global_hash = keccak256(b"global 1")
    for key, data, reason in [
        (voter.account_key, call_data(ATTEST, task_id, 0, global_hash), "version 0 is the"),
        (voter.account_key, call_data(ATTEST, task_id, 2, global_hash), "task 1 has no version 2"),
        (voter.account_key, call_data(ATTEST, 7, 1, global_hash), "no task 7"),
        (voter.account_key, call_data(ATTEST, task_id, 1, bytes(32)), "globalHash is the zero"),
        (silent.account_key, call_data(ATTEST, task_id, 1, global_hash), "revealed no score"),
        (USER_KEY, call_data(ATTEST, task_id, 1, global_hash), "revealed no score"),
        (voter.account_key, call_data("getVersion(uint256,uint256)", 1, 2), "task 1 has no"),
    ]:
        refused = chain.refusal(key, data)
        assert refused.startswith("FL_REGISTRY: ") and reason in refused
    chain.mine(chain.fl_tx(voter.account_key, ATTEST, task_id, 1, global_hash))
    assert "already attested version 1 of task 1" in chain.refusal(
        voter.account_key, call_data(ATTEST, task_id, 1, keccak256(b"changed my mind"))
    )
    finalized = chain.version(task_id, 1)[7]
    chain.until(finalized + ATTEST_BLOCKS)
    late = next(m for m, _ in scorers if m not in (silent, voter))
    assert f"takes attestations at heights {finalized + 1}..{finalized + ATTEST_BLOCKS}" in (
        chain.refusal(late.account_key, call_data(ATTEST, task_id, 1, global_hash))
    )


# --- what the node and contracts see ----------------------------------------------------------


def test_decode_fl_event_ignores_other_logs() -> None:
    chain = FlChain()
    receipt = chain.send(USER_KEY, CREATE, "m", INITIAL, SIZE, 4, 1, 4, 1)
    (log,) = receipt.logs
    assert decode_fl_event(log) is not None
    assert decode_fl_event(replace(log, address=bytes(20))) is None
    assert decode_fl_event(replace(log, topics=(keccak256(b"Other()"),))) is None
    assert decode_fl_event(replace(log, topics=log.topics[:2])) is None


def _canonical(params: str) -> str:
    types = []
    for param in filter(None, (p.strip() for p in params.split(","))):
        types.append(param.split()[0])
    return ",".join(types)


def test_the_solidity_interface_declares_what_the_precompile_implements() -> None:
    source = (CONTRACTS / "IFLRegistry.sol").read_text()
    source = re.sub(r"//[^\n]*", "", source)
    functions = {
        f"{name}({_canonical(params)})"
        for name, params in re.findall(r"function\s+(\w+)\s*\(([^)]*)\)", source)
    }
    assert functions == {f.signature for f in FUNCTIONS}
    declared = {
        f"{name}({_canonical(params)})"
        for name, params in re.findall(r"event\s+(\w+)\s*\(([^)]*)\)", source)
    }
    assert declared == {
        TASK_CREATED,
        PROPOSED,
        SCORE_COMMITTED,
        SCORE_REVEALED,
        ATTESTED,
        VERSION_ATTESTED,
    }
    assert "0x0000000000000000000000000000000000000b04" in source.lower()


# --- gas --------------------------------------------------------------------------------------


def test_gas_of_each_function() -> None:
    """Measured gas (the receipts' gasUsed, 21,000 and call data included); the figures the
    README and the report quote come from here (`pytest -s` prints them)."""
    chain = FlChain()
    gas: dict[str, int] = {}
    args = ("digits-mlp", INITIAL, SIZE, 4, 125_000, 4, 550_000)
    gas["createTask (first: creates the account)"] = chain.send(USER_KEY, CREATE, *args).gas_used
    gas["createTask"] = chain.send(USER_KEY, CREATE, *args).gas_used
    gas["propose"] = chain.send(USER_KEY, PROPOSE, 1, 0, weights(1), SIZE).gas_used
    scorers = chain.scorers(1)
    commits = chain.mine(*(chain.score_commit_tx(m, 1, GOOD) for m, _ in scorers))
    gas["commitScore (max of 4)"] = max(r.gas_used for r in commits)
    chain.until(chain.proposal(1)[7])
    reveals = chain.mine(*(chain.score_reveal_tx(m, 1, GOOD) for m, _ in scorers))
    gas["revealScore (max of 4)"] = max(r.gas_used for r in reveals)
    chain.until(chain.deadline(1))
    global_hash = keccak256(b"global")
    attests = chain.mine(
        *(chain.fl_tx(m.account_key, ATTEST, 1, 1, global_hash) for m, _ in scorers[:3])
    )
    assert all(r.succeeded for r in attests)
    finals = [r for r in attests if len(r.logs) == 2]
    gas["attestVersion"] = attests[0].gas_used
    gas["attestVersion (making it final)"] = finals[0].gas_used
    for name, signature, view_args in [
        ("getTask", "getTask(uint256)", (1,)),
        ("getVersion", "getVersion(uint256,uint256)", (1, 1)),
        ("getProposal", "getProposal(uint256)", (1,)),
    ]:
        gas[name] = chain.dry_run(
            USER_KEY, call_data(signature, *view_args), to=FL
        ).receipt.gas_used
    for name, used in gas.items():
        print(f"{name:42} {used:>9,}")
    assert gas["createTask (first: creates the account)"] - gas["createTask"] >= 25_000
    assert 100_000 < gas["commitScore (max of 4)"] < 200_000  # VRF + sortition + ~4 fresh slots
    assert max(gas.values()) < 250_000
