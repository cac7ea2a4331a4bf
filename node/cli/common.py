"""What every command group shares: the consoles, one-line errors, --rpc and --from-key."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.console import Console

from brainchain.errors import BrainchainError
from node.cli.client import ClientError
from node.config import ConfigError

F = TypeVar("F", bound=Callable[..., Any])
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)
DEFAULT_RPC = "http://127.0.0.1:8545"
EXPECTED_ERRORS = (BrainchainError, ClientError, ConfigError, ValueError, OSError)

rpc_option = click.option("--rpc", default=DEFAULT_RPC, show_default=True, help="node JSON-RPC URL")


def one_line_errors(fn: F) -> F:
    """Turn expected failures into one readable line and exit status 1 (no traceback)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from node.devnet import DevnetError

        expected = (*EXPECTED_ERRORS, DevnetError)
        try:
            return fn(*args, **kwargs)
        except expected as exc:
            err_console.print(f"[red]error:[/red] {exc}", highlight=False)
            raise SystemExit(1) from None
        except BaseExceptionGroup as group:
            # A node service failed inside the supervisor's TaskGroup (e.g. the RPC port is
            # taken): expected failures still read as one line; anything else is a bug.
            leaves = _leaves(group)
            if not all(isinstance(e, expected) for e in leaves):
                raise
            for leaf in leaves:
                err_console.print(f"[red]error:[/red] {leaf}", highlight=False)
            raise SystemExit(1) from None

    return wrapper  # type: ignore[return-value]


def _leaves(group: BaseExceptionGroup) -> list[BaseException]:
    """The exceptions inside a (possibly nested) exception group."""
    out: list[BaseException] = []
    for exc in group.exceptions:
        out.extend(_leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc])
    return out


def parse_private_key(text: str) -> bytes:
    """A secp256k1 private key typed as hex for --from-key.

    Raises:
        ValueError: not 32 bytes of hex (one line via one_line_errors, not click's usage error).
    """
    try:
        key = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raise ValueError("--from-key: a private key is 32 bytes of hex") from None
    if len(key) != 32:
        raise ValueError("--from-key: a private key is 32 bytes of hex")
    return key
