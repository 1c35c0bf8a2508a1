"""Hostile JSON in a run folder is refused by every reader with one line, exit 2 (issue
21, item 13): a results_full nested 100,000 deep, a metric of the wrong type, a value
nested deep enough to reach a recursive writer, a checkpoint line nested too deep, and
malformed control, walk-forward and robustness files under ``invoke report``. Each case
is a real run's folder edited as an attacker would (manifest recomputed), and each task
runs as a real process."""

from __future__ import annotations

import json
import shutil

import pytest

from backtest.runner.outputs import read_results, result_paths
from backtest.runner.reading import ResultsError
from tests.analysis.hostile_helpers import deeply_nested, tampered
from tests.analysis.report_helpers import invoke, small_run
from tests.runner.helpers import END, START, SYMBOL

FULL = f"results_full_{SYMBOL}.json"
# Every task that reads a run's results: its arguments for the run folder ``out``, a
# scratch folder and the run's bars.
TASKS = {
    "report": lambda out, tmp, bars: ["report", "--from", out],
    "trades": lambda out, tmp, bars: [
        *("trades", "--from", out, "--group", "group_GER40_001", "--combo", 0)
    ],
    "rank": lambda out, tmp, bars: ["rank", "--from", out],
    "robustness": lambda out, tmp, bars: ["robustness", "--from", out],
    "walk-forward": lambda out, tmp, bars: ["walk-forward", "--from", out],
    "control": lambda out, tmp, bars: [
        *("control", "--from", out, "--data-file", bars, "--output", tmp / "control"),
        *("--start-date", START, "--end-date", END),
    ],
    "merge": lambda out, tmp, bars: ["merge", "--dir", out, "--output", tmp / "merged"],
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A real run with compact trades (robustness and walk-forward need them)."""
    return small_run(tmp_path_factory.mktemp("hostile") / "run", "--save-daily")


def _one_error_line(done) -> str:
    """The one line a refused task writes, after checking it is all it wrote to stderr."""
    assert "Traceback" not in done.stderr, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: ")
    return line


def _wrong_metric(document):
    document["groups"][0]["combos"][0]["metrics"]["trades"] = "abc"


@pytest.mark.parametrize("task", TASKS)
def test_a_results_file_nested_too_deep_is_refused(run, tmp_path, task):
    # Arrange
    out = deeply_nested(run, tmp_path / "out")

    # Act
    done = invoke(*TASKS[task](out, tmp_path, run.parent / "bars.parquet"))

    # Assert
    assert done.returncode == 2
    assert f"{FULL}: nested too deeply" in _one_error_line(done)


@pytest.mark.parametrize("task", TASKS)
def test_a_metric_of_the_wrong_type_is_refused(run, tmp_path, task):
    # Arrange: metrics.trades = "abc" (was an ArrowNotImplementedError)
    out = tampered(run, tmp_path / "out", _wrong_metric)

    # Act
    done = invoke(*TASKS[task](out, tmp_path, run.parent / "bars.parquet"))

    # Assert: the file and the field
    assert done.returncode == 2
    line = _one_error_line(done)
    assert f"{FULL}: group group_GER40_001: combos[0].metrics.trades 'abc' " in line


def test_a_value_nested_deep_but_parsable_is_refused(run, tmp_path):
    # Arrange: 900 levels parse, and would then reach recursive code (a merge's writer)
    out = tampered(
        run,
        tmp_path / "out",
        lambda d: d["groups"][1].update(note="NESTED"),
        lambda raw: raw.replace('"NESTED"', "[" * 900 + "]" * 900),
    )

    # Act
    with pytest.raises(ResultsError) as refused:
        read_results(out, SYMBOL)

    # Assert
    assert f"{FULL}: group group_GER40_002: note nests deeper than 32 levels" in str(refused.value)


def test_a_checkpoint_line_nested_too_deep_is_refused(run, tmp_path):
    # Arrange: no committed results (readers fall back to the checkpoint), whose last
    # group line nests 100,000 deep
    out = shutil.copytree(run, tmp_path / "out")
    for path in result_paths(out, SYMBOL).values():
        path.unlink()
    checkpoint = out / "checkpoint.jsonl"
    lines = checkpoint.read_text().splitlines()
    lines.insert(1, '{"group_id": "group_GER40_009", "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    checkpoint.write_text("\n".join(lines) + "\n")

    # Act
    done = invoke("rank", "--from", out, "--symbol", SYMBOL)

    # Assert
    assert done.returncode == 2
    assert "checkpoint.jsonl: line 2 is corrupt" in _one_error_line(done)


ROBUSTNESS = {
    "verdict": {"distinguishable_from_luck": False, "text": "not", "rule": "DSR"},
    "selected": {"group_id": "group_GER40_001", "combo": 0, "rank_by": "total_r"},
    "pbo": {"pbo": 0.5, "n_splits": 10, "n_trials": 16},
    "dsr": {"dsr": 0.1, "sharpe_annual": 0.2},
}
PBO_X = {**ROBUSTNESS["pbo"], "pbo": "x"}


@pytest.mark.parametrize(
    ("name", "document", "field"),
    [
        (f"robustness_{SYMBOL}.json", {**ROBUSTNESS, "pbo": PBO_X}, "pbo.pbo 'x' is not"),
        (f"robustness_{SYMBOL}.json", {**ROBUSTNESS, "verdict": None}, "verdict None is not"),
        (f"walk_forward_{SYMBOL}.json", {"windows": "x"}, "windows 'x' is not a list"),
        (f"walk_forward_{SYMBOL}.json", {"windows": [{"train_metrics": 1}]}, "windows[0].train_"),
        (f"control_vs_in_sample_{SYMBOL}.json", {"rows": [5]}, "rows[0] 5 is not an object"),
        (f"control_vs_in_sample_{SYMBOL}.json", [[[]]], "the document (a list) is not an object"),
    ],
)
def test_a_malformed_analysis_file_is_refused_by_the_report(run, tmp_path, name, document, field):
    # Arrange
    out = shutil.copytree(run, tmp_path / "out")
    (out / name).write_text(json.dumps(document))

    # Act
    done = invoke("report", "--from", out)

    # Assert: the file and the field
    assert done.returncode == 2
    assert f"{name}: {field}" in _one_error_line(done)


def test_an_analysis_file_nested_too_deep_is_refused_by_the_report(run, tmp_path):
    # Arrange
    out = shutil.copytree(run, tmp_path / "out")
    (out / f"robustness_{SYMBOL}.json").write_text("[" * 100_000 + "]" * 100_000)

    # Act
    done = invoke("report", "--from", out)

    # Assert
    assert done.returncode == 2
    assert f"robustness_{SYMBOL}.json: nested too deeply" in _one_error_line(done)
