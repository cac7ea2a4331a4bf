"""Where the shared Ethereum conformance fixtures live (never copied into the repo)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ETHEREUM_TESTS = Path(__file__).resolve().parents[1].parent / "shared" / "ethereum-tests"


def fixture_files(subdir: str) -> list[Path]:
    """Every JSON fixture under `subdir`; fails loudly when the fixtures are missing."""
    root = ETHEREUM_TESTS / subdir
    files = sorted(root.rglob("*.json"))
    if not files:
        raise FileNotFoundError(f"no fixtures under {root}: ../shared/ethereum-tests is missing")
    return files


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))
