"""invoke tasks: everything local. `invoke --list` shows them; README describes each."""
from invoke import Collection

from tasks import analysis, bench, data, run

ns = Collection()
for _module in (data, run, analysis, bench):
    for _task in Collection.from_module(_module).tasks.values():
        ns.add_task(_task)
