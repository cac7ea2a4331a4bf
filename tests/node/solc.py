"""Solidity contracts compiled by solc-js (package-lock.json pins it), as dApp developers do.

solc-js is the compiler ethers and viem users reach for; it runs under Node.js from
node_modules (`npm ci`, which .ci/run does). One standard-JSON compilation per call.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from typing import Any

from tests.node.harness import REPO

CONTRACTS = REPO / "contracts"
# Reads solc's standard JSON on stdin, writes its output on stdout; imports resolve under
# contracts/ (e.g. `import "IInference.sol";`).
_COMPILE = """
const fs = require('fs');
const path = require('path');
const solc = require('solc');
const root = process.argv[1];
const input = fs.readFileSync(0, 'utf8');
const findImports = (p) => {
  try { return { contents: fs.readFileSync(path.join(root, p), 'utf8') }; }
  catch (e) { return { error: String(e) }; }
};
process.stdout.write(solc.compile(input, { import: findImports }));
"""


class SolidityError(Exception):
    """solc reported errors (their formatted messages)."""


@dataclass(frozen=True, slots=True)
class Compiled:
    """One contract: creation bytecode, runtime bytecode and ABI."""

    bytecode: bytes
    runtime: bytes
    abi: list[dict[str, Any]]


def compile_solidity(*names: str, optimize: bool = False) -> dict[str, Compiled]:
    """Compile contracts/<name> files; returns every contract they define, by contract name."""
    sources = {name: {"content": (CONTRACTS / name).read_text()} for name in names}
    request = {
        "language": "Solidity",
        "sources": sources,
        "settings": {
            "evmVersion": "cancun",
            "optimizer": {"enabled": optimize, "runs": 200},
            "outputSelection": {
                "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}
            },
        },
    }
    out = subprocess.run(
        ["node", "-e", _COMPILE, str(CONTRACTS)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    ).stdout
    result = json.loads(out)
    errors = [e["formattedMessage"] for e in result.get("errors", ()) if e["severity"] == "error"]
    if errors:
        raise SolidityError("\n".join(errors))
    return {
        name: Compiled(
            bytes.fromhex(item["evm"]["bytecode"]["object"]),
            bytes.fromhex(item["evm"]["deployedBytecode"]["object"]),
            item["abi"],
        )
        for source in result["contracts"].values()
        for name, item in source.items()
    }
