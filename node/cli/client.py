"""A small synchronous JSON-RPC client for the CLI (stdlib only, so the CLI starts fast)."""

from __future__ import annotations

import itertools
import json
import urllib.error
import urllib.request
from typing import Any

DEFAULT_TIMEOUT_S = 10.0


class ClientError(Exception):
    """The node could not be reached, or answered with an error; the message says which."""


class RpcClient:
    """Calls methods on one node's JSON-RPC endpoint."""

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.url = url
        self.timeout = timeout
        self._ids = itertools.count(1)

    def call(self, method: str, *params: Any) -> Any:
        """Call `method`; return its result.

        Raises:
            ClientError: connection failure, HTTP error, or a JSON-RPC error answer.
        """
        body = json.dumps(
            {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}
        ).encode()
        request = urllib.request.Request(
            self.url, data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise ClientError(f"{self.url} answered HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ClientError(f"cannot reach node at {self.url}: {reason}") from None
        except ValueError:
            raise ClientError(f"{self.url} did not answer with JSON") from None
        if "error" in answer:
            error = answer["error"]
            raise ClientError(f"{method} failed: {error.get('message')} (code {error.get('code')})")
        return answer.get("result")
