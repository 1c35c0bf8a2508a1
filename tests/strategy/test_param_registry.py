"""One parameter registry (backtest.core.param_registry): every reader's list of the
parameters is the registry's, so adding a parameter is one entry there plus its semantics.

The first test compares each reader with the registry as it is; the second adds an entry
to the registry's source in a fresh interpreter and finds it in every reader: the
configuration's defaults, its checks and the EA inputs, the validation, the results
columns, the sweep's table parameters, the constraints and the search.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa

from backtest.core.config import DEFAULTS
from backtest.core.param_registry import COLUMNS, PARAMS, SYMBOL_PARAMS
from backtest.runner import groups, store
from backtest.search import space
from backtest.strategy import constraints, params

ROOT = Path(__file__).resolve().parents[2]
ARROW = {
    "string": pa.string(),
    "float64": pa.float64(),
    "int64": pa.int64(),
    "bool": pa.bool_(),
    "list<int64>": pa.list_(pa.int64()),
}


def test_every_reader_lists_the_registry() -> None:
    # Arrange
    names = [p.name for p in PARAMS]
    schema = store.combos_schema()

    # Act
    columns = [(f.name, f.type) for f in schema if f.name in params.PARAM_NAMES]

    # Assert
    assert list(params.PARAM_NAMES) == names
    assert columns == [(p.name, ARROW[p.column]) for p in PARAMS]
    assert set(COLUMNS) == set(ARROW)
    assert groups.TABLE_PARAMS == tuple(p.name for p in PARAMS if p.table)
    for symbol in DEFAULTS["symbols"].values():
        assert list(symbol["params"]) == names
        shared = {k: v for k, v in symbol["params"].items() if k not in SYMBOL_PARAMS}
        assert shared == {
            p.name: list(p.default) if isinstance(p.default, tuple) else p.default
            for p in PARAMS
            if p.default is not None
        }
    assert DEFAULTS["promote"]["set_inputs"] == {
        **{p.name: p.set_input for p in PARAMS},
        "risk": "InpRisk",
    }
    assert constraints.NUMERIC_PARAMS == {"ib_start", "ib_end", "trade_end", "close_time"} | {
        p.name for p in PARAMS if p.kind in ("float", "int")
    }
    assert set(space.WHOLE_PARAMS) == {
        "ib_start",
        "ib_end",
        "trade_end",
        "close_time",
        "max_trades_per_day",
    }


ADDED = """
    Param("gap_max", "float", "float64", 0.5, "test: an added parameter",
          low=0.0, high=5.0, table=True, set_input="InpGapMax"),
)  # fmt: skip
"""

PROBE = """
import copy, sys, types
source = open(sys.argv[1]).read().replace(")  # fmt: skip\\n", sys.argv[2], 1)
registry = types.ModuleType("backtest.core.param_registry")
registry.__file__ = sys.argv[1]
sys.modules[registry.__name__] = registry
exec(compile(source, sys.argv[1], "exec"), registry.__dict__)

import pyarrow as pa
from backtest.core.config import DEFAULTS, ConfigError, validate_config
from backtest.runner import groups, store
from backtest.search import space
from backtest.strategy import constraints, params

assert "gap_max" in params.PARAM_NAMES
assert store.combos_schema().field("gap_max").type == pa.float64()
assert "gap_max" in groups.TABLE_PARAMS
assert DEFAULTS["symbols"]["XAUUSD"]["params"]["gap_max"] == 0.5
assert DEFAULTS["promote"]["set_inputs"]["gap_max"] == "InpGapMax"
assert "gap_max" in constraints.NUMERIC_PARAMS and "gap_max" not in space.WHOLE_PARAMS
combo = params.resolve_params("GER40", {"gap_max": 2.5})
assert combo["gap_max"] == 2.5
(row,) = store.table_records(store.records_table("g", [{"params": combo, "metrics": {}}]))
assert row["params"] == combo
try:
    params.resolve_params("GER40", {"gap_max": 6.0})
    raise SystemExit("6.0 passed")
except params.ParamError as exc:
    assert "'gap_max': 6.0 must be <= 5" in str(exc), exc
cfg = copy.deepcopy(DEFAULTS)
cfg["symbols"]["NEW"] = {
    **{k: v for k, v in cfg["symbols"]["GER40"].items() if k != "params"},
    "params": {"ib_start": "09:00", "ib_end": "10:00", "trade_end": "17:00", "close_time": "21:00"},
}
assert validate_config(cfg)["symbols"]["NEW"]["params"]["gap_max"] == 0.5
cfg["symbols"]["GER40"]["params"]["gap_maks"] = 1.0
try:
    validate_config(cfg)
    raise SystemExit("gap_maks passed")
except ConfigError as exc:
    assert "did you mean 'gap_max'" in str(exc), exc
print("reached every reader")
"""


def test_an_added_parameter_reaches_every_reader() -> None:
    # Arrange
    registry = ROOT / "backtest" / "core" / "param_registry.py"
    assert registry.read_text().count(")  # fmt: skip\n") == 1, "the entries' end moved"

    # Act
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(PROBE), str(registry), textwrap.dedent(ADDED)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    # Assert
    assert done.returncode == 0, done.stdout + done.stderr
    assert "reached every reader" in done.stdout
