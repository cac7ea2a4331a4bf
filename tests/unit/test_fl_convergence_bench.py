"""Smoke run of bench/fl_convergence.py at a tiny size: every method and setting reaches the
table, BRAIN's proposals went through the chain, and the targets are reported. No timing."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from bench import fl_convergence as bench


def test_the_quick_run_prints_every_method_and_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = tmp_path / "fl.png"
    # --quick's logic with one FedAvg round's worth of updates, to stay within seconds
    bench.main(["--quick", "--updates", str(bench.TRAINERS), "--seed", "3", "--out", str(png)])
    out = capsys.readouterr().out
    methods = [bench.FEDAVG, bench.FEDASYNC, "BRAIN θ=0.125", "BRAIN θ=0.25"]
    for method in methods:
        for setting in bench.SETTINGS:
            rows = re.findall(rf"^{re.escape(method)} +{setting} +(.*)$", out, re.MULTILINE)
            assert len(rows) == 1, (method, setting, out)
            final, best, tail, reach, merged, attacks, *brain = rows[0].split()
            assert 0 <= float(final) <= float(best) <= 1 and 0 <= float(tail) <= 1
            assert reach == "never" or 0 < int(reach) <= int(merged)
            if method.startswith("BRAIN"):
                accepted, rejected, expired, stale = map(int, brain)
                assert accepted == int(merged) > 0
                assert accepted + rejected + expired + stale == bench.TRAINERS
            else:
                assert int(merged) == bench.TRAINERS and not brain
            zeros, noises = map(int, attacks.split("/"))  # attack proposals merged
            if setting == bench.CLEAN:
                assert zeros == noises == 0
            elif method == bench.FEDAVG:  # one round: every attacker's proposal, unscored
                assert (zeros, noises) == (bench.ATTACKERS // 2, bench.ATTACKERS // 2)
    for method in methods[2:]:
        assert len(re.findall(rf"^  {re.escape(method)} .*want", out, re.MULTILINE)) == 3
    if importlib.util.find_spec("matplotlib") is not None:
        assert f"wrote {png}" in out and png.stat().st_size > 0
    else:
        assert "no PNG: matplotlib is not installed" in out


def test_thresholds_and_updates_are_checked() -> None:
    assert bench.parse_args(["--quick"]).updates == bench.QUICK_UPDATES
    assert bench.parse_args([]).updates == bench.DEFAULT_UPDATES
    assert bench.parse_args(["--thresholds", "0.5,0.5,0.2"]).thresholds == [500_000, 200_000]
    for bad in (["--updates", "0"], ["--thresholds", "0"], ["--thresholds", "x"]):
        with pytest.raises(SystemExit):
            bench.parse_args(bad)
