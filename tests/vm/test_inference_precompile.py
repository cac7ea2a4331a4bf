"""INFERENCE (0x…0b03) driven through whole requests in real blocks: honest committees, liars,
silent and copying members, expiry, callbacks, bonds, and every refusal with its reason."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from eth_abi import decode

from brainchain.crypto.keccak import keccak256
from brainchain.inference import Status
from brainchain.state.account import Account
from brainchain.state.state import get_account, get_storage, set_account, set_code
from tests.vm.inference_chain import (
    ETHER,
    MODEL,
    REQUEST_TYPES,
    USER,
    USER_KEY,
    InferenceChain,
    Member,
    call_data,
    request_call,
    salt_for,
)
from vm.abi import selector
from vm.precompiles.addresses import INFERENCE_ADDRESS
from vm.precompiles.inference import CALLBACK
from vm.precompiles.inference_state import bond_slot

OUTPUT = b"honest!!"
CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
# k = 100 of W = 400: every validator serves with ~25 units, so tests do not depend on luck.
SURE = {"committee_size": 100, "reveal_blocks": 5}


def storage_snapshot(chain: InferenceChain) -> tuple[int, bytes]:
    account = get_account(chain.state, INFERENCE_ADDRESS)
    return account.balance, account.storage_root


def run_honest_commits(
    chain: InferenceChain, request_id: int, output: bytes = OUTPUT
) -> list[Member]:
    committee = [m for m, _ in chain.committee(request_id)]
    receipts = chain.mine(
        *(chain.commit_tx(m, request_id, output, salt_for(m, request_id)) for m in committee)
    )
    assert all(r.succeeded for r in receipts)
    return committee


def open_reveals(chain: InferenceChain, request_id: int) -> None:
    included = chain.included_at(request_id)
    chain.until(included + chain.params["commit_blocks"])


def test_honest_request_finalizes_and_settles_the_fee_by_weight() -> None:
    chain = InferenceChain(inference=SURE)
    request_id = chain.request(max_tokens=8)
    assert request_id == 1
    committee = run_honest_commits(chain, request_id)
    assert len(committee) == 4
    weights = dict((m.address, w) for m, w in chain.committee(request_id))
    (_, _, status, _, _, deadline, _, fee, committed, members) = chain.view(
        "getRequest(uint256)", REQUEST_TYPES, request_id
    )
    assert status == Status.PENDING and committed == sum(weights.values()) and members == 4
    assert fee == MODEL.price_per_token * 8
    open_reveals(chain, request_id)
    finalized_at = None
    for m in committee:
        (receipt,) = chain.mine(chain.reveal_tx(m, request_id, OUTPUT, salt_for(m, request_id)))
        assert receipt.succeeded
        status, output = chain.result(request_id)
        if status == Status.FINALIZED and finalized_at is None:
            finalized_at = chain.head.height
            assert output == OUTPUT
            topics = [log.topics[0] for log in receipt.logs]
            assert keccak256(b"InferenceFinalized(uint256,bytes32,bytes,uint256)") in topics
    assert finalized_at is not None
    chain.until(deadline)
    assert chain.result(request_id) == (Status.SETTLED, OUTPUT)
    for m in committee:
        assert chain.bond(m) == (chain.genesis.inference["bond"], 0)


def test_fee_shares_reach_the_members_exactly() -> None:
    chain = InferenceChain(inference=SURE)
    request_id = chain.request(max_tokens=8)
    committee = run_honest_commits(chain, request_id)
    open_reveals(chain, request_id)
    chain.mine(
        *(chain.reveal_tx(m, request_id, OUTPUT, salt_for(m, request_id)) for m in committee)
    )
    deadline = chain.view("getRequest(uint256)", REQUEST_TYPES, request_id)[5]
    chain.until(deadline - 1)
    before = {m.address: chain.balance(m.address) for m in committee}
    user_before = chain.balance(USER)
    chain.mine()  # the deadline block: settlement at its end, no transactions
    weights = dict((m.address, w) for m, w in chain.committee(request_id))
    fee = MODEL.price_per_token * 8
    total = sum(weights.values())
    for m in committee:
        assert chain.balance(m.address) - before[m.address] == fee * weights[m.address] // total
    paid = sum(fee * w // total for w in weights.values())
    assert chain.balance(USER) - user_before == fee - paid
    assert (
        get_account(chain.state, INFERENCE_ADDRESS).balance == 4 * chain.genesis.inference["bond"]
    )


def test_a_liar_is_outvoted_and_penalised() -> None:
    chain = InferenceChain(inference=SURE)
    request_id = chain.request()
    committee = [m for m, _ in chain.committee(request_id)]
    liar = committee[0]
    outputs = {m.address: (b"wrong!!!" if m is liar else OUTPUT) for m in committee}
    chain.mine(
        *(
            chain.commit_tx(m, request_id, outputs[m.address], salt_for(m, request_id))
            for m in committee
        )
    )
    open_reveals(chain, request_id)
    chain.mine(
        *(
            chain.reveal_tx(m, request_id, outputs[m.address], salt_for(m, request_id))
            for m in committee
        )
    )
    assert chain.result(request_id) == (Status.FINALIZED, OUTPUT)
    chain.until(chain.view("getRequest(uint256)", REQUEST_TYPES, request_id)[5])
    bond = chain.genesis.inference["bond"]
    penalty = chain.genesis.inference["penalty"]
    assert chain.bond(liar) == (bond - penalty, 0)
    for m in committee[1:]:
        assert chain.bond(m) == (bond, 0)
    # the penalty is burned: the precompile holds the bonds that are left
    assert get_account(chain.state, INFERENCE_ADDRESS).balance == 4 * bond - penalty


def test_a_silent_member_is_penalised_and_quorum_still_holds() -> None:
    chain = InferenceChain(inference=SURE)
    request_id = chain.request()
    committee = run_honest_commits(chain, request_id)
    silent = committee[-1]
    open_reveals(chain, request_id)
    chain.mine(
        *(chain.reveal_tx(m, request_id, OUTPUT, salt_for(m, request_id)) for m in committee[:-1])
    )
    assert chain.result(request_id) == (Status.FINALIZED, OUTPUT)
    chain.until(chain.view("getRequest(uint256)", REQUEST_TYPES, request_id)[5])
    bond, penalty = chain.genesis.inference["bond"], chain.genesis.inference["penalty"]
    assert chain.bond(silent) == (bond - penalty, 0)
    assert chain.result(request_id)[0] == Status.SETTLED


def test_a_copied_commitment_cannot_be_revealed_and_its_copier_is_penalised() -> None:
    chain = InferenceChain(inference=SURE)
    request_id = chain.request()
    committee = [m for m, _ in chain.committee(request_id)]
    honest, copier = committee[0], committee[1]
    hidden = keccak256(OUTPUT + honest.address + salt_for(honest, request_id))
    chain.mine(
        chain.commit_tx(honest, request_id, OUTPUT, salt_for(honest, request_id)),
        chain.commit_tx(copier, request_id, b"", b"", hidden=hidden),
        *(chain.commit_tx(m, request_id, OUTPUT, salt_for(m, request_id)) for m in committee[2:]),
    )
    open_reveals(chain, request_id)
    chain.mine(chain.reveal_tx(honest, request_id, OUTPUT, salt_for(honest, request_id)))
    # the copier learns the output and salt from the honest reveal, and still cannot open
    data = call_data(
        "reveal(uint256,bytes,bytes32)", request_id, OUTPUT, salt_for(honest, request_id)
    )
    assert (
        chain.reason(copier.account_key, data) == "INFERENCE: reveal does not match the commitment"
    )
    chain.mine(
        *(chain.reveal_tx(m, request_id, OUTPUT, salt_for(m, request_id)) for m in committee[2:])
    )
    chain.until(chain.view("getRequest(uint256)", REQUEST_TYPES, request_id)[5])
    bond, penalty = chain.genesis.inference["bond"], chain.genesis.inference["penalty"]
    assert chain.bond(copier) == (bond - penalty, 0)
    assert chain.result(request_id) == (Status.SETTLED, OUTPUT)


def test_no_quorum_expires_and_refunds_the_requester_whole() -> None:
    chain = InferenceChain(inference=SURE)
    user_before = chain.balance(USER)
    request_id = chain.request(max_tokens=8)
    paid = user_before - chain.balance(USER)
    committee = run_honest_commits(chain, request_id)
    open_reveals(chain, request_id)
    chain.mine(
        chain.reveal_tx(committee[0], request_id, OUTPUT, salt_for(committee[0], request_id))
    )
    deadline = chain.view("getRequest(uint256)", REQUEST_TYPES, request_id)[5]
    chain.until(deadline)
    assert chain.result(request_id) == (Status.EXPIRED, b"")
    # the fee (everything but the request's gas) came back
    fee = MODEL.price_per_token * 8
    assert user_before - chain.balance(USER) == paid - fee
    bond, penalty = chain.genesis.inference["bond"], chain.genesis.inference["penalty"]
    assert chain.bond(committee[0]) == (bond, 0)  # revealed: not faulted without quorum
    for m in committee[1:]:
        assert chain.bond(m) == (bond - penalty, 0)


def test_a_request_nobody_serves_expires_at_its_deadline() -> None:
    chain = InferenceChain(inference=SURE)
    request_id = chain.request()
    chain.until(chain.view("getRequest(uint256)", REQUEST_TYPES, request_id)[5] - 1)
    assert chain.result(request_id)[0] == Status.PENDING
    chain.mine()
    assert chain.result(request_id)[0] == Status.EXPIRED


def compile_consumer() -> bytes:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "vyper",
            "-f",
            "bytecode_runtime",
            str(CONTRACTS / "InferenceConsumer.vy"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return bytes.fromhex(out.removeprefix("0x"))


CONSUMER = bytes([0xC0]) * 20


def consumer_chain() -> InferenceChain:
    chain = InferenceChain(inference=SURE)
    set_account(chain.state, CONSUMER, Account(nonce=1))
    set_code(chain.state, CONSUMER, compile_consumer())
    return chain


def ask(chain: InferenceChain, callback_gas: int) -> int:
    data = call_data("ask(string,bytes,uint256,uint256)", MODEL.id, b"hi", 8, callback_gas)
    return chain.request(data=data, to=CONSUMER, callback_gas=callback_gas)


def test_the_finalizing_reveal_runs_the_consumer_callback_and_is_repaid() -> None:
    chain = consumer_chain()
    request_id = ask(chain, callback_gas=200_000)
    requester = chain.view("getRequest(uint256)", REQUEST_TYPES, request_id)[0]
    assert requester.lower() == "0x" + CONSUMER.hex()
    committee = run_honest_commits(chain, request_id)
    open_reveals(chain, request_id)
    receipts = chain.mine(
        *(chain.reveal_tx(m, request_id, OUTPUT, salt_for(m, request_id)) for m in committee)
    )
    callback_logs = [
        log
        for r in receipts
        for log in r.logs
        if log.topics[0] == keccak256(b"InferenceCallback(uint256,bool,uint256)")
    ]
    assert len(callback_logs) == 1
    success, used = decode(["bool", "uint256"], callback_logs[0].data)
    assert success and 0 < used < 200_000
    answered = [log for r in receipts for log in r.logs if log.address == CONSUMER]
    assert answered, "the consumer logged Answered"
    answer = chain.view("answers(uint256)", ["bytes"], request_id, to=CONSUMER)
    assert answer == (OUTPUT,)


def test_a_failing_callback_does_not_undo_finalization() -> None:
    chain = consumer_chain()
    request_id = ask(chain, callback_gas=3_000)  # far too little for the consumer's SSTOREs
    committee = run_honest_commits(chain, request_id)
    open_reveals(chain, request_id)
    receipts = chain.mine(
        *(chain.reveal_tx(m, request_id, OUTPUT, salt_for(m, request_id)) for m in committee)
    )
    assert all(r.succeeded for r in receipts)
    assert chain.result(request_id) == (Status.FINALIZED, OUTPUT)
    callback = [
        log
        for r in receipts
        for log in r.logs
        if log.topics[0] == keccak256(b"InferenceCallback(uint256,bool,uint256)")
    ]
    assert decode(["bool", "uint256"], callback[0].data)[0] is False
    assert chain.view("answers(uint256)", ["bytes"], request_id, to=CONSUMER) == (b"",)


def test_a_reveal_without_gas_for_the_callback_is_refused_and_changes_nothing() -> None:
    chain = consumer_chain()
    request_id = ask(chain, callback_gas=500_000)
    committee = run_honest_commits(chain, request_id)
    open_reveals(chain, request_id)
    # all but the last reveal: no quorum yet
    weights = dict((m.address, w) for m, w in chain.committee(request_id))
    revealed = 0
    for m in committee:
        if 2 * (revealed + weights[m.address]) > chain.k:
            last = m
            break
        chain.mine(chain.reveal_tx(m, request_id, OUTPUT, salt_for(m, request_id)))
        revealed += weights[m.address]
    data = call_data(
        "reveal(uint256,bytes,bytes32)", request_id, OUTPUT, salt_for(last, request_id)
    )
    reason = chain.reason(last.account_key, data, gas=300_000)
    assert "needs" in reason and "callback" in reason
    assert chain.result(request_id)[0] == Status.PENDING


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "value", "reason"),
    [
        (request_call(b"hi", 8, model="nope"), 10**18, "INFERENCE: unknown model 'nope'"),
        (request_call(b"", 8), 10**18, "INFERENCE: empty input"),
        (request_call(b"x" * 257, 8), 10**18, "INFERENCE: input of 257 bytes exceeds 256"),
        (request_call(b"hi", 65), 10**18, "INFERENCE: maxTokens 65 outside 1..64 for tiny-gptj"),
        (request_call(b"hi", 0), 10**18, "INFERENCE: maxTokens 0 outside 1..64 for tiny-gptj"),
        (
            request_call(b"hi", 8, 2_000_000),
            10**18,
            "INFERENCE: callbackGas 2000000 exceeds 1000000",
        ),
        (
            request_call(b"hi", 8),
            MODEL.price_per_token * 8 - 1,
            "INFERENCE: fee 7999999999999 below 8000000000000",
        ),
        (b"\x12\x34\x56\x78", 0, "INFERENCE: unknown function selector 0x12345678"),
        (b"\x12", 0, "INFERENCE: call data has no function selector"),
        (
            selector("request(string,bytes,uint256,uint256)") + b"\x00" * 5,
            10**18,
            "INFERENCE: call data does not match",
        ),
        (
            call_data("getResult(uint256)", 1),
            5,
            "INFERENCE: getResult(uint256) does not accept value",
        ),
        (call_data("getResult(uint256)", 99), 0, "INFERENCE: no request 99"),
    ],
)
def test_bad_requests_are_refused_with_a_reason_and_change_nothing(
    data: bytes, value: int, reason: str
) -> None:
    chain = InferenceChain()
    before = storage_snapshot(chain)
    assert chain.reason(USER_KEY, data, value=value).startswith(reason)
    assert storage_snapshot(chain) == before


def committed_chain() -> tuple[InferenceChain, int, list[Member]]:
    chain = InferenceChain(inference=SURE)
    request_id = chain.request()
    return chain, request_id, [m for m, _ in chain.committee(request_id)]


def test_commit_refusals() -> None:
    chain, request_id, committee = committed_chain()
    member = committee[0]
    seed = chain.seed(request_id)
    hidden = keccak256(b"x")
    commit = "commit(uint256,bytes32,bytes)"
    # not a validator
    stranger = Member(bytes([5]) * 32, bytes([6]) * 32, 1)
    data = call_data(commit, request_id, hidden, stranger.proof(seed))
    assert "is not a validator" in chain.reason(USER_KEY, data)
    # a proof that does not verify
    bad = bytearray(member.proof(seed))
    bad[-1] ^= 1
    data = call_data(commit, request_id, hidden, bytes(bad))
    assert "invalid proof" in chain.reason(member.account_key, data)
    # a proof over another seed
    data = call_data(commit, request_id, hidden, member.proof(b"other seed"))
    assert "invalid proof" in chain.reason(member.account_key, data)
    # no such request
    data = call_data(commit, 42, hidden, member.proof(seed))
    assert chain.reason(member.account_key, data) == "INFERENCE: no request 42"
    # double commit
    chain.mine(chain.commit_tx(member, request_id, OUTPUT, salt_for(member, request_id)))
    data = call_data(commit, request_id, hidden, member.proof(seed))
    assert "already committed" in chain.reason(member.account_key, data)
    # after the window
    open_reveals(chain, request_id)
    other = committee[1]
    data = call_data(commit, request_id, hidden, other.proof(seed))
    assert "takes commits at heights" in chain.reason(other.account_key, data)


def test_a_commit_in_the_request_block_is_refused() -> None:
    chain = InferenceChain(inference=SURE)
    member = chain.members[0]
    request = chain.tx(USER_KEY, request_call(b"hi", 8), value=ETHER)
    early = chain.tx(
        member.account_key,
        call_data("commit(uint256,bytes32,bytes)", 1, keccak256(b"x"), bytes(80)),
    )
    receipts = chain.mine(request, early)
    assert receipts[0].succeeded and not receipts[1].succeeded


def test_a_validator_outside_the_committee_cannot_commit() -> None:
    chain = InferenceChain(inference={"committee_size": 2})
    for _ in range(20):
        request_id = chain.request()
        selected = {m.address for m, _ in chain.committee(request_id)}
        outsiders = [m for m in chain.members if m.address not in selected]
        if outsiders:
            break
    outsider = outsiders[0]
    data = call_data(
        "commit(uint256,bytes32,bytes)",
        request_id,
        keccak256(b"x"),
        outsider.proof(chain.seed(request_id)),
    )
    assert "is not in the committee" in chain.reason(outsider.account_key, data)


def test_a_member_whose_bond_cannot_cover_the_penalty_cannot_commit() -> None:
    chain, request_id, committee = committed_chain()
    member = committee[0]
    bond = chain.genesis.inference["bond"]
    chain.mine(chain.tx(member.account_key, call_data("withdraw(uint256)", bond)))
    assert chain.bond(member) == (0, 0)
    data = call_data(
        "commit(uint256,bytes32,bytes)",
        request_id,
        keccak256(b"x"),
        member.proof(chain.seed(request_id)),
    )
    assert "cannot cover the penalty" in chain.reason(member.account_key, data)
    chain.mine(chain.tx(member.account_key, call_data("deposit()"), value=bond))
    assert chain.bond(member) == (bond, 0)


def test_a_bond_held_for_pending_commits_cannot_be_withdrawn() -> None:
    chain, request_id, committee = committed_chain()
    member = committee[0]
    chain.mine(chain.commit_tx(member, request_id, OUTPUT, salt_for(member, request_id)))
    bond, penalty = chain.genesis.inference["bond"], chain.genesis.inference["penalty"]
    assert chain.bond(member) == (bond, 1)
    data = call_data("withdraw(uint256)", bond)
    assert "is held for 1 commits" in chain.reason(member.account_key, data)
    before = chain.balance(member.address)
    (receipt,) = chain.mine(
        chain.tx(member.account_key, call_data("withdraw(uint256)", bond - penalty))
    )
    assert receipt.succeeded
    assert chain.balance(member.address) > before
    assert (
        get_storage(chain.state, INFERENCE_ADDRESS, bond_slot(member.address)) == penalty << 64 | 1
    )


def test_reveal_refusals() -> None:
    chain, request_id, committee = committed_chain()
    member, other = committee[0], committee[1]
    salt = salt_for(member, request_id)
    chain.mine(chain.commit_tx(member, request_id, OUTPUT, salt))
    reveal = "reveal(uint256,bytes,bytes32)"
    # during the commit window: nobody may copy a revealed answer while commits are open
    assert "takes reveals at heights" in chain.reason(
        member.account_key, call_data(reveal, request_id, OUTPUT, salt)
    )
    open_reveals(chain, request_id)
    assert "did not commit" in chain.reason(
        other.account_key, call_data(reveal, request_id, OUTPUT, salt)
    )
    assert chain.reason(member.account_key, call_data(reveal, request_id, b"other!!!", salt)) == (
        "INFERENCE: reveal does not match the commitment"
    )
    assert "output longer than 8 tokens" in chain.reason(
        member.account_key, call_data(reveal, request_id, b"x" * 9, salt)
    )
    chain.mine(chain.reveal_tx(member, request_id, OUTPUT, salt))
    assert "already revealed" in chain.reason(
        member.account_key, call_data(reveal, request_id, OUTPUT, salt)
    )
    chain.until(chain.view("getRequest(uint256)", REQUEST_TYPES, request_id)[5])
    other_salt = salt_for(other, request_id)
    assert "takes reveals at heights" in chain.reason(
        other.account_key, call_data(reveal, request_id, OUTPUT, other_salt)
    )


# A contract that forwards its call data to the precompile with DELEGATECALL (0xf4), or with
# STATICCALL (0xfa), and returns what came back:
#   CALLDATASIZE 0 0 CALLDATACOPY | 0 0 CALLDATASIZE 0 PUSH2 0x0b03 GAS <op> |
#   RETURNDATASIZE 0 0 RETURNDATACOPY | RETURNDATASIZE 0 RETURN
def forwarder(op: int) -> bytes:
    return bytes.fromhex(
        "3660006000376000600036600061" + "0b03" + f"5a{op:02x}" + "503d600060003e3d6000f3"
    )


@pytest.mark.parametrize(
    ("op", "reason"),
    [(0xF4, "only callable with CALL or STATICCALL"), (0xFA, "changes state in a static call")],
)
def test_delegatecall_and_static_requests_are_refused(op: int, reason: str) -> None:
    chain = InferenceChain()
    proxy = bytes([0xD0]) * 20
    set_account(chain.state, proxy, Account(nonce=1))
    set_code(chain.state, proxy, forwarder(op))
    result = chain.dry_run(USER_KEY, request_call(b"hi", 8), to=proxy)
    assert result.error is None  # the forwarder returns the precompile's revert data as data
    assert reason in bytes(result.output).decode("latin-1")


def test_getters_answer_in_a_static_call() -> None:
    chain = InferenceChain()
    proxy = bytes([0xD0]) * 20
    set_account(chain.state, proxy, Account(nonce=1))
    set_code(chain.state, proxy, forwarder(0xFA))
    member = chain.members[0]
    result = chain.dry_run(USER_KEY, call_data("bondOf(address)", member.address), to=proxy)
    assert decode(["uint256", "uint256"], result.output) == (chain.genesis.inference["bond"], 0)


def test_callback_selector_is_the_interface_one() -> None:
    assert selector(CALLBACK) == keccak256(b"onInferenceResult(uint256,bytes)")[:4]


def test_many_validators_small_committee_with_real_proofs() -> None:
    """k ≪ N: 100 validators, k = 32. A few dozen serve each request, their real VRF proofs
    verify in the precompile, and an honest committee finalizes."""
    chain = InferenceChain(
        validators=100, stake=100, inference={"committee_size": 32, "max_members": 64}
    )
    finalized = 0
    sizes = []
    for _ in range(3):
        request_id = chain.request()
        committee = [m for m, _ in chain.committee(request_id)]
        sizes.append(len(committee))
        receipts = chain.mine(
            *(chain.commit_tx(m, request_id, OUTPUT, salt_for(m, request_id)) for m in committee)
        )
        assert all(r.succeeded for r in receipts)
        open_reveals(chain, request_id)
        chain.mine(
            *(chain.reveal_tx(m, request_id, OUTPUT, salt_for(m, request_id)) for m in committee)
        )
        finalized += chain.result(request_id)[0] == Status.FINALIZED
    assert all(10 < s < 50 for s in sizes), sizes
    assert finalized == 3


def test_user_cannot_overdraw_via_the_deposit_path() -> None:
    chain = InferenceChain()
    (receipt,) = chain.mine(chain.tx(USER_KEY, call_data("withdraw(uint256)", 1)))
    assert not receipt.succeeded
    assert get_account(chain.state, USER).balance > 0


def test_requests_per_block_are_capped_so_settlement_work_is_bounded() -> None:
    chain = InferenceChain(inference={**SURE, "max_requests_per_block": 2})
    value = MODEL.price_per_token * 8
    receipts = chain.mine(
        *(chain.tx(USER_KEY, request_call(b"hi", 8), value=value) for _ in range(3))
    )
    assert [r.succeeded for r in receipts] == [True, True, False]
    (receipt,) = chain.mine(chain.tx(USER_KEY, request_call(b"hi", 8), value=value))
    assert receipt.succeeded  # a new block, a new allowance
    assert chain.last_request_id() == 3
    chain.until(chain.view("getRequest(uint256)", REQUEST_TYPES, 3)[5])
    assert [chain.result(i)[0] for i in (1, 2, 3)] == [Status.EXPIRED] * 3
