# pragma version ^0.4.0
"""A value store with an event and a revert reason: the smallest useful contract."""

value: public(uint256)

event Stored:
    who: indexed(address)
    amount: uint256


@external
def store(amount: uint256):
    assert amount != 13, "unlucky"
    self.value = amount
    log Stored(who=msg.sender, amount=amount)
