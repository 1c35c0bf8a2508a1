"""The bot's ``ibsweep_params_{SYMBOL}.set``: the deployment's inputs under the EA's
names (config ``promote.set_inputs``), encoded as MT5 terminals save them
(:mod:`backtest.data.mt5_set`; docs/PRODUCTION.md, "The .set format")."""

from __future__ import annotations

from typing import Any

from backtest.data.mt5_set import encode_set, set_text
from backtest.promotion.checklist import Config, Deployment
from backtest.strategy.params import PARAM_NAMES


def set_inputs(deployment: Deployment) -> dict[str, Any]:
    """The inputs of the ``.set`` file: every parameter, then the risk per trade."""
    return {**{n: deployment.params[n] for n in PARAM_NAMES}, "risk": deployment.settings["risk"]}


def input_names(deployment: Deployment, cfg: Config) -> dict[str, str]:
    """ibsweep name -> the EA's input name, for every input of the file."""
    return {k: cfg["promote"]["set_inputs"][k] for k in set_inputs(deployment)}


def set_bytes(deployment: Deployment, cfg: Config, comments: list[str]) -> bytes:
    """The ``.set`` file of ``deployment``: ``comments`` first, then one line per input."""
    return encode_set(set_text(set_inputs(deployment), cfg["promote"]["set_inputs"], comments))
