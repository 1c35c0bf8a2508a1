"""The report's sections from the analysis files in OUT (:mod:`backtest.analysis.report`).

Each file is read through the read edge (:mod:`backtest.runner.reading`: a regular file,
bounded JSON) and checked to hold what the page shows of it, with its types: a file that
holds something else is refused (one line naming the file and the field), not half-shown;
only the fields listed below go into the page.

- ``control_vs_in_sample_{SYMBOL}.json`` (``invoke control``): both periods side by side;
- ``walk_forward_{SYMBOL}.json`` (``invoke walk-forward``): the windows, the stitched
  out-of-sample equity on its trading days;
- ``robustness_{SYMBOL}.json`` (``invoke robustness``): the verdict, PBO, deflated Sharpe,
  P(breach) and the cost stress table (:mod:`backtest.analysis.stress`);
- ``reconcile_{SYMBOL}.json`` (``invoke reconcile``): the reconcile's own section
  (:func:`backtest.analysis.reconcile_page.section`, escaped markup), and a link to
  ``reconcile_{SYMBOL}.html`` when it is there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from backtest.runner.reading import (
    COUNT,
    FLAG,
    NUMBER,
    REAL,
    TEXT,
    Entries,
    Fields,
    Items,
    check,
    maybe,
    read_json,
)

SIGNIFICANT = 10  # digits kept for the page's numbers (the JSON keeps all; at most 15)
CONTROL_ROWS = 1000  # control rows in the page (the file holds them all)
# The control comparison's columns the page shows (besides group_id, combo, ctl_trades).
CONTROL_NUMBERS = (
    *("is_total_r", "ctl_total_r", "is_r_per_trade", "ctl_r_per_trade"),
    *("ctl_t_stat", "ctl_p_value"),
)
CONTROL_FLAGS = ("few_control_trades", "control_loses_money", "breaks_prop_limits")


def short(value: Any) -> Any:
    """Floats to ``SIGNIFICANT`` digits (page size); non-finite to None; others as they are."""
    if isinstance(value, float):
        return float(f"{value:.{SIGNIFICANT}g}") if np.isfinite(value) else None
    if isinstance(value, np.generic):
        return short(value.item())
    return value


def shorts(values: Iterable[Any]) -> list[Any]:
    """:func:`short` of each value (the same values), its floats rounded together by
    :func:`short_floats`: a page's trades are tens of thousands of numbers."""
    out = list(values)
    kinds = set(map(type, out))
    if kinds <= _AS_THEY_ARE:
        return out
    if kinds == {float}:
        return short_floats(np.array(out, dtype=np.float64))
    at = [i for i, v in enumerate(out) if isinstance(v, float)]
    for i, v in zip(at, short_floats(np.array([out[i] for i in at], dtype=np.float64))):
        out[i] = v
    return [short(v) if isinstance(v, np.generic) else v for v in out]


_AS_THEY_ARE = {str, int, bool, type(None)}  # the types short leaves as they are


# 10**k for the exponents short_floats scales by: each exact in a float64 (k <= 22).
_POW10 = np.array([float(10**k) for k in range(23)])


def short_floats(values: np.ndarray) -> list[float | None]:
    """:func:`short` of each float of ``values``, the same values computed in numpy.

    A nonzero ``v`` is scaled by ``10**j`` (exact in float64) to ``m`` with
    ``SIGNIFICANT`` digits before the point. The product rounds once, monotonically:
    where ``m`` is neither within 1e-5 of a half-integer (a tie) nor at its decade's top,
    ``rint(m)`` is the ``SIGNIFICANT``-digit mantissa that formatting ``v`` gives (CPython
    formats and parses correctly rounded; a ``v`` a rounding below a power of ten, scaled
    up to it, rounds to it at ``SIGNIFICANT`` digits too), and ``rint(m) / 10**j`` (one
    correctly rounded division of exact numbers) is the float that text parses to. Zeros
    stay as they are, non-finite values are None; the rest (near a tie, outside
    1e-13..1e10) go through :func:`short` itself.
    """
    v = np.asarray(values, dtype=np.float64)
    size = np.abs(v)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        exponent = (SIGNIFICANT - 1) - np.floor(np.log10(size))
        fast = np.isfinite(exponent) & (exponent >= 0) & (exponent < len(_POW10))
        scale = _POW10[np.where(fast, exponent, 0).astype(np.int64)]
        m = size * scale
        fast &= (m >= 10.0 ** (SIGNIFICANT - 1)) & (m < 10.0**SIGNIFICANT - 1)
        fast &= np.abs(m - np.floor(m) - 0.5) > 1e-5
        out = np.where(v == 0, v, np.copysign(np.rint(m) / scale, v)).tolist()
        fast |= v == 0  # 0.0 and -0.0 as they are
    missing = ~np.isfinite(v)
    for i in np.flatnonzero(missing).tolist():
        out[i] = None
    for i in np.flatnonzero(~(fast | missing)).tolist():
        out[i] = short(float(v[i]))
    return out


_R, _N, _T, _F = maybe(REAL), maybe(COUNT), maybe(TEXT), maybe(FLAG)
_TOTAL_R = Fields({"total_r": _R}, optional=True)
CONTROL_ROW_SHOWN = Fields(
    {
        "group_id": TEXT,
        "combo": COUNT,
        "ctl_trades": _N,
        **dict.fromkeys(CONTROL_NUMBERS, _R),
        **dict.fromkeys(CONTROL_FLAGS, _F),
    }
)
CONTROL_PERIOD_SHOWN = Fields(
    {
        **dict.fromkeys(("start_date", "end_date"), _T),
        "trading_days": _N,
        "data": Fields({"source": _T, "path": _T}, optional=True),
    },
    optional=True,
)
CONTROL_SHOWN = Fields(
    {
        "rows": Items(CONTROL_ROW_SHOWN),
        "metadata": Fields({"control": CONTROL_PERIOD_SHOWN}, optional=True),
    }
)
WALK_FORWARD_SHOWN = Fields(
    {
        "windows": Items(
            Fields(
                {
                    "window": _N,
                    **dict.fromkeys(("train_start", "train_end", "test_start", "test_end"), _T),
                    "group_id": _T,
                    "combo": _N,
                    "train_metrics": _TOTAL_R,
                    "test_metrics": Fields({"total_r": _R, "trades": _N}, optional=True),
                }
            )
        ),
        "stitched": Fields(
            {
                **dict.fromkeys(("total_r", "sharpe"), _R),
                **dict.fromkeys(("days", "trades"), _N),
                "equity_r": Items(_R, optional=True),
            },
            optional=True,
        ),
        "walk_forward_efficiency": _R,
        "choice_changes": _N,
    }
)
# One level of the cost stress table (backtest.analysis.stress.cost_stress).
STRESS_LEVEL_SHOWN = Fields(
    {
        "level": TEXT,
        **dict.fromkeys(("spread", "slippage", "commission"), maybe(NUMBER)),
        "selected": Fields(
            {
                "trades": COUNT,
                **dict.fromkeys(("total_r", "avg_r", "profit_factor"), _R),
                "survives": FLAG,
            }
        ),
        "top_n": COUNT,
        "top_surviving": COUNT,
    }
)
# The table (levels and the verdict's line), or what is missing for it and the command
# that makes it where the run's data file is; absent in a file written before it.
COST_STRESS_SHOWN = Fields(
    {
        "levels": Items(STRESS_LEVEL_SHOWN, optional=True),
        "survives_1_5x": _F,
        "rule": _T,
        "text": _T,
        "missing": _T,
        "command": _T,
    },
    optional=True,
)
ROBUSTNESS_SHOWN = Fields(
    {
        "verdict": Fields(
            {"distinguishable_from_luck": FLAG, "text": TEXT, "rule": TEXT, "cost_stress": _T}
        ),
        "selected": Fields({"group_id": TEXT, "combo": COUNT, "rank_by": TEXT}),
        "pbo": Fields({"pbo": REAL, "n_splits": COUNT, "n_trials": COUNT}),
        "dsr": Fields({"dsr": REAL, "sharpe_annual": REAL}),
        "bootstrap": Fields({"p_any_breach": _R}, optional=True),
        "cost_stress": COST_STRESS_SHOWN,
    }
)
# What reconcile_page.section reads as objects and lists (its values it escapes, whatever
# they are); the match rate is formatted as a number.
RECONCILE_SHOWN = Fields(
    {
        "summary": Fields(
            {
                "match_rate": _R,
                "counts": Fields(),
                "period": Fields(),
                "slippage": Fields({"sides": Entries(Fields(), optional=True)}),
                "r_per_trade": Fields(),
                "reasons": Fields(optional=True),
                "server_time_offset": Fields(optional=True),
            }
        ),
        "provenance": Fields(
            {"deals": Fields(), "bars": Fields(), "source": Fields(optional=True)}
        ),
        "notes": Items(TEXT, optional=True),
        "rows": Items(Fields(), optional=True),
    }
)


def read_section(path: Path, shown: Fields) -> dict[str, Any] | None:
    """A JSON analysis file of OUT, checked to hold what the page shows of it (``shown``,
    through the read edge: a regular file, bounded, typed); None when there is none."""
    try:
        document = read_json(path)
    except FileNotFoundError:
        return None
    return check(document, shown, str(path))


def selected_pairs(out_dir: Path, symbol: str) -> list[tuple[str, int]]:
    """The (group id, combination) pairs the run's analyses selected, which the report
    embeds whatever their rank: robustness's selected combination, each walk-forward
    window's choice and the control comparison's rows (as many as the page shows). A file
    that cannot be read adds none (its section says why)."""
    pairs: list[tuple[str, int]] = []
    sources = (
        (f"robustness_{symbol}.json", ROBUSTNESS_SHOWN, lambda d: [d["selected"]]),
        (f"walk_forward_{symbol}.json", WALK_FORWARD_SHOWN, lambda d: d["windows"]),
        (f"control_vs_in_sample_{symbol}.json", CONTROL_SHOWN, lambda d: d["rows"][:CONTROL_ROWS]),
    )
    for name, shown, picks in sources:
        try:
            document = read_section(Path(out_dir) / name, shown)
        except (ValueError, OSError):
            continue
        for pick in picks(document) if document else []:
            if isinstance(pick.get("group_id"), str) and isinstance(pick.get("combo"), int):
                pairs.append((pick["group_id"], pick["combo"]))
    return list(dict.fromkeys(pairs))


def shown_fields(document: dict[str, Any] | None, shown: Fields) -> dict[str, Any]:
    """The fields of ``document`` that ``shown`` lists (nested objects and lists of them
    alike), numbers as :func:`short` gives them: the page gets nothing else of a file."""
    out: dict[str, Any] = {}
    for key, spec in shown.fields.items():
        value = (document or {}).get(key)
        if isinstance(spec, Fields):
            out[key] = shown_fields(value, spec)
        elif isinstance(spec, Items) and isinstance(spec.item, Fields) and value is not None:
            out[key] = [shown_fields(v, spec.item) for v in value]
        elif isinstance(value, list):
            out[key] = [short(v) for v in value]
        else:
            out[key] = short(value)
    return out


def control_section(out_dir: Path, symbol: str) -> dict[str, Any] | None:
    path = Path(out_dir) / f"control_vs_in_sample_{symbol}.json"
    document = read_section(path, CONTROL_SHOWN)
    if document is None:
        return None
    rows = [shown_fields(r, CONTROL_ROW_SHOWN) for r in document["rows"]]
    period = shown_fields((document.get("metadata") or {}).get("control"), CONTROL_PERIOD_SHOWN)
    return {"rows": rows[:CONTROL_ROWS], "count": len(rows), "control": period}


# The run's trading days between two dates (ISO), or None when they are not known here.
TradingDays = Callable[[str, str], list[str] | None]


def walk_forward_section(
    out_dir: Path, symbol: str, trading_days: TradingDays
) -> dict[str, Any] | None:
    """The windows and the stitched out-of-sample equity with its trading days (the test
    windows' days, in order: ``dates``; None when the run's days are not at hand or do
    not add up to the equity's length, and the page then counts days)."""
    document = read_section(Path(out_dir) / f"walk_forward_{symbol}.json", WALK_FORWARD_SHOWN)
    if document is None:
        return None
    windows = [
        {
            "window": w.get("window"),
            "train": f"{w.get('train_start')}..{w.get('train_end')}",
            "test": f"{w.get('test_start')}..{w.get('test_end')}",
            "test_start": w.get("test_start"),
            "chosen": f"{w['group_id']} combo {w.get('combo')}" if w.get("group_id") else "none",
            "train_r": short((w.get("train_metrics") or {}).get("total_r")),
            "test_r": short((w.get("test_metrics") or {}).get("total_r")),
            "test_trades": (w.get("test_metrics") or {}).get("trades"),
        }
        for w in document["windows"]
    ]
    shown = shown_fields(document, WALK_FORWARD_SHOWN)
    stitched = shown["stitched"]
    equity = stitched["equity_r"] or []
    return {
        "windows": windows,
        "stitched": {k: v for k, v in stitched.items() if k != "equity_r"},
        "equity_r": equity,
        "dates": _stitched_dates(document["windows"], len(equity), trading_days),
        "efficiency": shown["walk_forward_efficiency"],
        "choice_changes": shown["choice_changes"],
    }


def _stitched_dates(
    windows: list[dict[str, Any]], days: int, trading_days: TradingDays
) -> list[str] | None:
    dates: list[str] = []
    for w in windows:
        if not (w.get("test_start") and w.get("test_end")):
            return None
        part = trading_days(w["test_start"], w["test_end"])
        if part is None:
            return None
        dates += part
    return dates if len(dates) == days and days else None


def robustness_section(out_dir: Path, symbol: str) -> dict[str, Any] | None:
    document = read_section(Path(out_dir) / f"robustness_{symbol}.json", ROBUSTNESS_SHOWN)
    if document is None:
        return None
    return shown_fields(document, ROBUSTNESS_SHOWN)


def reconcile_section(out_dir: Path, symbol: str) -> dict[str, Any] | None:
    """The checked reconcile document (the page renders it with
    :func:`backtest.analysis.reconcile_page.section` and leaves it out of its JSON
    block) and the reconcile's own page beside the report, when there is one."""
    document = read_section(Path(out_dir) / f"reconcile_{symbol}.json", RECONCILE_SHOWN)
    if document is None:
        return None
    page = f"reconcile_{symbol}.html"
    return {"document": document, "page": page if (Path(out_dir) / page).is_file() else None}
