# pragma version ^0.4.0
"""Uses BRAIN's VRF and COMMITTEE precompiles through their interface files (DESIGN.md §3).

verify and isMember pass the precompiles' answers (and revert reasons) through; record and
recordMembership also store and log them, in a transaction; tryVerify catches a failing proof
instead of reverting.
"""

import IVrf
import ICommittee

VRF: constant(address) = 0x0000000000000000000000000000000000000B01
COMMITTEE: constant(address) = 0x0000000000000000000000000000000000000B02

lastBeta: public(Bytes[64])
lastWeight: public(uint256)

event Verified:
    caller: indexed(address)
    beta: Bytes[64]

event Membership:
    validator: indexed(address)
    seed: bytes32
    weight: uint256


@external
@view
def verify(publicKey: bytes32, alpha: Bytes[1024], proof: Bytes[80]) -> Bytes[64]:
    return staticcall IVrf(VRF).verify(publicKey, alpha, proof)


@external
@view
def tryVerify(publicKey: bytes32, alpha: Bytes[1024], proof: Bytes[80]) -> bool:
    ok: bool = False
    response: Bytes[256] = b""
    ok, response = raw_call(
        VRF,
        abi_encode(publicKey, alpha, proof, method_id=method_id("verify(bytes32,bytes,bytes)")),
        max_outsize=256,
        is_static_call=True,
        revert_on_failure=False,
    )
    return ok


@external
def record(publicKey: bytes32, alpha: Bytes[1024], proof: Bytes[80]) -> Bytes[64]:
    beta: Bytes[64] = staticcall IVrf(VRF).verify(publicKey, alpha, proof)
    self.lastBeta = beta
    log Verified(caller=msg.sender, beta=beta)
    return beta


@external
@view
def isMember(validator: address, seed: bytes32, proof: Bytes[80]) -> (bool, uint256):
    return staticcall ICommittee(COMMITTEE).isMember(validator, seed, proof)


@external
def recordMembership(validator: address, seed: bytes32, proof: Bytes[80]) -> (bool, uint256):
    member: bool = False
    weight: uint256 = 0
    member, weight = staticcall ICommittee(COMMITTEE).isMember(validator, seed, proof)
    self.lastWeight = weight
    log Membership(validator=validator, seed=seed, weight=weight)
    return member, weight
