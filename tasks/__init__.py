"""invoke tasks: everything local. `invoke --list` shows them; README describes each."""

import sys
from pathlib import Path

from invoke import Collection

# invoke imports this package by path; make the repository importable too.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tasks import (  # noqa: E402
    account,
    analysis,
    bench,
    crosscheck,
    data,
    explore,
    optimize,
    promote,
    query,
    reconcile,
    report,
    robust,
    run,
)

ns = Collection()
for _module in (
    data,
    run,
    analysis,
    robust,
    optimize,
    account,
    promote,
    reconcile,
    report,
    query,
    explore,
    crosscheck,
    bench,
):
    for _task in Collection.from_module(_module).tasks.values():
        ns.add_task(_task)
