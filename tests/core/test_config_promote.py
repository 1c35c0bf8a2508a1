"""The prop_firm and promote config sections: The5ers' defaults, overridable, strict."""

import pytest

from backtest.core.config import ConfigError, load_config


def test_an_override_changes_one_limit_and_one_input_name(tmp_path):
    path = tmp_path / "ibsweep.yaml"
    path.write_text(
        "prop_firm: {risk_per_trade_max_pct: 2}\npromote: {set_inputs: {risk: RiskMoney}}\n"
    )
    cfg = load_config(path)
    assert cfg["prop_firm"]["risk_per_trade_max_pct"] == 2
    assert cfg["prop_firm"]["daily_loss_pct"] == 5.0
    assert cfg["promote"]["set_inputs"]["risk"] == "RiskMoney"
    assert cfg["promote"]["set_inputs"]["sl_mult"] == "InpSlMult"


@pytest.mark.parametrize(
    "text, problem",
    [
        ("prop_firm: {daily_los_pct: 4}\n",
         "prop_firm.daily_los_pct: unknown key (did you mean 'daily_loss_pct'?)"),
        ("prop_firm: {max_loss_pct: 0}\n", "prop_firm.max_loss_pct: 0 must be > 0"),
        ("promote: {set_inputs: {sl_mul: X}}\n",
         "promote.set_inputs.sl_mul: unknown key (did you mean 'sl_mult'?)"),
        ("promote: {set_inputs: {tp_mult: InpSlMult}}\n",
         "promote.set_inputs.tp_mult: 'InpSlMult' is already the input of sl_mult"),
        ("promote: {env_account: 'ACCOUNT TYPE'}\n",
         "promote.env_account: 'ACCOUNT TYPE' must be a name of letters, digits and _"),
        ("promote: {news_horizon_days: 1.5}\n",
         "promote.news_horizon_days: 1.5 is not a whole number"),
    ],
    ids=["misspelled limit", "zero limit", "unknown input", "input used twice", "bad env name",
         "fractional days"],
)  # fmt: skip
def test_bad_values_are_refused_naming_the_key(tmp_path, text, problem):
    path = tmp_path / "ibsweep.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}: {problem}")
