"""Which Celery worker ran each mapped task instance of a run (its `hostname`, through the REST
API): the proof that a province's communes and reporting units fan out across the workers."""

from __future__ import annotations

from collections import defaultdict

from scripts.integration.api import AirflowApi

# DAGs whose runs are checked, and whether a run of theirs must have mapped tasks: the police
# reconciliation maps per commune, the fortnightly report per reporting unit in force (one unit,
# the district's office, before the July 2025 reform: its tasks map once).
FANNED_OUT = {"police_reconciliation": True, "fortnightly_report": True}
# Below this many mapped instances a task may fairly run on one worker only; the split is printed.
ENOUGH_TO_SPLIT = 4


class NotSpread(AssertionError):
    pass


def worker_split(
    api: AirflowApi, dag_id: str, run_id: str, workers: set[str], must_spread: bool = False
) -> list[str]:
    """One line per mapped task of the run: how many instances each worker ran, and which
    (by rendered map index: commune names or unit codes). Raises NotSpread when a task with
    enough instances ran on one worker only, or a run that must fan out has no mapped task.
    `must_spread`: the run is the proof that the fan-out reaches both workers, so it also fails
    when none of its mapped tasks has enough instances to show it (a sample too small)."""
    lines = []
    spread = 0
    mapped_tasks = [t["task_id"] for t in api.dag_tasks(dag_id) if t.get("is_mapped")]
    for task_id in mapped_tasks:
        instances = api.mapped_task_instances(dag_id, run_id, task_id)
        by_host: dict[str, list[str]] = defaultdict(list)
        for ti in instances:
            by_host[str(ti.get("hostname") or "(none)")].append(
                str(ti.get("rendered_map_index") or ti["map_index"])
            )
        split = "; ".join(
            f"{host} ran {len(names)} ({', '.join(sorted(names))})" for host, names in sorted(by_host.items())
        )
        lines.append(f"{dag_id} {run_id}: {len(instances)} mapped {task_id} instances — {split}")
        if not set(by_host) <= workers:
            raise NotSpread(f"{lines[-1]}\n  (hosts other than the workers {sorted(workers)})")
        if len(instances) >= ENOUGH_TO_SPLIT:
            if len(by_host) < 2:
                raise NotSpread(f"{lines[-1]}\n  (every instance on one worker)")
            spread += 1
    if not lines:
        if FANNED_OUT.get(dag_id):
            raise NotSpread(f"{dag_id} {run_id}: no mapped task")
        lines.append(f"{dag_id} {run_id}: no mapped task yet (one task for every unit)")
    if must_spread and not spread:
        raise NotSpread(
            f"{dag_id} {run_id}: no mapped task with {ENOUGH_TO_SPLIT} or more instances, "
            "so nothing shows the work spreading over the workers:\n  " + "\n  ".join(lines)
        )
    return lines
