"""POINT EVALUATION (0x0a): check a KZG proof that p(z) = y for the polynomial committed to
(EIP-4844).

The input carries the commitment itself, so no blob has to be on chain: any contract can check
a KZG opening of data it was given. The pairing runs in c-kzg-4844 through its maintained
binding `ckzg`, the library the execution clients use, with the mainnet setup of the KZG
ceremony. ckzg's wheel ships no setup file, so c-kzg v2.1.8's src/trusted_setup.txt is package
data beside this module; its SHA-256 is checked before it is loaded. Loading checks 8,257 curve
points (seconds), so it happens once per process, at the first call, under a lock.

spec: cancun/vm/precompiled_contracts/point_evaluation.py
"""

from __future__ import annotations

import hashlib
import threading
from importlib.resources import as_file, files

import ckzg

from vm.gas import GAS_POINT_EVALUATION
from vm.precompiles.costs import require
from vm.precompiles.errors import PrecompileFailure

INPUT_BYTES = 192  # versioned hash 32 | z 32 | y 32 | commitment 48 | proof 48
VERSIONED_HASH_VERSION_KZG = b"\x01"
FIELD_ELEMENTS_PER_BLOB = 4096
BLS_MODULUS = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001
OUTPUT = FIELD_ELEMENTS_PER_BLOB.to_bytes(32, "big") + BLS_MODULUS.to_bytes(32, "big")

TRUSTED_SETUP_FILE = "kzg_trusted_setup.txt"
TRUSTED_SETUP_SHA256 = "d39b9f2d047cc9dca2de58f264b6a09448ccd34db967881a6713eacacf0f26b7"

_setup: object | None = None
_setup_lock = threading.Lock()


def kzg_commitment_to_versioned_hash(commitment: bytes) -> bytes:
    """EIP-4844's versioned hash: the version byte, then sha256(commitment) less its first byte."""
    return VERSIONED_HASH_VERSION_KZG + hashlib.sha256(commitment).digest()[1:]


def trusted_setup() -> object:
    """ckzg's loaded mainnet setup, loaded by the first caller of this process.

    Raises:
        RuntimeError: the packaged setup is missing or not the mainnet one (a broken install,
            which must stop the node rather than halt calls that would succeed elsewhere).
    """
    global _setup
    if _setup is None:
        with _setup_lock:
            if _setup is None:
                _setup = _load_trusted_setup()
    return _setup


def _load_trusted_setup() -> object:
    with as_file(files(__package__) / TRUSTED_SETUP_FILE) as path:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != TRUSTED_SETUP_SHA256:
            raise RuntimeError(f"{path}: SHA-256 {digest}, not the mainnet KZG setup's")
        setup: object = ckzg.load_trusted_setup(str(path), 0)
        return setup


def point_evaluation(data: bytes, gas: int) -> tuple[int, bytes]:
    """192 bytes in; FIELD_ELEMENTS_PER_BLOB and BLS_MODULUS as two words out if the proof holds.

    Raises:
        PrecompileFailure: a wrong length, out of gas, a versioned hash that is not the
            commitment's, z or y not below BLS_MODULUS, a point off the curve or out of its
            subgroup, or a proof that does not verify.
    """
    if len(data) != INPUT_BYTES:
        raise PrecompileFailure(
            f"point evaluation input must be {INPUT_BYTES} bytes, got {len(data)}"
        )
    cost = require(gas, GAS_POINT_EVALUATION)
    versioned_hash, z, y = data[:32], data[32:64], data[64:96]
    commitment, proof = data[96:144], data[144:192]
    if kzg_commitment_to_versioned_hash(commitment) != versioned_hash:
        raise PrecompileFailure("versioned hash is not the commitment's")
    for name, value in (("z", z), ("y", y)):
        if int.from_bytes(value, "big") >= BLS_MODULUS:
            raise PrecompileFailure(f"{name} is not a field element: not below BLS_MODULUS")
    setup = trusted_setup()  # outside the try: a broken setup is no failed call
    try:
        valid = ckzg.verify_kzg_proof(commitment, z, y, proof, setup)
    except RuntimeError as exc:  # ckzg: a commitment or proof that is not a G1 point
        raise PrecompileFailure(f"KZG proof does not decode: {exc}") from exc
    if not valid:
        raise PrecompileFailure("KZG proof does not verify")
    return cost, OUTPUT
