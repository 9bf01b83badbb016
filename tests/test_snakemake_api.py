"""The workflow's uses of Snakemake beyond its documented API (scripts/slkd/snakemake_api.py), run in a real
Snakemake run of a two-rule workflow: an upgrade of Snakemake that breaks one of them fails here."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import REPO, SNAKEMAKE

SNAKEFILE = """
import json, sys
sys.path.insert(0, {scripts!r})
from slkd import snakemake_api

snakemake_api.keep_search_path_under_conda(workflow)

rule all:
    input: "b.txt"

rule make_a:
    output: "a.txt"
    resources: gpu=2
    shell: "echo a > {{output}}"

rule make_b:
    input: unpack(lambda wildcards: {{"a": "a.txt"}})
    output: "b.txt"
    params: word=lambda wildcards: "b"
    group: lambda wildcards: "b"
    conda: lambda wildcards: "b.yaml"
    resources: gpu=lambda wildcards: 1, gres="shard:2"
    shell: "echo {{params.word}} > {{output}}"

PINNED = [snakemake_api.pin_signatures(workflow), snakemake_api.pin_signatures(workflow)]

onstart:
    with open("seen.json", "w") as handle:
        json.dump({{
            "planned": sorted(job.rule.name for job in snakemake_api.planned_jobs(workflow)),
            "gpus": {{name: snakemake_api.rule_gpus(getattr(rules, name).rule)
                     for name in ("all", "make_a", "make_b")}},
            "shards": {{name: snakemake_api.rule_gpu_shards(getattr(rules, name).rule)
                       for name in ("all", "make_a", "make_b")}},
            "conda_search_path": workflow.deployment_settings.conda_not_block_search_path_envvars,
            "pinned": PINNED,
        }}, handle)
"""


@pytest.mark.plan
def test_the_snakemake_internals_the_workflow_uses_still_work(tmp_path: Path) -> None:
    (tmp_path / "Snakefile").write_text(SNAKEFILE.format(scripts=str(REPO / "scripts")))
    (tmp_path / "a.txt").write_text("a\n")  # finished already: not planned
    (tmp_path / "b.yaml").write_text("dependencies: []\n")  # make_b's conda environment (recorded, not used)
    proc = subprocess.run([str(SNAKEMAKE), "--cores", "1", "--set-resources", "make_a:gpu=3"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert seen == {"planned": ["all", "make_b"], "gpus": {"all": 0, "make_a": 3, "make_b": 1},
                    "shards": {"all": 0, "make_a": 0, "make_b": 2}, "conda_search_path": True,
                    "pinned": [4, 0]}
    assert (tmp_path / "b.txt").read_text() == "b\n"
