"""JSON-RPC request bodies and the parameters of every method, fuzzed in process.

The body reader refuses what is not UTF-8 JSON or nests past its bound with a parse error, and
accepts every other body as json.loads reads it. Every method answers any parameters with a
JSON-RPC object; an internal error (-32603) is a bug the fuzzing found, not an answer.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.chain import Chain
from node.rpc.errors import INTERNAL_ERROR, PARSE_ERROR, RpcError
from node.rpc.jsonbody import MAX_DEPTH, parse_body
from node.rpc.logs import FilterRegistry
from node.rpc.server import bind_methods, handle_call
from tests.fuzz.hostile import depth
from tests.fuzz.profile import FUZZ

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def nested(levels: int, text: str) -> str:
    """`levels` arrays and objects, alternating, around `text`."""
    opened = "".join("[" if i % 2 == 0 else '{"k":' for i in range(levels))
    closed = "".join("]" if i % 2 == 0 else "}" for i in reversed(range(levels)))
    return opened + text + closed


# Text close to JSON that nests: brackets, quotes and escapes in every order, so a string that
# hides a bracket, or an escaped quote that does not end one, tests the nesting scan.
json_ish = st.text(alphabet='[]{}"\\,:1 ', max_size=120)
bodies = st.one_of(
    json_values.map(json.dumps),
    json_values.map(lambda v: json.dumps(v, ensure_ascii=False)),
    json_ish,
    st.builds(nested, st.integers(MAX_DEPTH - 2, MAX_DEPTH + 2), json_ish),
    st.builds(nested, st.sampled_from([1_000, 100_000]), json_ish),
    # Python reads these, JSON has no such numbers: echoed back they would not be JSON.
    st.sampled_from(["NaN", "-Infinity", "[1e999]", '{"id": Infinity}', "1e-999", "-0"]),
).map(str.encode)


@FUZZ
@given(st.one_of(bodies, st.binary(max_size=200)))
def test_a_body_is_read_as_json_or_refused_with_a_parse_error(body: bytes) -> None:
    try:
        value = parse_body(body)
    except RpcError as exc:
        assert exc.code == PARSE_ERROR
        return
    assert depth(value) <= MAX_DEPTH
    assert value == json.loads(body.decode("utf-8"))
    json.dumps(value, allow_nan=False)  # what is echoed back stays JSON


def test_the_reported_body_is_refused_whatever_the_recursion_limit() -> None:
    """The issue's request: 100,000 nested arrays, 200 KB. With the recursion limit raised, as
    the EVM once raised it, json.loads overflowed the C stack on it and the process died."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1_000_000)
    try:
        for body in (b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000):
            with pytest.raises(RpcError, match="nested deeper") as refused:
                parse_body(body)
            assert refused.value.code == PARSE_ERROR
    finally:
        sys.setrecursionlimit(limit)


@FUZZ
@given(json_values)
def test_every_json_value_within_the_bounds_is_read(value: Any) -> None:
    assert parse_body(json.dumps(value, ensure_ascii=False).encode()) == value


# Parameters a client may send: boundary numbers, hex of every odd shape, tags, addresses,
# call and filter objects with wrong fields, deep lists, and anything JSON.
quantities = st.sampled_from(
    [
        *("0x", "0x0", "0x00", "0x1", "-0x1", "0x" + "f" * 64, "0x1" + "0" * 64, "0x" + "f" * 999),
        *("latest", "pending", "earliest", "safe", "finalized", "0xg", "", "0X1", " 0x1", "0x_1"),
    ]
)
hex_data = st.binary(max_size=40).map(lambda b: "0x" + b.hex()) | st.sampled_from(
    ["0x0", "0x" + "0" * 39, "0x" + "ab" * 20, "0x" + "ab" * 32, "0x" + "00" * 200_000]
)
numbers = st.sampled_from([0, -1, 2**53, 2**64, 2**256, -(2**256), 1.5, 1e308])
objects = st.fixed_dictionaries(
    {},
    optional={
        key: st.one_of(quantities, hex_data, numbers, json_values)
        for key in (
            *("from", "to", "gas", "value", "data", "input", "fromBlock", "toBlock"),
            *("blockHash", "address", "topics", "accessList", "maxFeePerGas", "nonce"),
        )
    },
)
params = st.lists(
    st.one_of(
        quantities,
        hex_data,
        numbers,
        objects,
        st.just(nested(MAX_DEPTH - 3, "1")).map(json.loads),
        json_values,
    ),
    max_size=5,
)
METHODS = bind_methods(FilterRegistry())


@pytest.mark.parametrize("method", sorted(METHODS))
@settings(FUZZ, max_examples=max(FUZZ.max_examples // 10, 10))
@given(sent=params)
def test_every_method_answers_any_params_with_a_json_rpc_object(
    chain: Chain, method: str, sent: list[Any]
) -> None:
    answer = handle_call(
        chain, {"jsonrpc": "2.0", "id": 1, "method": method, "params": sent}, METHODS
    )
    assert answer is not None
    json.dumps(answer)  # what the server sends must serialise
    assert answer["jsonrpc"] == "2.0" and answer["id"] == 1
    assert ("result" in answer) != ("error" in answer)
    if "error" in answer:
        error = answer["error"]
        assert isinstance(error["code"], int) and isinstance(error["message"], str)
        assert error["code"] != INTERNAL_ERROR, error
