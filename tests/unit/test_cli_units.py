"""CLI helpers: amounts as people type them, and failures as one line with exit status 1."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from node.cli.common import one_line_errors
from node.cli.main import cli
from node.cli.units import format_ether, parse_amount


@pytest.mark.parametrize(
    ("text", "wei"),
    [
        ("0", 0),
        ("100", 100),
        ("100wei", 100),
        ("2gwei", 2 * 10**9),
        ("1.5ether", 15 * 10**17),
        ("1.5 ETH", 15 * 10**17),
        ("0.000000001ether", 10**9),
        ("1_000wei", 1000),
        ("3finney", 3 * 10**15),
    ],
)
def test_parse_amount(text: str, wei: int) -> None:
    assert parse_amount(text) == wei


@pytest.mark.parametrize("text", ["", "abc", "-1", "1.5wei", "0.1", "1e-20ether", "2 bananas"])
def test_parse_amount_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="invalid amount"):
        parse_amount(text)


@pytest.mark.parametrize(
    ("wei", "text"),
    [(0, "0 ETH"), (10**18, "1 ETH"), (15 * 10**17, "1.5 ETH"), (1, "0.000000000000000001 ETH")],
)
def test_format_ether(wei: int, text: str) -> None:
    assert format_ether(wei) == text


def _command(exc: BaseException) -> click.Command:
    @click.command()
    @one_line_errors
    def fails() -> None:
        raise exc

    return fails


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("bad value"),
        OSError(98, "cannot serve JSON-RPC on 127.0.0.1:8545: Address already in use"),
        ExceptionGroup("services", [OSError(98, "port taken")]),
        ExceptionGroup("outer", [ExceptionGroup("inner", [ValueError("nested")])]),
    ],
)
def test_expected_failures_are_one_line_and_exit_1(exc: BaseException) -> None:
    result = CliRunner().invoke(_command(exc))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    assert "Traceback" not in result.output


def test_bugs_inside_a_group_are_not_hidden() -> None:
    result = CliRunner().invoke(_command(ExceptionGroup("services", [KeyError("bug")])))
    assert isinstance(result.exception, ExceptionGroup)


@pytest.mark.parametrize(
    "args",
    [
        ["balance", "0x1234", "--rpc", "http://127.0.0.1:9"],
        [
            "tx",
            "send",
            "--rpc",
            "http://127.0.0.1:9",
            "--from-key",
            "0x12",
            "--to",
            "0x" + "11" * 20,
        ],
        ["tx", "send", "--from-key", "11" * 32, "--to", "0x" + "11" * 20, "--value", "lots"],
    ],
)
def test_bad_arguments_are_one_line(args: list[str]) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    assert len(result.output.strip().splitlines()) == 1 and "error:" in result.output
