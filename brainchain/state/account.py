"""Accounts as the state trie stores them (Yellow Paper §4.1)."""

from __future__ import annotations

from dataclasses import dataclass

from brainchain.crypto.keccak import EMPTY_KECCAK
from brainchain.encoding import rlp
from brainchain.errors import DecodingError
from brainchain.trie.mpt import EMPTY_TRIE_ROOT


@dataclass(frozen=True, slots=True)
class Account:
    """Nonce, balance in wei, storage root and code hash of one address."""

    nonce: int = 0
    balance: int = 0
    storage_root: bytes = EMPTY_TRIE_ROOT
    code_hash: bytes = EMPTY_KECCAK

    @property
    def is_empty(self) -> bool:
        """EIP-161: no code, zero nonce, zero balance."""
        return self.nonce == 0 and self.balance == 0 and self.code_hash == EMPTY_KECCAK


EMPTY_ACCOUNT = Account()


def encode_account(account: Account) -> bytes:
    """RLP [nonce, balance, storageRoot, codeHash], the state trie's leaf value."""
    return rlp.encode(
        [
            rlp.encode_uint(account.nonce),
            rlp.encode_uint(account.balance),
            account.storage_root,
            account.code_hash,
        ]
    )


def decode_account(data: bytes) -> Account:
    """Parse a state-trie leaf.

    Raises:
        DecodingError: not an RLP list of four canonical fields.
    """
    item = rlp.decode(data)
    fields = [f for f in item if isinstance(f, bytes)] if isinstance(item, list) else []
    if len(fields) != 4 or len(fields) != len(item):
        raise DecodingError("account must be an RLP list of 4 byte strings")
    nonce, balance, storage_root, code_hash = fields
    return Account(rlp.decode_uint(nonce, 64), rlp.decode_uint(balance), storage_root, code_hash)
