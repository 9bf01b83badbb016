"""The places where the workflow reaches into Snakemake beyond its documented API, each in one function that
says why; tests/test_snakemake_api.py runs them in a real Snakemake run, so an upgrade that breaks one fails there,
not in a user's run. Only the rules import this module (the library's other modules never import Snakemake).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from types import FunctionType
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


def pin_signatures(workflow: Any) -> int:
    """Give each function of every rule (input functions, params, group, conda environment) its signature once, as
    `__signature__`; returns how many it pinned. Snakemake inspects a job function's signature on every call (which of
    wildcards, input, output, threads, ... it takes), and `inspect.signature` answers from `__signature__` where a
    function has one instead of taking the function apart again (a dry run of the paper's configuration inspects
    them about 18,000 times). The functions sit in the rules' input (an unpacked one inside its file object),
    params, group and conda_env, which a workflow defines but has no public way to read back (a rule's `group` reads
    None until the executor is known); call this after the last rule."""
    pinned = 0
    for rule in workflow.rules:
        for item in [*rule.input, *rule.params, rule._group, rule.conda_env]:
            inner = getattr(item, "_file", None)  # an input file object: its function, if it is one (unpack)
            for function in (item, getattr(item, "callable", None), getattr(inner, "callable", None)):
                if isinstance(function, FunctionType) and "__signature__" not in vars(function):
                    function.__signature__ = inspect.signature(function)  # type: ignore[attr-defined]
                    pinned += 1
    return pinned
