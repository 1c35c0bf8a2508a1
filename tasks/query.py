"""invoke query: read-only SQL (DuckDB) over a run's combinations, the view ``combos``."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from invoke import task

from tasks.edge import error


@task(
    auto_shortflags=False,
    positional=["sql"],
    help={
        "from_": "a results directory (results_combos_{SYMBOL}.parquet; a merged run's too)",
        "sql": "one query over the view combos (columns: row, group_id, combo, every "
        'parameter and metric), e.g. "SELECT * FROM combos ORDER BY total_r DESC LIMIT 20"',
        "csv": "print CSV (every row, streamed) instead of an aligned table",
        "max_rows": "rows the aligned table shows at most (default 200; --csv prints all)",
        "symbol": "symbol (needed only when the directory holds several)",
    },
)
def query(c, from_, sql, csv=False, max_rows="200", symbol=None):
    """Run one read-only SQL query over a run's combinations (the view combos).

    The answer is printed as an aligned table, or as CSV."""
    from backtest.analysis.sql import SqlError, batches, connect_table, read_run, text_table
    from backtest.runner.outputs import ResultsError

    if not str(max_rows).strip().isdigit() or int(max_rows) < 1:
        raise error(f"--max-rows: {max_rows!r} is not a whole number >= 1")
    limit = int(max_rows)
    if not from_ or not sql:
        raise error("give --from OUT and one SQL query (invoke --help query)")
    try:
        run = read_run(Path(from_), symbol)  # read and checked once
        con = connect_table(run)
        if csv:
            _print_csv(batches(con, sql))
            _say_source(run)
            return
        import pyarrow as pa

        shown: list[pa.RecordBatch] = []
        more, schema = 0, None
        for batch in batches(con, sql):
            schema = batch.schema
            room = limit - sum(b.num_rows for b in shown)
            if room > 0:
                shown.append(batch.slice(0, room))
            more += max(0, batch.num_rows - max(room, 0))
        table = pa.Table.from_batches(shown, schema) if schema is not None else pa.table({})
        sys.stdout.write(text_table(table, more))
        _say_source(run)
    except (SqlError, ResultsError, ValueError, OSError) as exc:
        raise error(exc) from None


def _say_source(run) -> None:
    """After an answer, on stderr (the CSV on stdout stays clean): which run, data, execution
    and code it comes from (an error stays one line)."""
    from backtest.analysis.sql import source_lines

    for line in source_lines(run):
        print(line, file=sys.stderr)


def _print_csv(answer) -> None:
    """The answer's rows as CSV on stdout, a batch at a time (header first)."""
    from backtest.analysis.sql import cell_text

    out = csv.writer(sys.stdout, lineterminator="\n")
    header = False
    for batch in answer:
        if not header:
            out.writerow(batch.schema.names)
            header = True
        columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        out.writerows([cell_text(v) for v in row] for row in zip(*columns))
