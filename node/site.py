"""Serving an aiohttp application on one TCP address, the way every HTTP service here does."""

from __future__ import annotations

import asyncio
import os

from aiohttp import web

SHUTDOWN_TIMEOUT_S = 5.0


async def serve_app(
    app: web.Application,
    *,
    what: str,
    host: str,
    port: int,
    ready: asyncio.Event,
    bound: list[int],
) -> None:
    """Serve `app` until cancelled; append the bound port to `bound`, then set `ready`.

    aiohttp's AppRunner + TCPSite, never `web.run_app` (STYLE §5); port 0 binds any free port.

    Raises:
        OSError: the address cannot be bound; the message names `what`, host and port.
    """
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:  # e.g. the port is taken: say so in one line
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            raise OSError(exc.errno, f"cannot serve {what} on {host}:{port}: {reason}") from exc
        sockets = getattr(site._server, "sockets", None) or []
        bound.append(sockets[0].getsockname()[1] if sockets else port)
        ready.set()
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
