# pragma version ^0.4.0
"""Asks BRAIN's INFERENCE precompile for a model's answer and keeps it (DESIGN.md §5).

ask() forwards its value as the request's fee; the precompile later calls onInferenceResult,
which only the precompile may call, stores the answer and logs it.
"""

import IInference

INFERENCE: constant(address) = 0x0000000000000000000000000000000000000b03

answers: public(HashMap[uint256, Bytes[4096]])
asker: public(HashMap[uint256, address])
lastId: public(uint256)

event Asked:
    id: indexed(uint256)
    asker: indexed(address)

event Answered:
    id: indexed(uint256)
    output: Bytes[4096]


@external
@payable
def ask(model: String[64], prompt: Bytes[4096], maxTokens: uint256, callbackGas: uint256) -> uint256:
    id: uint256 = extcall IInference(INFERENCE).request(model, prompt, maxTokens, callbackGas, value=msg.value)
    self.asker[id] = msg.sender
    self.lastId = id
    log Asked(id=id, asker=msg.sender)
    return id


@external
def onInferenceResult(id: uint256, output: Bytes[4096]):
    assert msg.sender == INFERENCE, "only the INFERENCE precompile"
    self.answers[id] = output
    log Answered(id=id, output=output)
