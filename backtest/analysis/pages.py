"""What every self-contained, offline page shares (the report, a drawn day, the Account
page, a search's page): its template rendered autoescaped with its data as a JSON block
(:func:`script_json`), plotly.js and the page's own script and styles inlined as they are
(:func:`page_assets`), and the Content-Security-Policy that allows exactly these
(:func:`content_policy`). One function renders them all: :func:`render_page`.

What does not depend on a page's data (plotly.js and its policy, the compiled template)
is made once per process while its files stay the same (:func:`prepare_pages` makes it
ahead, beside a run, so that the report at the run's end does not wait for it).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import orjson

TEMPLATES = Path(__file__).parent / "templates"  # every page's template, script, styles


class PageError(ValueError):
    """A page that cannot be made as it must be; the message says why."""


def script_json(value: Any) -> str:
    """JSON safe inside a ``<script>`` element (no ``</script>``, no HTML comment), as
    ``json.dumps`` reads ``value`` (keys made text), by orjson: a report's rows are
    ten times faster to write. A non-finite float, which JSON cannot hold, is ``null``
    (the pages show it missing, as they do every null)."""
    text = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        if char in text:  # a page's megabytes of numbers seldom hold one
            text = text.replace(char, escaped)
    return text


def source_hash(text: str) -> str:
    """The CSP source that allows exactly the inline element whose text is ``text``."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def inline(text: str, element: str, what: str) -> str:
    """``text`` checked to stay one ``<element>``'s content (the HTML parser ends it at the
    first ``</element``, and its hash is of the text as the parser reads it)."""
    if f"</{element}" in text.lower() or "\r" in text:
        raise PageError(f"{what} holds '</{element}' or a carriage return: it cannot be inlined")
    return text


def style_slots(plotly_js: str) -> list[str]:
    """Ids of the style elements plotly.js would create at run time, which the policy would
    refuse: the page holds them already, empty (allowed by the hash of ""). plotly.js adds
    its rules to ``plotly.js-style-global`` through the CSSOM, which the policy allows; the
    others (maplibre's map styles, no map here) it leaves alone when their id exists."""
    made = (
        r'if\(!document\.getElementById\("([\w.-]+)"\)\)'
        r'\{var \w+=document\.createElement\("style"\)'
    )
    created = re.findall(made, plotly_js)
    return ["plotly.js-style-global", *created]


def style_attributes(plotly_js: str) -> list[str]:
    """The style attributes plotly.js sets, which the policy allows by their exact text
    ('unsafe-hashes'): a few empty ones, and on a heatmap drawn as one image (no gap
    between its cells) its pixelated rendering, ``image-rendering: ...; `` as plotly.js
    joins its ``CSS_DECLARATIONS`` (without it the browser would refuse the attribute
    and smooth the cells into each other)."""
    found = re.search(r"CSS_DECLARATIONS=(\[\[[^;]*?\]\]);", plotly_js)
    if found is None:
        return [""]
    declarations = json.loads(found.group(1))
    return ["", "".join(f"{name}: {value}; " for name, value in declarations)]


def content_policy(
    scripts: Sequence[str], styles: Sequence[str], attributes: Sequence[str] = ("",)
) -> str:
    """The page's Content-Security-Policy: nothing may be fetched or sent; only the page's
    own script and style elements (by their sha256) apply, and only the style attributes
    ``attributes`` (plotly.js's, :func:`style_attributes`). No 'unsafe-inline': a handler
    or element injected through the data would not run; no 'unsafe-eval' either."""
    script_src = " ".join(source_hash(text) for text in scripts)
    style_src = " ".join(source_hash(text) for text in styles)
    attribute_src = " ".join(source_hash(text) for text in attributes)
    return (
        f"default-src 'none'; script-src {script_src}; "
        f"style-src {style_src} 'unsafe-hashes' {attribute_src}; "
        "img-src data: blob:; font-src data:; worker-src blob:; base-uri 'none'; form-action 'none'"
    )


def page_assets(folder: Path, script: str, styles: Sequence[str]) -> dict[str, Any]:
    """What a self-contained page's template needs besides its data: plotly.js and the
    page's own ``script`` and ``styles`` (files of ``folder``) to inline as they are, the
    empty style elements plotly.js would otherwise create (``style_slots``) and the
    Content-Security-Policy that allows exactly these (``csp``). Made once while the
    files are the same (their size and modification time, plotly's version)."""
    import plotly

    files = [Path(folder) / name for name in (script, *styles)]
    key = (plotly.__version__, *((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files))
    return dict(_assets(Path(folder), script, tuple(styles), key))


@cache
def _assets(folder: Path, script: str, styles: tuple[str, ...], key: Any) -> dict[str, Any]:
    import jinja2
    import plotly.offline

    markup = jinja2.utils.markupsafe.Markup
    plotly_js = inline(plotly.offline.get_plotlyjs(), "script", "the bundled plotly.js")
    app_js = inline((folder / script).read_text(encoding="utf-8"), "script", script)
    css = [inline((folder / s).read_text(encoding="utf-8"), "style", s) for s in styles]
    return {
        "csp": content_policy([plotly_js, app_js], [*css, ""], style_attributes(plotly_js)),
        "plotly_js": markup(plotly_js),
        "app_js": markup(app_js),
        "styles": tuple(markup(text) for text in css),
        "style_slots": tuple(style_slots(plotly_js)),
    }


@cache
def _environment(undefined: Any, filters: tuple[tuple[str, Any], ...]) -> Any:
    """The jinja2 environment of ``templates/`` (autoescaped): it compiles a template once
    and again only when its file changed (jinja2's ``auto_reload``)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=undefined
    )
    env.filters.update(dict(filters))
    return env


def render_page(
    template: str,
    script: str,
    styles: Sequence[str],
    data: Any,
    undefined: Any = None,
    filters: dict[str, Any] | None = None,
    **context: Any,
) -> str:
    """A self-contained, offline page of ``templates/`` (the report, a drawn day, the
    Account page): ``template`` rendered autoescaped with ``context``, ``data`` as the
    page's JSON block (``data_json``), the time it was written (``generated``) and
    :func:`page_assets` of its ``script`` and ``styles``. ``undefined``: jinja2's
    Undefined class for missing keys (default: jinja2.Undefined)."""
    import jinja2

    env = _environment(undefined or jinja2.Undefined, tuple(sorted((filters or {}).items())))
    return env.get_template(template).render(
        data_json=jinja2.utils.markupsafe.Markup(script_json(data)),
        generated=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **page_assets(TEMPLATES, script, styles),
        **context,
    )


def prepare_pages(pages: Sequence[tuple[str, str, Sequence[str], Any, dict[str, Any]]]) -> None:
    """Make ahead what :func:`render_page` needs of each of ``pages`` (template, script,
    styles, undefined, filters) whatever its data: the page's assets and its compiled
    template (and DuckDB imported, which the report queries with). Meant for a daemon
    thread beside a run; a failure is left for the page itself to report."""
    import jinja2

    try:
        import duckdb  # noqa: F401

        for template, script, styles, undefined, filters in pages:
            page_assets(TEMPLATES, script, styles)
            env = _environment(undefined or jinja2.Undefined, tuple(sorted(filters.items())))
            env.get_template(template)
    except Exception:  # the page made later says what is wrong
        return
