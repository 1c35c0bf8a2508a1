"""The reconcile's HTML: a page that works offline under a policy that allows nothing but
its own style element, and a section the run's report can embed (no script, no style
attribute, no URL); every value from the files escaped."""

import base64
import hashlib
import re

from backtest.analysis.reconcile_page import STYLE, page, section

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _document():
    return {
        "symbol": "GER40",
        "summary": {
            "account": "demo",
            "match_rate": 0.5,
            "counts": {"backtest": 1, "live": 2, "matched": 1, "missed": 0, "extra": 1},
            "slippage": {
                "sides": {"entry": {"n": 1, "median_points": 5.0, "p95_points": 5.0}},
                "suggestion": "s",
            },
            "r_per_trade": {},
            "reasons": {"opened_twice": 1},
            "server_time_offset": {"text": HOSTILE},
            "period": {"start_date": "2024-01-10", "end_date": "2024-01-10"},
        },
        "notes": [HOSTILE],
        "provenance": {"deals": {"path": HOSTILE}, "bars": {}, "source": {}},
        "rows": [
            {
                "status": "extra",
                "live_comment": HOSTILE,
                "reasons": [{"code": "x", "text": HOSTILE}],
            }
        ],
    }


def test_everything_from_the_files_is_escaped():
    html = section(_document())
    assert "<script" not in html and "<img" not in html
    assert html.count("&lt;script&gt;") == 5
    assert " style=" not in html and "http" not in html
    assert html.startswith('<section id="reconcile">') and html.endswith("</section>")


def test_the_page_allows_only_its_own_style():
    html = page(_document())
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    digest = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
    assert f"style-src &#x27;sha256-{digest}&#x27;" in policy
    assert "default-src &#x27;none&#x27;" in policy and "script-src &#x27;none&#x27;" in policy
    assert html.count("<style>") == 1 and f"<style>{STYLE}</style>" in html
    assert "<script" not in html
