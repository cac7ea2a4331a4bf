"""What every benchmark prints first: the commit it measured."""

from __future__ import annotations

import subprocess


def commit_id() -> str:
    """The short hash of the checked-out commit, or "unknown" outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip() or "unknown"
