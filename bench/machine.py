"""What every benchmark prints first: the machine it ran on and the commit it measured."""

from __future__ import annotations

import os
import platform
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


def banner(extra: str = "") -> str:
    """One line: machine, cores, Python and commit, then what this benchmark adds (`extra`)."""
    processor = platform.processor() or platform.platform()
    line = (
        f"machine: {platform.machine()} ({processor}), {os.cpu_count()} cores, "
        f"python {platform.python_version()}, commit {commit_id()}"
    )
    return f"{line}; {extra}" if extra else line
