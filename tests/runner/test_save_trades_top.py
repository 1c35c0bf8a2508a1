"""--save-trades top:N keeps the trades of the best N combinations of each group only."""

from __future__ import annotations

from tests.runner.helpers import full_results, run_args, run_cli


def test_top_2_keeps_trades_of_the_two_best_of_each_group(dataset, tmp_path):
    out = tmp_path / "out"

    result = run_cli(
        *run_args(dataset.bars, dataset.groups, out, "--save-trades", "top:2", "--charts", "none")
    )

    assert result.returncode == 0, result.stderr
    full = full_results(out)
    assert full["metadata"]["save_trades"] == "top:2"
    for group in full["groups"]:
        totals = [c["metrics"]["total_r"] for c in group["combos"]]
        best_two = sorted(range(len(totals)), key=lambda i: (-totals[i], i))[:2]
        kept = [i for i, c in enumerate(group["combos"]) if "trades" in c]
        assert kept == sorted(best_two)
        for i in kept:
            assert len(group["combos"][i]["trades"]) == group["combos"][i]["metrics"]["trades"]
