"""A chain of real blocks (vm/transition.py build_block) with validators that hold real account
and VRF keys, for driving the INFERENCE precompile through whole requests."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from eth_abi import decode, encode

from brainchain.crypto import ecvrf
from brainchain.crypto.keccak import keccak256
from brainchain.crypto.secp256k1 import private_key_to_address
from brainchain.errors import ExecutionReverted
from brainchain.inference import commitment, request_seed
from brainchain.randomness import prove_randomness, randomness_from_proof
from brainchain.sortition import selected_units
from brainchain.state.state import (
    State,
    begin_transaction,
    get_account,
    rollback_transaction,
)
from brainchain.types.block import Header
from brainchain.types.receipt import Receipt
from brainchain.types.transaction import TX_FEE_MARKET, sign_transaction
from genesis.block import build_genesis_block
from genesis.format import Genesis, GenesisValidator, validator_set_hash
from genesis.models import shipped_model
from vm.abi import selector
from vm.environment import ModelRunner
from vm.precompiles.addresses import INFERENCE_ADDRESS
from vm.precompiles.inference import GET_REQUEST_TYPES
from vm.transition import (
    TransactionResult,
    build_block,
    child_environment,
    run_transaction,
)

CHAIN_ID = 1337
MODEL = shipped_model("tiny-gptj")
USER_KEY = bytes([7]) * 32
USER = private_key_to_address(USER_KEY)
ETHER = 10**18
GAS_PRICE = 10**10


@dataclass(frozen=True)
class Member:
    """A validator: its account key signs commits and reveals, its VRF key proves selection."""

    account_key: bytes
    vrf_key: bytes
    stake: int

    @property
    def address(self) -> bytes:
        return private_key_to_address(self.account_key)

    def weight(self, seed: bytes, total_stake: int, k: int) -> int:
        return selected_units(ecvrf.proof_to_hash(self.proof(seed)), self.stake, total_stake, k)

    def proof(self, seed: bytes) -> bytes:
        return ecvrf.prove(self.vrf_key, seed)


def call_data(signature: str, *args: Any) -> bytes:
    types = signature[signature.index("(") + 1 : -1].split(",") if "()" not in signature else []
    return selector(signature) + encode(types, list(args))


class InferenceChain:
    """Genesis, then one block per `mine`, with nonces tracked per key."""

    def __init__(
        self,
        *,
        validators: int = 4,
        stake: int = 100,
        inference: dict[str, Any] | None = None,
        seed: int = 1,
        extra_alloc: dict[bytes, int] | None = None,
    ) -> None:
        rng = random.Random(seed)
        self.members = [
            Member(rng.randbytes(32), rng.randbytes(32), stake) for _ in range(validators)
        ]
        self.params = {"commit_blocks": 3, "reveal_blocks": 3, **(inference or {})}
        alloc = {m.address: 100 * ETHER for m in self.members}
        alloc[USER] = 1000 * ETHER
        alloc.update(extra_alloc or {})
        self.genesis = Genesis(
            chain_id=CHAIN_ID,
            timestamp=0,
            gas_limit=30_000_000,
            base_fee=GAS_PRICE // 2,
            validators=tuple(
                GenesisValidator(
                    f"v{i}", m.address, bytes(32), ecvrf.public_key(m.vrf_key), m.stake
                )
                for i, m in enumerate(self.members)
            ),
            alloc=tuple(sorted(alloc.items())),
            brain={"inference": self.params, "models": [MODEL.to_json()]},
        )
        self.k = self.genesis.inference["committee_size"]
        self.state = State({})
        block, _ = build_genesis_block(self.genesis, self.state)
        self.head: Header = block.header
        self.hashes = [self.head.hash]
        self.nonces: dict[bytes, int] = {}
        self.model_runner: ModelRunner | None = None

    # --- transactions ---------------------------------------------------------------------

    def tx(
        self,
        key: bytes,
        data: bytes,
        *,
        value: int = 0,
        gas: int = 2_000_000,
        to: bytes = INFERENCE_ADDRESS,
    ) -> Any:
        sender = private_key_to_address(key)
        nonce = self.nonces.get(sender, 0)
        self.nonces[sender] = nonce + 1
        return sign_transaction(
            private_key=key,
            tx_type=TX_FEE_MARKET,
            chain_id=CHAIN_ID,
            nonce=nonce,
            gas=gas,
            to=to,
            value=value,
            data=data,
            max_fee_per_gas=GAS_PRICE,
            max_priority_fee_per_gas=1,
        )

    def next_proof(self) -> bytes:
        """The proposer's (member 0's) randomness proof for the next block."""
        return prove_randomness(self.members[0].vrf_key, self.head)

    def mine(self, *txs: Any) -> list[Receipt]:
        """Build the next block from `txs` (all must be includable); return their receipts."""
        built = build_block(
            self.state,
            self.head,
            txs,
            proposer=self.members[0].address,
            timestamp=self.head.timestamp + 1,
            validators_hash=validator_set_hash(self.genesis.validators),
            randomness_proof=self.next_proof(),
            block_hashes=self.hashes[-256:],
            model_runner=self.model_runner,
        )
        assert not built.rejected, built.rejected
        self.head = built.block.header
        self.hashes.append(self.head.hash)
        return list(built.receipts)

    def dry_run(
        self,
        key: bytes,
        data: bytes,
        *,
        value: int = 0,
        to: bytes = INFERENCE_ADDRESS,
        gas: int = 2_000_000,
    ) -> TransactionResult:
        """Run a transaction in the next block's environment and undo it (as eth_call does)."""
        env = child_environment(
            self.head,
            proposer=self.members[0].address,
            timestamp=self.head.timestamp + 1,
            randomness=randomness_from_proof(self.next_proof()),
            model_runner=self.model_runner,
        )
        tx = self.tx(key, data, value=value, to=to, gas=gas)
        sender = private_key_to_address(key)
        begin_transaction(self.state)
        try:
            return run_transaction(self.state, env, tx, 0, self.hashes[-256:])
        finally:
            rollback_transaction(self.state)
            self.nonces[sender] -= 1

    def reason(self, key: bytes, data: bytes, **kwargs: Any) -> str:
        result = self.dry_run(key, data, **kwargs)
        assert result.error is not None, "the call succeeded"
        text = ExecutionReverted(result.output).reason()
        assert text is not None, result.output.hex()
        return text

    def view(
        self, signature: str, types: list[str], *args: Any, to: bytes = INFERENCE_ADDRESS
    ) -> tuple[Any, ...]:
        result = self.dry_run(USER_KEY, call_data(signature, *args), to=to)
        assert result.error is None, ExecutionReverted(result.output).reason()
        return tuple(decode(types, result.output))

    # --- inference ------------------------------------------------------------------------

    def request(
        self,
        prompt: bytes = b"hello",
        max_tokens: int = 8,
        callback_gas: int = 0,
        key: bytes = USER_KEY,
        fee: int | None = None,
        to: bytes = INFERENCE_ADDRESS,
        data: bytes | None = None,
    ) -> int:
        """Mine a request; return its id."""
        value = MODEL.price_per_token * max_tokens if fee is None else fee
        value += callback_gas * self.head.base_fee * 4  # covers the deposit at any next base fee
        data = data or request_call(prompt, max_tokens, callback_gas)
        (receipt,) = self.mine(self.tx(key, data, value=value, to=to))
        assert receipt.succeeded
        return self.last_request_id()

    def last_request_id(self) -> int:
        from vm.precompiles.inference_state import StateSlots, load_counter

        return load_counter(StateSlots(self.state))[0]

    def included_at(self, request_id: int) -> int:
        return self.view("getRequest(uint256)", REQUEST_TYPES, request_id)[3]

    def seed(self, request_id: int) -> bytes:
        return request_seed(request_id, self.hashes[self.included_at(request_id)])

    def committee(self, request_id: int) -> list[tuple[Member, int]]:
        seed = self.seed(request_id)
        total = sum(m.stake for m in self.members)
        weights = [(m, m.weight(seed, total, self.k)) for m in self.members]
        return [(m, w) for m, w in weights if w]

    def commit_tx(
        self,
        member: Member,
        request_id: int,
        output: bytes,
        salt: bytes,
        hidden: bytes | None = None,
    ) -> Any:
        hidden = hidden or commitment(output, member.address, salt)
        proof = member.proof(self.seed(request_id))
        data = call_data("commit(uint256,bytes32,bytes)", request_id, hidden, proof)
        return self.tx(member.account_key, data)

    def reveal_tx(
        self, member: Member, request_id: int, output: bytes, salt: bytes, gas: int = 2_000_000
    ) -> Any:
        data = call_data("reveal(uint256,bytes,bytes32)", request_id, output, salt)
        return self.tx(member.account_key, data, gas=gas)

    def until(self, height: int) -> None:
        while self.head.height < height:
            self.mine()

    def balance(self, address: bytes) -> int:
        return get_account(self.state, address).balance

    def result(self, request_id: int) -> tuple[int, bytes]:
        status, output = self.view("getResult(uint256)", ["uint256", "bytes"], request_id)
        return status, output

    def bond(self, member: Member) -> tuple[int, int]:
        bond, pending = self.view("bondOf(address)", ["uint256", "uint256"], member.address)
        return bond, pending


REQUEST_TYPES = GET_REQUEST_TYPES


def request_call(
    prompt: bytes, max_tokens: int, callback_gas: int = 0, model: str = MODEL.id
) -> bytes:
    return call_data(
        "request(string,bytes,uint256,uint256)", model, prompt, max_tokens, callback_gas
    )


def salt_for(member: Member, request_id: int) -> bytes:
    return keccak256(member.account_key + request_id.to_bytes(32, "big"))
