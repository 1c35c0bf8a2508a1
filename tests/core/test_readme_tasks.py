"""Every invoke and fab task is documented in the README and has help text."""

import importlib
import inspect
from pathlib import Path

import pytest
from invoke import Collection

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _tasks(module_name: str):
    module = importlib.import_module(module_name)
    ns = getattr(module, "ns", None) or Collection.from_module(module)
    return sorted(ns.tasks.items())


def _cases():
    for tool, module in (("invoke", "tasks"), ("fab", "fabfile")):
        for name, task in _tasks(module):
            yield pytest.param(tool, name, task, id=f"{tool} {name}")


@pytest.mark.parametrize("tool, name, task", list(_cases()))
def test_task_is_in_readme_with_help(tool, name, task):
    assert f"{tool} {name}" in README, f"README does not mention `{tool} {name}`"
    assert inspect.getdoc(task.body), f"`{tool} {name}` has no docstring"
    params = [p for p in inspect.signature(task.body).parameters if p not in ("c", "ctx")]
    undocumented = [p for p in params if p not in task.help]
    assert not undocumented, f"`{tool} {name}` options without help: {undocumented}"


def test_readme_test_command_is_what_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci in README


@pytest.mark.parametrize("tool, name, task", list(_cases()))
def test_first_docstring_line_is_a_whole_sentence(tool, name, task):
    first = inspect.getdoc(task.body).splitlines()[0]
    assert first.endswith((".", ")")), f"`{tool} {name}`: {first!r} is cut mid-sentence"
