"""A chain of real blocks (tests/vm/inference_chain.py) driving FL_REGISTRY: tasks, proposals,
committees that commit and reveal scores with real VRF proofs, attestations, and refusals
checked against the whole state."""

from __future__ import annotations

from typing import Any

from brainchain.crypto.keccak import keccak256
from brainchain.crypto.secp256k1 import private_key_to_address
from brainchain.errors import ExecutionReverted
from brainchain.fl import (
    DEFAULT_COMMITTEE_FRACTION,
    DEFAULT_STALENESS,
    DEFAULT_THRESHOLD,
    DEFAULT_WINDOW,
    proposal_seed,
    score_word,
)
from brainchain.inference import commitment
from brainchain.randomness import randomness_from_proof
from brainchain.state.state import (
    begin_transaction,
    destroy_account,
    rollback_transaction,
    state_root,
)
from brainchain.types.receipt import Receipt
from tests.vm.inference_chain import USER_KEY, InferenceChain, Member, call_data
from vm.precompiles.addresses import FL_REGISTRY_ADDRESS
from vm.precompiles.fl_registry import GET_PROPOSAL_TYPES, GET_TASK_TYPES, GET_VERSION_TYPES
from vm.precompiles.fl_state import LAST_TASK_SLOT
from vm.precompiles.inference_state import StateSlots, load_counter
from vm.transition import child_environment, run_transaction

FL = FL_REGISTRY_ADDRESS
CREATE = "createTask(string,bytes32,uint256,uint256,uint256,uint256,uint256)"
PROPOSE = "propose(uint256,uint256,bytes32,uint256)"
COMMIT = "commitScore(uint256,bytes32,bytes)"
REVEAL = "revealScore(uint256,uint256,bytes32)"
ATTEST = "attestVersion(uint256,uint256,bytes32)"
INITIAL = keccak256(b"initial weights")
SIZE = 70_000  # about the digits MLP's blob


def weights(n: int) -> bytes:
    """A stand-in for the keccak of the n-th proposed weights blob."""
    return keccak256(b"local weights %d" % n)


def salt(member: Member, proposal_id: int) -> bytes:
    return keccak256(b"fl" + member.account_key + proposal_id.to_bytes(32, "big"))


class FlChain(InferenceChain):
    """InferenceChain plus FL_REGISTRY's calls; INFERENCE's windows apply (C = 3, R = 3)."""

    def fl_tx(self, key: bytes, signature: str, *args: Any, gas: int = 2_000_000) -> Any:
        return self.tx(key, call_data(signature, *args), to=FL, gas=gas)

    def send(self, key: bytes, signature: str, *args: Any) -> Receipt:
        """Mine one FL_REGISTRY call that must succeed; return its receipt."""
        (receipt,) = self.mine(self.fl_tx(key, signature, *args))
        if not receipt.succeeded:
            raise AssertionError(self.reason(key, call_data(signature, *args), to=FL))
        return receipt

    def create_task(
        self,
        model: str = "digits-mlp",
        *,
        window: int = DEFAULT_WINDOW,
        threshold: int = DEFAULT_THRESHOLD,
        staleness: int = DEFAULT_STALENESS,
        fraction: int = DEFAULT_COMMITTEE_FRACTION,
    ) -> int:
        self.send(USER_KEY, CREATE, model, INITIAL, SIZE, window, threshold, staleness, fraction)
        return StateSlots(self.state, FL_REGISTRY_ADDRESS).load(LAST_TASK_SLOT)

    def propose(self, task_id: int, base: int, n: int = 1, key: bytes = USER_KEY) -> int:
        self.send(key, PROPOSE, task_id, base, weights(n), SIZE)
        return load_counter(StateSlots(self.state, FL_REGISTRY_ADDRESS))[0]

    # --- views ------------------------------------------------------------------------------

    def task(self, task_id: int) -> tuple[Any, ...]:
        return self.view("getTask(uint256)", GET_TASK_TYPES, task_id, to=FL)

    def version(self, task_id: int, version: int) -> tuple[Any, ...]:
        return self.view("getVersion(uint256,uint256)", GET_VERSION_TYPES, task_id, version, to=FL)

    def proposal(self, proposal_id: int) -> tuple[Any, ...]:
        return self.view("getProposal(uint256)", GET_PROPOSAL_TYPES, proposal_id, to=FL)

    def deadline(self, proposal_id: int) -> int:
        return int(self.proposal(proposal_id)[8])

    # --- the committee ----------------------------------------------------------------------

    def fl_seed(self, proposal_id: int) -> bytes:
        return proposal_seed(proposal_id, self.hashes[self.proposal(proposal_id)[6]])

    def scorers(self, proposal_id: int) -> list[tuple[Member, int]]:
        """The members its VRF draws for the proposal, with their weights (the task's k)."""
        k = self.task(self.proposal(proposal_id)[0])[8]
        seed = self.fl_seed(proposal_id)
        total = sum(m.stake for m in self.members)
        drawn = [(m, m.weight(seed, total, k)) for m in self.members]
        return [(m, w) for m, w in drawn if w]

    def score_commit_tx(
        self, member: Member, proposal_id: int, score: int, hidden: bytes | None = None
    ) -> Any:
        hidden = hidden or commitment(score_word(score), member.address, salt(member, proposal_id))
        proof = member.proof(self.fl_seed(proposal_id))
        return self.fl_tx(member.account_key, COMMIT, proposal_id, hidden, proof)

    def score_reveal_tx(self, member: Member, proposal_id: int, score: int) -> Any:
        return self.fl_tx(member.account_key, REVEAL, proposal_id, score, salt(member, proposal_id))

    def score(self, proposal_id: int, scores: dict[bytes, int | None]) -> None:
        """Commit in the block after the proposal's, reveal once commits close, and mine to the
        deadline, when it is finalized; `scores` maps a member's address to its score, None for
        a member that commits and never reveals."""
        by_address = {m.address: m for m in self.members}
        receipts = self.mine(
            *(self.score_commit_tx(by_address[a], proposal_id, s or 0) for a, s in scores.items())
        )
        assert all(r.succeeded for r in receipts)
        included = self.proposal(proposal_id)[6]
        self.until(included + self.params["commit_blocks"])
        receipts = self.mine(
            *(
                self.score_reveal_tx(by_address[a], proposal_id, s)
                for a, s in scores.items()
                if s is not None
            )
        )
        assert all(r.succeeded for r in receipts)
        self.until(self.deadline(proposal_id))

    # --- refusals ---------------------------------------------------------------------------

    def refusal(self, key: bytes, data: bytes, **kwargs: Any) -> str:
        """Run a call that must fail in the next block's environment and undo it; check that it
        changed nothing but its sender's nonce and balance and the proposer's tip; return its
        revert reason."""
        sender = private_key_to_address(key)
        before = self._root_without(sender)
        env = child_environment(
            self.head,
            proposer=self.members[0].address,
            timestamp=self.head.timestamp + 1,
            randomness=randomness_from_proof(self.next_proof()),
        )
        tx = self.tx(key, data, to=kwargs.pop("to", FL), **kwargs)
        begin_transaction(self.state)
        try:
            result = run_transaction(self.state, env, tx, 0, self.hashes[-256:])
            after = self._root_without(sender)
        finally:
            rollback_transaction(self.state)
            self.nonces[sender] -= 1
        assert result.error is not None, "the call succeeded"
        assert after == before, "a refused call changed the state"
        reason = ExecutionReverted(result.output).reason()
        assert reason is not None, result.output.hex()
        return reason

    def _root_without(self, sender: bytes) -> bytes:
        """The state root with the sender's and the proposer's accounts left out."""
        begin_transaction(self.state)
        try:
            destroy_account(self.state, sender)
            destroy_account(self.state, self.members[0].address)
            return state_root(self.state)
        finally:
            rollback_transaction(self.state)
