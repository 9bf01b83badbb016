"""The places where the workflow reaches into Snakemake beyond its documented API, each in one function that
says why; tests/test_snakemake_api.py runs them in a real Snakemake run, so an upgrade that breaks one fails there,
not in a user's run. Only the rules import this module (the library's other modules never import Snakemake).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from slkd import gres


def planned_jobs(workflow: Any) -> Iterator[Any]:
    """The jobs that this run will execute (each with .rule.name, .params, .conda_env), in an `onstart` handler.
    Snakemake hands `onstart` only its log; the plan is the DAG's, which has no public accessor."""
    yield from workflow.dag.needrun_jobs()


def rule_gpus(rule: Any) -> int:
    """The `gpu` resource of a rule as planned (a profile's set-resources applied; 0 when it has none, 1 when it is
    computed per job). Snakemake's public `resources` are a job's, known once a job exists; the rule's, which the
    start-up checks need before any job, is its parsed resource's `raw` value."""
    resources = rule.resources
    if "gpu" not in resources:
        return 0
    raw = resources["gpu"].raw  # the value as given: a number, a string, or None for a function of the job
    if raw is None:
        return 1
    try:
        return int(raw)
    except (TypeError, ValueError):
        return 1


def rule_gpu_shards(rule: Any) -> int:
    """The GPU shards (SLURM's `shard` GRES) that a rule's `gres` resource asks for as planned (a profile's
    set-resources applied; 1 when it is computed per job), read from its raw value as rule_gpus reads `gpu`."""
    if "gres" not in rule.resources:
        return 0
    raw = rule.resources["gres"].raw
    return 1 if raw is None else gres.shards(raw)


def keep_search_path_under_conda(workflow: Any) -> None:
    """Let PYTHONPATH through to the jobs under --sdm conda, where Snakemake drops it (foreign packages would shadow
    an environment's) and the workflow's scripts need it to reach their library. The setting is the one that
    `--conda-not-block-search-path-envvars` gives, which a workflow has no public way to set for its users (a
    cluster job gets it too: Snakemake passes its deployment settings on)."""
    workflow.deployment_settings.conda_not_block_search_path_envvars = True
