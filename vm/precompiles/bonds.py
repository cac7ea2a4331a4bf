"""Committee bonds: what a validator stakes on revealing what it committed to (DESIGN.md §5, §6).

A validator's bond lives in INFERENCE's account (inference_state.bond_slot: wei and the count
of its commits awaiting settlement, in one word) and backs every commitment it makes, to an
inference output (INFERENCE) or to a score (FL_REGISTRY): one bond, one penalty, one count, so
a member cannot spread one bond's worth of penalties over both. A commit locks the penalty
until its request or proposal settles (`lock_penalty`), settlement unlocks it (`release`), and
a member that committed and then revealed nothing, or for inference an output the quorum did
not reveal, loses the penalty (`penalise`): burned, so that no member gains by another's fault.

`slots` is always INFERENCE's storage: metered when a transaction commits (FL_REGISTRY names
the account: `MeteredSlots(evm, INFERENCE_ADDRESS)`), the protocol's own at settlement.
"""

from __future__ import annotations

from brainchain.crypto.address import to_checksum_address
from brainchain.state.state import State, get_account, set_account_balance
from vm.frame import Evm
from vm.precompiles.addresses import INFERENCE_ADDRESS
from vm.precompiles.errors import revert_with_reason
from vm.precompiles.inference_state import PENALTY_SLOT, Slots, load_bond, store_bond


def lock_penalty(evm: Evm, name: str, slots: Slots, member: bytes) -> None:
    """Count one more commit of `member` awaiting settlement; revert with `name`'s reason when
    its bond cannot cover the penalty of all of them."""
    penalty = slots.load(PENALTY_SLOT)
    bond, pending = load_bond(slots, member)
    if bond < penalty * (pending + 1):
        revert_with_reason(
            evm,
            f"{name}: bond {bond} of {to_checksum_address(member)} cannot cover the penalty"
            f" {penalty} of {pending + 1} commits",
        )
    store_bond(slots, member, bond, pending + 1)


def release(slots: Slots, member: bytes) -> None:
    """One of `member`'s commits has settled: its penalty is no longer held."""
    bond, pending = load_bond(slots, member)
    store_bond(slots, member, bond, pending - 1)


def penalise(state: State, slots: Slots, member: bytes) -> None:
    """Take the penalty (or what is left of the bond) from `member` and burn it."""
    bond, pending = load_bond(slots, member)
    taken = min(slots.load(PENALTY_SLOT), bond)
    if taken:
        store_bond(slots, member, bond - taken, pending)
        balance = get_account(state, INFERENCE_ADDRESS).balance
        set_account_balance(state, INFERENCE_ADDRESS, balance - taken)
