"""Run hand-assembled code as the single contract of a fresh state, through a real transaction."""

from __future__ import annotations

from brainchain.crypto.secp256k1 import private_key_to_address
from brainchain.state.account import Account
from brainchain.state.state import State, set_account, set_code
from brainchain.types.transaction import TX_FEE_MARKET, sign_transaction
from vm.environment import BlockEnvironment
from vm.schedule import CANCUN
from vm.transition import TransactionResult, run_transaction

KEY = bytes([9]) * 32
SENDER = private_key_to_address(KEY)
CONTRACT = bytes.fromhex("c0" * 20)
ENV = BlockEnvironment(
    chain_id=1337,
    height=10,
    timestamp=1_000,
    proposer=bytes.fromhex("aa" * 20),
    gas_limit=30_000_000,
    base_fee=7,
    randomness=bytes(32),
    schedule=CANCUN,  # the gas figures in these tests are the spec's (tests/vm/test_schedule.py)
)


def fresh_state(code: bytes = b"") -> State:
    state = State({})
    set_account(state, SENDER, Account(balance=10**20))
    if code:
        set_account(state, CONTRACT, Account(nonce=1))
        set_code(state, CONTRACT, code)
    return state


def send(
    state: State,
    *,
    to: bytes | None = CONTRACT,
    data: bytes = b"",
    gas: int = 200_000,
    value: int = 0,
    nonce: int = 0,
    env: BlockEnvironment = ENV,
) -> TransactionResult:
    tx = sign_transaction(
        private_key=KEY,
        tx_type=TX_FEE_MARKET,
        chain_id=1337,
        nonce=nonce,
        gas=gas,
        to=to,
        value=value,
        data=data,
        max_fee_per_gas=100,
        max_priority_fee_per_gas=1,
    )
    return run_transaction(state, env, tx, 0, [])
