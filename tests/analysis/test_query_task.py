"""invoke query as a process: one read-only SQL query over a run's view ``combos``,
printed as an aligned table or CSV; anything that would write, attach, change the
settings or read another file is refused in one line with exit 2."""

from __future__ import annotations

import csv
import io

import pyarrow.parquet as pq
import pytest

from tests.analysis.big_run import SYMBOL, write_big_run
from tests.analysis.report_helpers import invoke


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return write_big_run(tmp_path_factory.mktemp("query") / "out", 2_500, group_rows=1_000)


def test_the_best_rows_as_an_aligned_table(run):
    table = pq.read_table(run / f"results_combos_{SYMBOL}.parquet").to_pandas()
    best = table.sort_values("total_r", ascending=False, kind="stable").head(3)

    done = invoke(
        "query",
        "--from",
        run,
        "SELECT group_id, combo, total_r FROM combos ORDER BY total_r DESC, row LIMIT 3",
    )

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["group_id", "combo", "total_r"]
    shown = [line.split() for line in lines[2:5]]
    assert shown == [
        [g, str(c), repr(float(r))] for g, c, r in best[["group_id", "combo", "total_r"]].values
    ]
    assert lines[5] == "(3 rows)"


def test_csv_prints_every_row(run):
    done = invoke("query", "--from", run, "--csv", "SELECT row, weekdays FROM combos ORDER BY row")

    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0] == ["row", "weekdays"]
    assert [int(r[0]) for r in rows[1:]] == list(range(2_500))
    assert rows[1][1].startswith("[0, 1, 2, 3")  # a list as JSON


def test_the_table_shows_max_rows_and_says_how_many_more(run):
    done = invoke("query", "--from", run, "--max-rows", "5", "SELECT row FROM combos")

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "(5 rows, 2495 more not shown)"


@pytest.mark.parametrize(
    "sql, why",
    [
        ("COPY combos TO '{out}/copy.csv'", "a COPY statement"),
        ("CREATE TABLE t AS SELECT 1", "a CREATE statement"),
        ("ATTACH '{out}/x.db'", "a ATTACH statement"),
        ("SET enable_external_access = true", "a SET statement"),
        ("SELECT 1; SELECT 2", "one statement, not 2"),
        ("SELECT * FROM read_csv('/etc/passwd')", "Permission Error"),
        ("SELECT nope FROM combos", "nope"),
    ],
)
def test_what_is_not_a_read_only_query_is_refused(run, sql, why):
    done = invoke("query", "--from", run, sql.format(out=run))

    assert done.returncode == 2
    assert done.stderr.startswith("error: SQL: ") and why in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (run / "copy.csv").exists() and not (run / "x.db").exists()


def test_a_folder_without_results_is_one_line(tmp_path):
    done = invoke("query", "--from", tmp_path, "SELECT 1")

    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and len(done.stderr.strip().splitlines()) == 1


def test_the_answer_says_which_run_and_data_it_comes_from(run):
    # Act
    done = invoke("query", "--from", run, "--csv", "SELECT count(*) AS n FROM combos")

    # Assert: stdout is the answer only; stderr names the run, its data and code
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["n", "2500"]
    source = done.stderr.splitlines()[0]
    assert source.startswith(f"run {run}: data: ")
    assert "execution: " in source and "code: " in source


def test_the_run_is_read_once_for_the_answer_and_its_source(run, monkeypatch, capsys):
    # Arrange
    from invoke import Context

    import tasks.query as query_task
    from backtest.analysis.table import RunTable

    reads = []
    real = RunTable.read.__func__

    def counted(cls, *args, **kwargs):
        reads.append(args)
        return real(cls, *args, **kwargs)

    monkeypatch.setattr(RunTable, "read", classmethod(counted))

    # Act
    query_task.query(Context(), from_=str(run), sql="SELECT count(*) AS n FROM combos")

    # Assert
    out, err = capsys.readouterr()
    assert len(reads) == 1  # results_full read and checked once, not once more for its source
    assert out.splitlines()[2].split() == ["2500"]
    assert err.startswith(f"run {run}: ")
