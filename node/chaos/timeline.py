"""timeline.png: height per node over time, faults shaded, violations marked.

One picture answers the first questions about a run: did the chain stop, when, which nodes fell
behind, and did they catch up after the fault ended. matplotlib loads only when drawing.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from node.chaos.checkers import Verdict
from node.chaos.history import History, Nemesis

COLOURS = {
    "kill": "tab:red",
    "pause": "tab:orange",
    "partition": "tab:purple",
    "clock-skew": "tab:olive",
    "wal-truncate": "tab:brown",
    "wal-corrupt": "tab:brown",
}
LINK_COLOUR = "tab:cyan"  # delay, drop, duplicate, reorder


def fault_spans(history: History) -> list[tuple[float, float, str]]:
    """(start, end, label) per fault that started: it ends at the first "end" event naming its
    fault index (or its node, for those the runner ended), else at the end of the run."""
    spans = []
    starts = [n for n in history.nemeses if n.phase == "start" and n.f != "byzantine"]
    ends = [n for n in history.nemeses if n.phase == "end"]
    for start in starts:
        end = next((e for e in ends if e.time >= start.time and _ends(e, start)), None)
        label = start.f + (f" n{start.value['node']}" if "node" in start.value else "")
        spans.append((start.time, end.time if end else history.end_time, label))
    return spans


def _ends(end: Nemesis, start: Nemesis) -> bool:
    if end.value.get("fault") == start.value.get("fault") is not None:
        return True
    if end.f == "heal" and start.value.get("fault") in end.value.get("ended", ()):
        return True
    return "fault" not in end.value and end.value.get("node") == start.value.get("node")


def draw_timeline(history: History, verdicts: list[Verdict], path: Path) -> None:
    """Write the PNG to `path`."""
    import matplotlib  # local: only `chaos run` and `chaos check` draw

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 5))
    series: defaultdict[int, list[tuple[float, int]]] = defaultdict(list)
    for sample in history.heights:
        series[sample.node].append((sample.time, sample.height))
    byzantine = {v.index for v in history.scenario.validators if v.byzantine}
    for node, points in sorted(series.items()):
        times, heights = zip(*points, strict=True)
        label = f"node{node}" + (" (byzantine)" if node in byzantine else "")
        ax.step(times, heights, where="post", label=label, linewidth=1.2)
    for i, (start, end, label) in enumerate(fault_spans(history)):
        kind = label.split()[0]
        ax.axvspan(start, max(end, start + 0.2), alpha=0.15, color=COLOURS.get(kind, LINK_COLOUR))
        ax.annotate(
            label,
            (start, 1.0 - 0.05 * (i % 6)),
            xycoords=("data", "axes fraction"),
            fontsize=7,
            va="top",
        )
    marked = False
    for verdict in verdicts:
        for violation in verdict.violations:
            when = violation.time
            if when is None and violation.height is not None:
                when = next((s.time for s in history.heights if s.height >= violation.height), None)
            if when is None:
                continue
            ax.axvline(
                when,
                color="red",
                linestyle="--",
                linewidth=0.8,
                label=None if marked else "violation",
            )
            marked = True
    ax.set_xlabel("seconds since the run started")
    ax.set_ylabel("height")
    ok = all(v.ok for v in verdicts)
    ax.set_title(
        f"{history.scenario.name} (seed {history.scenario.seed}): "
        + ("all checks ok" if ok else "VIOLATIONS")
    )
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
