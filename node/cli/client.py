"""A small synchronous JSON-RPC client for the CLI (stdlib only, so the CLI starts fast)."""

from __future__ import annotations

import itertools
import json
import urllib.error
import urllib.parse
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

    def _blob_url(self, suffix: str = "") -> str:
        """The node's blob endpoint, on the RPC server's host and port (node/rpc/server.py)."""
        parts = urllib.parse.urlsplit(self.url)
        return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/blobs" + suffix, "", ""))

    def put_blob(self, data: bytes) -> str:
        """Store a blob (FL weights) on the node; return its id, 0x-hex keccak of the bytes.

        Raises:
            ClientError: the node is unreachable or refuses the blob (e.g. over its size limit).
        """
        request = urllib.request.Request(
            self._blob_url(), data=data, headers={"Content-Type": "application/octet-stream"}
        )
        answer = json.loads(self._fetch(request))
        return str(answer["id"])

    def get_blob(self, blob_id: str) -> bytes:
        """The blob `blob_id` (0x-hex) from the node, unchecked (the caller checks the hash).

        Raises:
            ClientError: the node is unreachable or does not have it.
        """
        return self._fetch(urllib.request.Request(self._blob_url("/" + blob_id)))

    def _fetch(self, request: urllib.request.Request) -> bytes:
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as exc:
            raise ClientError(
                f"{request.full_url} answered HTTP {exc.code}: {_reason(exc)}"
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ClientError(f"cannot reach node at {self.url}: {reason}") from None


def _reason(error: urllib.error.HTTPError) -> str:
    """The message of a JSON error body, else the HTTP reason."""
    try:
        return str(json.loads(error.read())["error"]["message"])
    except (ValueError, KeyError, TypeError, OSError):
        return str(error.reason)
