# pragma version ^0.4.0
"""Deploys copies of a Store with CREATE2 and calls into them (contract-to-contract)."""

interface Store:
    def store(amount: uint256): nonpayable
    def value() -> uint256: view

last: public(address)


@external
def spawn(template: address, salt: bytes32) -> address:
    child: address = create_copy_of(template, salt=salt)
    self.last = child
    return child


@external
def store_in(target: address, amount: uint256):
    extcall Store(target).store(amount)


@external
@view
def read(target: address) -> uint256:
    return staticcall Store(target).value()
