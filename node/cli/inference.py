"""`brainchain models`, `infer` and `inference show|verify`: two-phase inference from the command
line (DESIGN.md §5; the RPC is node/rpc/brain.py)."""

from __future__ import annotations

from pathlib import Path

import click

from node.cli.client import RpcClient
from node.cli.common import console, one_line_errors, parse_private_key, rpc_option
from node.cli.inference_flow import (
    fetch,
    find_model,
    follow,
    latency_s,
    parse_request_id,
    send_request,
)
from node.cli.inference_view import models_table, show_summary
from node.cli.units import parse_amount


@click.command()
@rpc_option
@one_line_errors
def models(rpc: str) -> None:
    """The models registered on the chain: id, architecture, size, weights hash, limits, price."""
    console.print(models_table(RpcClient(rpc).call("brain_listModels")))


@click.command()
@rpc_option
@click.option("--from-key", required=True, help="requester's private key (hex)")
@click.option("--model", "model_id", required=True, help="a registered model id, e.g. tiny-gptj")
@click.option("--prompt", required=True, help="the input text (sent as UTF-8 bytes)")
@click.option("--max-tokens", type=click.IntRange(min=1), required=True, help="tokens to generate")
@click.option(
    "--callback-gas",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="gas for the requester contract's onInferenceResult",
)
@click.option("--fee", default=None, help="fee, e.g. 0.001ether (default: price × max tokens)")
@click.option("--wait", is_flag=True, help="follow the request until it is final, then summarise")
@one_line_errors
def infer(
    rpc: str,
    from_key: str,
    model_id: str,
    prompt: str,
    max_tokens: int,
    callback_gas: int,
    fee: str | None,
    wait: bool,
) -> None:
    """Request an inference; print its id, or with --wait its progress and outcome (exit status
    1 if it expires without quorum)."""
    client = RpcClient(rpc)
    request_id = send_request(
        client,
        parse_private_key(from_key),
        model_id,
        prompt.encode(),
        max_tokens,
        callback_gas,
        None if fee is None else parse_amount(fee),
    )
    console.print(f"request id {request_id}", highlight=False)
    if not wait:
        return
    request = follow(client, request_id, console)
    show_summary(console, request, latency_s(client, request))
    if request["result"] is None:
        raise ValueError(f"request {request_id} expired without quorum; the fee was refunded")


@click.group()
def inference() -> None:
    """Look at inference requests and check their outputs."""


@inference.command("show")
@click.argument("request_id")
@rpc_option
@one_line_errors
def inference_show(request_id: str, rpc: str) -> None:
    """Summarise request REQUEST_ID: outcome, output, committee and verdicts, fee, gas."""
    client = RpcClient(rpc)
    request = fetch(client, parse_request_id(request_id))
    show_summary(console, request, latency_s(client, request))


@inference.command("verify")
@click.argument("request_id")
@rpc_option
@click.option(
    "--models-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="where weights files of file-sourced models are (default: the current directory)",
)
@click.option(
    "--device",
    type=click.Choice(["auto", "cpu", "cuda"]),
    default="auto",
    show_default=True,
    help="where to run the model",
)
@one_line_errors
def inference_verify(request_id: str, rpc: str, models_dir: Path | None, device: str) -> None:
    """Run REQUEST_ID's model locally from its registered spec and say whether the chain's
    finalized output is what an honest executor produces (exit status 1 if not)."""
    # Local: the executors (and torch, when they build the model) load for this command only;
    # `brainchain --help` must not pay for them.
    from node.cli.inference_verify import verify_inference

    client = RpcClient(rpc)
    request = fetch(client, parse_request_id(request_id))
    model = find_model(client.call("brain_listModels"), request["model"])
    checked = verify_inference(request, model, device=device, models_dir=models_dir)
    console.print(
        f"request {checked.request_id}: {checked.model} run locally on {checked.device}",
        highlight=False,
    )
    if not checked.matches:
        raise ValueError(
            f"the chain's output 0x{checked.chain_output.hex()} is not what an honest executor"
            f" produces: 0x{checked.local_output.hex()}"
        )
    console.print(
        f"[green]verified[/green]: the chain's output is what an honest executor produces"
        f" ({len(checked.local_output)} tokens)",
        highlight=False,
    )
