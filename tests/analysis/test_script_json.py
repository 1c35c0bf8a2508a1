"""A page's JSON block (``pages.script_json``, orjson) reads back as ``json.dumps`` writes
the same value, and nothing in it can end its ``<script>`` element or open an HTML
comment, whatever text the value holds."""

from __future__ import annotations

import json
import math

from hypothesis import given
from hypothesis import strategies as st

from backtest.analysis.pages import script_json

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.sampled_from("<>/&!-scriptSCRIPT\"'\\\u2028é0 "), max_size=12)
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6) | st.integers(-5, 5), inner, max_size=4)
    ),
    max_leaves=25,
)


@given(_VALUES)
def test_the_block_reads_back_as_json_dumps_writes_it(value):
    # Act
    text = script_json(value)

    # Assert
    assert json.loads(text) == json.loads(json.dumps(value))
    assert "<" not in text and ">" not in text and "&" not in text


def test_a_non_finite_float_is_null_and_keys_are_text():
    # Act
    text = script_json({"a": [1.5, math.nan, -math.inf], 3: "</script><!--"})

    # Assert
    assert json.loads(text) == {"a": [1.5, None, None], "3": "</script><!--"}
    assert "</script" not in text.lower() and "<!--" not in text
