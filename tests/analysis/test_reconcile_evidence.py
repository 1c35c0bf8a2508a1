"""``reconcile_evidence``: what a promotion check can ask of a reconcile (PASS at or above
the minimum match rate, FAIL below it or unreadable, MISSING when there is no reconcile
of these parameters, of that account, of a session after the given moment)."""

import datetime as dt

import pytest

from backtest.analysis.reconcile import Request, reconcile
from backtest.analysis.reconcile_evidence import FAIL, MISSING, PASS, reconcile_evidence
from backtest.analysis.reconcile_outputs import write_outputs
from tests.analysis.reconcile_helpers import SERVER_TZ, deployment, fixture, shared_bars


@pytest.fixture
def written(tmp_path_factory, tmp_path):
    deploy = deployment()
    result = reconcile(
        Request(
            fixture("opened_twice.csv"), shared_bars(tmp_path_factory), deploy, server_tz=SERVER_TZ
        )
    )
    write_outputs(result, tmp_path / "bot" / "ibsweep_reconcile" / "demo")
    return tmp_path / "bot", deploy.params_sha256


def test_pass_at_the_minimum(written):
    bot, sha = written
    evidence = reconcile_evidence(bot, "GER40", sha, "demo", min_match=0.5)
    assert evidence.status == PASS
    assert (
        evidence.reason == "match rate 50.0% (1 matched, 0 missed, 1 extra) 2024-01-10..2024-01-10"
    )
    assert evidence.path == bot / "ibsweep_reconcile" / "demo" / "reconcile_GER40.json"


def test_fail_below_the_minimum(written):
    bot, sha = written
    evidence = reconcile_evidence(bot, "GER40", sha, "demo")  # default 0.9
    assert (evidence.status, evidence.reason.endswith("below 90%")) == (FAIL, True)


def test_missing_for_other_parameters_account_or_an_earlier_session(written):
    bot, sha = written
    assert reconcile_evidence(bot, "GER40", "0" * 64, "demo").status == MISSING
    assert reconcile_evidence(bot, "GER40", sha, "real").status == MISSING
    assert reconcile_evidence(bot, "XAUUSD", sha, "demo").status == MISSING
    # the session began at ib_start, 2024-01-10 09:00 Berlin (08:00 UTC): a promotion after it
    later = dt.datetime(2024, 1, 10, 8, 30, tzinfo=dt.UTC)
    late = reconcile_evidence(bot, "GER40", sha, "demo", after=later, min_match=0.5)
    assert late.status == MISSING and "before" in late.reason
    earlier = dt.datetime(2024, 1, 10, 7, 59, tzinfo=dt.UTC)
    assert (
        reconcile_evidence(bot, "GER40", sha, "demo", after=earlier, min_match=0.5).status == PASS
    )


def test_an_unreadable_reconcile_fails(written):
    bot, sha = written
    path = bot / "ibsweep_reconcile" / "demo" / "reconcile_GER40.json"
    path.write_text("{")
    assert reconcile_evidence(path, "GER40", sha, "demo").status == FAIL
