"""Print, as JSON, the jobs that Snakemake plans for targets (each: rule, wildcards, conda environment file) and
the trainer interpreters the workflow hands its jobs, under a deployment method (tests/test_conda.py).

    python tests/snakemake_plan.py --workdir DIR [--sdm conda] [--configfile F ...] TARGET ...

It builds the DAG through Snakemake's API, as a dry run does, without running or creating anything (a conda
deployment still asks `conda info`)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from snakemake.api import SnakemakeApi
from snakemake.settings.types import (
    ConfigSettings,
    DAGSettings,
    DeploymentMethod,
    DeploymentSettings,
    OutputSettings,
    Quietness,
    ResourceSettings,
    StorageSettings,
)

REPO = Path(__file__).resolve().parent.parent


def plan(workdir: Path, targets: list[str], configfiles: list[Path], sdm: list[str]) -> dict[str, object]:
    """The planned jobs and the interpreter variables of the workflow under deployment methods `sdm`."""
    with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
        workflow_api = api.workflow(
            resource_settings=ResourceSettings(cores=1),
            config_settings=ConfigSettings(configfiles=configfiles),
            storage_settings=StorageSettings(),
            deployment_settings=DeploymentSettings(deployment_method={DeploymentMethod.parse_choice(m) for m in sdm}),
            snakefile=REPO / "Snakefile",
            workdir=workdir,
        )
        workflow_api.dag(dag_settings=DAGSettings(targets=set(targets)))
        workflow = workflow_api._workflow  # the DAG as a dry run builds it (no public accessor in Snakemake 9)
        workflow._prepare_dag(forceall=False, ignore_incomplete=True, lock_warn_only=True)
        workflow._build_dag()
        jobs = [
            {"rule": job.rule.name, "wildcards": dict(job.wildcards_dict),
             "conda": job.conda_env_spec.file.get_path_or_uri(secret_free=True) if job.conda_env_spec else None}
            for job in workflow.dag.jobs
        ]
    return {"jobs": jobs, "env": {k: v for k, v in os.environ.items() if k.startswith("SLKD_SOCKEYE")}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--configfile", type=Path, action="append", default=[])
    parser.add_argument("--sdm", action="append", default=[])
    parser.add_argument("targets", nargs="+")
    args = parser.parse_args(argv)
    print(json.dumps(plan(args.workdir, args.targets, args.configfile, args.sdm)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
