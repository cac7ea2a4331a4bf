"""`brainchain fl`: arguments as typed, and errors as one line."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from node.cli.fl import model_name
from node.cli.fl_flow import fraction_units, number, parse_id
from node.cli.main import cli

KEY = "0x" + "11" * 32
NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing answers


def test_ids_parse_as_decimal_or_hex_and_never_negative() -> None:
    assert parse_id("7", "task id") == 7 and parse_id("0x1f", "task id") == 31
    for text in ("seven", "-1", "0xzz"):
        with pytest.raises(ValueError, match="invalid task id"):
            parse_id(text, "task id")


def test_fractions_become_score_units() -> None:
    assert fraction_units(0.125, "threshold") == 125_000
    assert fraction_units(1, "committee") == 1_000_000
    for bad in (0, -0.5, 1.01):
        with pytest.raises(ValueError, match="--threshold must be in"):
            fraction_units(bad, "threshold")


def test_rpc_numbers_and_model_names_read_either_way() -> None:
    assert number("0x10") == 16 and number(16) == 16 and number(None) == 0
    assert model_name("digits-mlp") == "digits-mlp"
    assert model_name("0x" + b"digits-mlp".ljust(32, b"\0").hex()) == "digits-mlp"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "--from-key", KEY, "--model", "gpt-9"], "unknown FL model 'gpt-9'"),
        (["create", "--from-key", KEY, "--threshold", "2"], "--threshold must be in (0, 1]"),
        (["create", "--from-key", "abc"], "a private key is 32 bytes of hex"),
        (["show", "x"], "invalid task id 'x'"),
        (["show", "1"], "cannot reach node at"),
        (["train", "--from-key", KEY, "--task", "1", "--shard", "3/2"], "shard"),
        (["export", "1", "--version", "0", "--out", "w.safetensors"], "cannot reach node at"),
    ],
)
def test_bad_arguments_and_unreachable_nodes_are_one_line(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["fl", *args, "--rpc", NOWHERE])
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
