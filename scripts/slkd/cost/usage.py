"""What a run used, where it left a record: the GPU samples of its trainer jobs (slkd.gpu_monitor) and the
efficiency reports of snakemake-executor-plugin-slurm (sacct). Reported beside the estimate; they change none
of its figures.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from slkd import backends, gpu_monitor, layout
from slkd.cost.plan import SLURM_PROFILE

# ---- What the run used: GPU samples (scripts/slkd/gpu_monitor.py) and SLURM efficiency reports ---------------------
EFFICIENCY_REPORTS = "efficiency_report_*.csv"  # snakemake-executor-plugin-slurm's name: efficiency_report_<run>.csv
# A model's group job (its training and decodings, layout.job_group): its steps are reported under this rule, the
# model as their wildcards
GROUP_RULE = "model"
GROUP_PREFIX = layout.job_group("")


def group_job(name: str) -> str | None:
    """The group of a group job's name as Snakemake writes it (and the SLURM plugin after `rule_` in the job's
    comment): the group, then the sorted names of the rules it ran (`model_teacher_de-en_train_teacher_translate_dev
    _translate_test`: `model_teacher_de-en`). None for a job of no model group."""
    if not name.startswith(GROUP_PREFIX):
        return None
    rules = sorted(backends.TRAINER_RULES, key=len, reverse=True)
    while (rule := next((r for r in rules if name.endswith(f"_{r}")), None)) is not None:
        name = name.removesuffix(f"_{rule}")
    return name


@dataclass(frozen=True)
class SlurmStep:
    """One job step of a SLURM efficiency report: its job's rule and wildcards (from the job's comment
    `rule_<rule>_wildcards_<values>`; "" where the cluster keeps no comments; a model's group job: GROUP_RULE and
    the model), elapsed and CPU seconds, CPUs, peak resident memory and the memory requested (MB)."""

    rule: str
    wildcards: str
    job_id: str
    elapsed: float
    cpu: float
    cpus: int
    max_rss_mb: float
    requested_mb: float


def efficiency_folder(profile: Path | None, root: Path = Path(".")) -> Path:
    """Where the SLURM profile has snakemake-executor-plugin-slurm write its efficiency reports: its
    slurm-efficiency-report-path (a relative one from the folder Snakemake runs in, `root`), else `root` (the
    plugin's default, the working folder)."""
    spec = yaml.safe_load(profile.read_text(encoding="utf-8")) if profile is not None and profile.is_file() else {}
    value = (spec or {}).get("slurm-efficiency-report-path")
    folder = Path(str(value)) if value else Path(".")
    return folder if folder.is_absolute() else root / folder


def efficiency_reports(profile: Path | None, root: Path = Path(".")) -> list[Path]:
    """The efficiency reports of the runs so far (one per run of the SLURM executor that asked for one)."""
    return sorted(efficiency_folder(profile, root).glob(EFFICIENCY_REPORTS))


def read_efficiency_report(path: Path) -> list[SlurmStep]:
    """The job steps of one efficiency report, the plugin's CSV (pandas' index column, then JobID, JobName,
    RuleName (absent without job comments), Elapsed, TotalCPU, NNodes, NCPUS, MaxRSS, ReqMem, Elapsed_sec,
    TotalCPU_sec, MaxRSS_MB, RequestedMem_MB, MainJobID, CPU Efficiency (%), Memory Usage (%)). A row whose
    numbers do not parse is left out."""
    steps = []
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rule, _, wildcards = (row.get("RuleName") or "").removeprefix("rule_").partition("_wildcards_")
            group = group_job(rule)
            if group is not None:
                rule, wildcards = GROUP_RULE, group.removeprefix(GROUP_PREFIX)
            try:
                steps.append(SlurmStep(rule, wildcards, row["JobID"], float(row["Elapsed_sec"]),
                                       float(row["TotalCPU_sec"]), int(float(row["NCPUS"])),
                                       float(row["MaxRSS_MB"] or 0), float(row["RequestedMem_MB"] or 0)))
            except (KeyError, TypeError, ValueError):
                continue
    return steps


@dataclass
class Used:
    """What the jobs that ran left: their GPU samples (under `logs`) and the SLURM efficiency reports' steps."""

    logs: Path
    gpu: list[gpu_monitor.JobUsage]
    reports: list[Path]
    slurm: list[SlurmStep]


def used(config: dict[str, Any], profile: Path | None = SLURM_PROFILE, root: Path = Path(".")) -> Used:
    """The GPU samples under outdir's logs/ and the efficiency reports where the SLURM profile puts them."""
    logs = root / layout.paths(config["outdir"]).logs
    reports = efficiency_reports(profile, root)
    return Used(logs, gpu_monitor.job_usages(logs), reports, [s for r in reports for s in read_efficiency_report(r)])


def usage_files(config: dict[str, Any], profile: Path | None = SLURM_PROFILE, root: Path = Path(".")) -> list[Path]:
    """The files `used` reads (so that the rule can redo the estimate when they change)."""
    return [*gpu_monitor.sample_files(root / layout.paths(config["outdir"]).logs), *efficiency_reports(profile, root)]


@dataclass(frozen=True)
class RuleGpu:
    """A rule's GPU samples: jobs sampled, samples, seconds sampled (each job's first to last sample), utilisation
    (%) over every sampled line and at its peak, peak memory used and the GPUs' memory (MiB)."""

    jobs: int
    samples: int
    seconds: float
    utilization_mean: float
    utilization_peak: float
    memory_peak: float
    memory_total: float


def gpu_by_rule(usages: list[gpu_monitor.JobUsage]) -> dict[str, RuleGpu]:
    by_rule: dict[str, list[gpu_monitor.JobUsage]] = defaultdict(list)
    for usage in usages:
        by_rule[usage.rule].append(usage)
    return {rule: RuleGpu(len(jobs), sum(u.samples for u in jobs), sum(u.seconds for u in jobs),
                          sum(u.utilization_mean * u.lines for u in jobs) / sum(u.lines for u in jobs),
                          max(u.utilization_peak for u in jobs), max(u.memory_peak for u in jobs),
                          max(u.memory_total for u in jobs))
            for rule, jobs in sorted(by_rule.items())}


@dataclass(frozen=True)
class RuleSlurm:
    """A rule's SLURM job steps: how many, elapsed and CPU seconds, CPU efficiency (CPU time over elapsed x CPUs,
    %), the peak resident memory (MB) and its peak share of the memory requested (%)."""

    steps: int
    elapsed: float
    cpu: float
    cpu_efficiency: float
    max_rss_mb: float
    memory_share_peak: float


def slurm_by_rule(steps: list[SlurmStep]) -> dict[str, RuleSlurm]:
    by_rule: dict[str, list[SlurmStep]] = defaultdict(list)
    for step in steps:
        by_rule[step.rule].append(step)
    result = {}
    for rule, group in sorted(by_rule.items()):
        allotted = sum(s.elapsed * max(1, s.cpus) for s in group)
        cpu = sum(s.cpu for s in group)
        result[rule] = RuleSlurm(len(group), sum(s.elapsed for s in group), cpu,
                                 100 * cpu / allotted if allotted else 0.0, max(s.max_rss_mb for s in group),
                                 max((100 * s.max_rss_mb / s.requested_mb for s in group if s.requested_mb),
                                     default=0.0))
    return result


