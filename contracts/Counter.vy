# pragma version ^0.4.0
"""A counter with constructor arguments, for `brainchain contract deploy --abi --args`."""

count: public(uint256)
owner: public(address)


@deploy
def __init__(start: uint256, owner: address):
    self.count = start
    self.owner = owner


@external
def bump():
    self.count += 1
