"""A parameter set's identity (``parameter_set_sha256``, what promote records and reconcile
checks) depends on its values, not on how a file spelled them."""

from __future__ import annotations

import hashlib
import json

from backtest.analysis.reconcile_deploy import parameter_set_sha256
from backtest.strategy.params import resolve_params

SYMBOL = "GER40"


def test_a_whole_float_parameter_written_as_an_integer_is_the_same_set():
    # Arrange: sl_mult as a hand-written file and as the results table hold it
    written = resolve_params(SYMBOL, {"sl_mult": 1, "tp_mult": 2})
    stored = resolve_params(SYMBOL, {"sl_mult": 1.0, "tp_mult": 2.0})
    other = resolve_params(SYMBOL, {"sl_mult": 1.5, "tp_mult": 2.0})

    # Act
    ids = [parameter_set_sha256(SYMBOL, p, 0.5) for p in (written, stored, other)]

    # Assert
    assert isinstance(written["sl_mult"], int)
    assert ids[0] == ids[1]
    assert ids[2] != ids[1]


def test_a_set_of_floats_keeps_the_identity_promote_recorded():
    # Arrange: the canonical JSON of symbol, parameters and risk, written out by hand
    params = {"sl_mult": 1.0, "tp_mult": 2.5, "ib_start": "09:00", "news_filter": True}
    body = '{"params":{"ib_start":"09:00","news_filter":true,"sl_mult":1.0,"tp_mult":2.5},'
    body += '"risk":0.5,"symbol":"GER40"}'

    # Act
    got = parameter_set_sha256(SYMBOL, params, 0.5)

    # Assert
    assert json.loads(body)["params"] == params
    assert got == hashlib.sha256(body.encode()).hexdigest()
