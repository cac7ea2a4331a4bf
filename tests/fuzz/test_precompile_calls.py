"""Call data for the BRAIN precompiles, fuzzed: any contract can send them any bytes.

The Solidity ABI decoding (vm/abi.py, eth-abi underneath) raises only AbiError, which each
precompile turns into a revert; a call through a real transaction ends in success, a revert or
an exceptional halt, never in an exception out of block execution, which every node would hit.
ECVRF verification, which takes keys and proofs from call data and block headers, raises only
its two errors.
"""

from __future__ import annotations

import contextlib

import pytest
from eth_abi import encode
from hypothesis import given, settings
from hypothesis import strategies as st

from brainchain.crypto import ecvrf
from brainchain.errors import InvalidVrfKey, InvalidVrfProof
from brainchain.state.state import State, begin_transaction, rollback_transaction
from genesis.block import build_genesis_block
from genesis.devnet import make_devnet_genesis
from tests.fuzz.hostile import mutated
from tests.fuzz.profile import FUZZ
from tests.fuzz.specimens import VALIDATORS
from tests.vm.harness import SENDER, send
from vm.abi import AbiError, decode_values, selector
from vm.exceptions import ExceptionalHalt, Revert
from vm.precompiles import committee, inference, inference_sync, vrf
from vm.precompiles.addresses import (
    COMMITTEE_ADDRESS,
    INFERENCE_ADDRESS,
    INFERENCE_SYNC_ADDRESS,
    VRF_ADDRESS,
)

SIGNATURES = {
    VRF_ADDRESS: [vrf.VERIFY],
    COMMITTEE_ADDRESS: [committee.IS_MEMBER],
    INFERENCE_ADDRESS: [f.signature for f in inference.FUNCTIONS],
    INFERENCE_SYNC_ADDRESS: [f.signature for f in inference_sync.FUNCTIONS],
}
WORD = 32
# Words that, read as an offset or a length, point far past any call data.
HUGE_WORDS = [n.to_bytes(WORD, "big") for n in (2**256 - 1, 2**255, 2**64, 2**32, 0x7FFFFFFF)]


def types_of(signature: str) -> list[str]:
    inner = signature[signature.index("(") + 1 : -1]
    return inner.split(",") if inner else []


def values_for(abi_type: str) -> st.SearchStrategy[object]:
    if abi_type == "address":
        return st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
    if abi_type == "bytes32":
        return st.binary(min_size=32, max_size=32)
    if abi_type == "uint256":
        return st.integers(0, 2**256 - 1)
    if abi_type == "bytes":
        return st.binary(max_size=100)
    assert abi_type == "string", abi_type
    return st.text(max_size=20)


@st.composite
def arguments(draw: st.DrawFn, types: list[str]) -> bytes:
    """Well-encoded arguments, then maybe words overwritten with huge offsets or lengths, bytes
    cut or added, or plain noise."""
    data = bytearray(encode(types, [draw(values_for(t)) for t in types]))
    for _ in range(draw(st.integers(0, 3))):
        edit = draw(st.sampled_from(("huge word", "cut", "append", "flip")))
        at = draw(st.integers(0, max(len(data) // WORD - 1, 0))) * WORD
        if edit == "huge word" and data:
            data[at : at + WORD] = draw(st.sampled_from(HUGE_WORDS))
        elif edit == "cut":
            del data[draw(st.integers(0, len(data))) :]
        elif edit == "append":
            data += draw(st.binary(min_size=1, max_size=64))
        elif edit == "flip" and data:
            data[draw(st.integers(0, len(data) - 1))] ^= 0xFF
    return bytes(data) if draw(st.booleans()) else draw(st.binary(max_size=200))


ALL_TYPES = sorted({tuple(types_of(s)) for sigs in SIGNATURES.values() for s in sigs})


@pytest.mark.parametrize("types", ALL_TYPES, ids=",".join)
@FUZZ
@given(data=st.data())
def test_abi_decoding_returns_values_or_raises_abi_error(
    types: tuple[str, ...], data: st.DataObject
) -> None:
    with contextlib.suppress(AbiError):
        decode_values(list(types), data.draw(arguments(list(types))))


STATE = State({})
build_genesis_block(make_devnet_genesis(VALIDATORS, extra_alloc={SENDER: 10**20}), STATE)


@st.composite
def call_data(draw: st.DrawFn, address: bytes) -> bytes:
    signature = draw(st.sampled_from(SIGNATURES[address]))
    head = draw(st.sampled_from([selector(signature), b"", b"\x00\x00\x00", b"\xff" * 4]))
    return head + draw(arguments(types_of(signature)))


@pytest.mark.parametrize("address", sorted(SIGNATURES), ids=lambda a: a.hex()[-4:])
@settings(FUZZ, max_examples=max(FUZZ.max_examples // 4, 10))
@given(data=st.data())
def test_any_call_to_a_brain_precompile_ends_as_a_call_may(
    address: bytes, data: st.DataObject
) -> None:
    sent = data.draw(call_data(address))
    value = data.draw(st.sampled_from([0, 1]))
    begin_transaction(STATE)
    try:
        result = send(STATE, to=address, data=sent, value=value, gas=2_000_000)
    finally:
        rollback_transaction(STATE)
    assert result.error is None or isinstance(result.error, (Revert, ExceptionalHalt))


EXAMPLES = {"address": "0x" + "11" * 20, "bytes32": bytes(32), "uint256": 1, "bytes": b"abc"}


@pytest.mark.parametrize("address", sorted(SIGNATURES), ids=lambda a: a.hex()[-4:])
def test_a_length_past_any_index_reverts_the_call(address: bytes) -> None:
    """Found by fuzzing: eth-abi raised OverflowError for a `bytes` or `string` length word over
    2**63; it escaped vm/abi.py and the transaction, so a block holding such a call could not
    be executed by any node."""
    for signature in SIGNATURES[address]:
        types = types_of(signature)
        for position in [i for i, t in enumerate(types) if t in ("bytes", "string")]:
            args = bytearray(encode(types, [EXAMPLES.get(t, "m") for t in types]))
            offset = int.from_bytes(args[position * WORD : (position + 1) * WORD], "big")
            args[offset : offset + WORD] = HUGE_WORDS[0]
            begin_transaction(STATE)
            try:
                result = send(STATE, to=address, data=selector(signature) + bytes(args))
            finally:
                rollback_transaction(STATE)
            assert isinstance(result.error, Revert), (signature, result.error)


VRF_SECRET = bytes([0x5A]) * 32
VRF_PUBLIC = ecvrf.public_key(VRF_SECRET)
VRF_PROOF = ecvrf.prove(VRF_SECRET, b"alpha")


@FUZZ
@given(
    public_key=st.one_of(
        st.just(VRF_PUBLIC), mutated([VRF_PUBLIC], bytes(range(256))), st.binary(max_size=40)
    ),
    proof=st.one_of(
        st.just(VRF_PROOF), mutated([VRF_PROOF], bytes(range(256))), st.binary(max_size=100)
    ),
)
def test_vrf_verification_raises_only_its_two_errors(public_key: bytes, proof: bytes) -> None:
    """What the VRF and COMMITTEE precompiles and every header's randomness proof hand to
    ECVRF verification (RFC 9381 §5.3) comes from outside."""
    try:
        beta = ecvrf.verify(public_key, proof, b"alpha")
    except (InvalidVrfKey, InvalidVrfProof):
        return
    assert beta == ecvrf.proof_to_hash(proof)
