"""Each planned job costed on its device: wall, GPU, CPU hours, and the time a GPU job waits for its checkpoint
decoding on the CPU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from slkd import backends, gres
from slkd.cost.plan import DEFAULT_GPU_RULES, SOCKEYE_RULES, Corpus, Job, corpus_sizes, jobs
from slkd.cost.rates import Rates, backend, measure
from slkd.cost.sharing import shared_gpu_seconds, sharing


# ---- Estimate ------------------------------------------------------------------------------------------------
@dataclass
class Row:
    job: Job
    device: str
    work: int
    unit: str
    rate: float
    rate_unit: str
    source: str
    wall: float  # seconds
    gpu: float  # GPU-seconds
    cpu: float  # CPU core-seconds
    limit: float | None  # seconds (compute.runtime)
    wait: float = 0.0  # seconds a GPU training waits for its checkpoint decoding
    # on a shared GPU (cost.sharing, slkd.cost.sharing): the job's wall seconds there and its share of the GPU's
    # seconds; a CPU job's are its own wall and 0
    wall_shared: float = 0.0
    gpu_shared: float = 0.0


def job_device(config: dict[str, Any], rule: str, gpu_rules: frozenset[str]) -> str:
    if rule not in SOCKEYE_RULES:
        return "cpu"
    return backends.sockeye_device(config["compute"].get("device", "auto"), 1 if rule in gpu_rules else 0)


def cost_job(config: dict[str, Any], job: Job, device: str, rates: Rates) -> Row:
    threads = config["compute"]["threads"]
    cost = config["cost"]
    limit = config["compute"].get("runtime", {}).get(job.rule)
    limit_seconds = limit * 60.0 if limit else None
    if job.rule == "evaluate":
        seconds = float(cost["evaluate_seconds"])
        return Row(job, "cpu", 1, "jobs", 1 / seconds, "jobs/s", "config cost.evaluate_seconds", seconds, 0.0,
                   seconds, None)
    if job.updates:
        tokens, source = rates.train(device, job.arch)
        per_update = job.batch / tokens
        checkpoints = math.ceil(job.updates / job.checkpoint_interval)
        decode_device = "cpu" if job.checkpoint_on_cpu else device
        decode_seconds = 0.0
        if job.checkpoint_sentences:
            decode_seconds = job.checkpoint_sentences / rates.decode(decode_device, job.arch)[0]
        train_seconds, wait = job.updates * per_update, 0.0
        if source.startswith("measured"):
            wall = train_seconds  # Updates/sec measured per checkpoint already holds any wait for its decoding
        elif decode_device == device:
            wall = train_seconds + checkpoints * decode_seconds  # the same device (cores) does both
        else:
            wait = checkpoints * max(0.0, decode_seconds - job.checkpoint_interval * per_update)
            wall = train_seconds + wait
        cpu = checkpoints * decode_seconds * threads if decode_device == "cpu" and device != "cpu" else 0.0
        if device == "cpu":
            cpu += wall * threads
        return Row(job, device, job.updates, "updates", tokens, "tokens/s", source, wall,
                   wall if device == "gpu" else 0.0, cpu, limit_seconds, wait)
    sentences_per_second, source = rates.decode(device, job.arch)
    if job.models > 1:  # an ensemble: each sentence goes through every member, N x one model's time
        sentences_per_second, source = sentences_per_second / job.models, f"{source}, / {job.models} (ensemble)"
    spec = rates.device(job.arch, device)
    wall = spec.startup_seconds + job.sentences / sentences_per_second if job.sentences else 0.0
    return Row(job, device, job.sentences, "sentences", sentences_per_second, "sentences/s", source, wall,
               wall if device == "gpu" else 0.0, wall * threads if device == "cpu" else 0.0, limit_seconds)


def gpu_rules_of(profile: Path | None) -> frozenset[str]:
    """Rules that a Snakemake profile's set-resources give a `gpu`, or shards of one (`gres`; GPU sharing): the SLURM
    profile's training and decoding."""
    if profile is None or not profile.is_file():
        return DEFAULT_GPU_RULES
    spec = yaml.safe_load(profile.read_text(encoding="utf-8")) or {}
    resources = spec.get("set-resources") or {}
    return frozenset(rule for rule, values in resources.items()
                     if isinstance(values, dict) and (values.get("gpu") or gres.shards(values.get("gres"))))


def estimate(config: dict[str, Any], gpu_rules: frozenset[str] = DEFAULT_GPU_RULES, root: Path = Path("."),
             device: str | None = None) -> tuple[list[Row], Corpus, Rates]:
    """Every costed job with its hours; `device` (cpu/gpu) overrides compute.device."""
    if device:
        config = {**config, "compute": {**config["compute"], "device": device}}
    corpus = corpus_sizes(config, root)
    rates = Rates(config, None)
    if config["cost"].get("measured", True):  # the decoding start-ups are the configured (or GPU check's) ones
        startup = {trainer: {name: spec.startup_seconds for name, spec in specs.items()}
                   for trainer, specs in rates.specs.items()}
        rates.measured = measure(config, startup, root)
    rows = [cost_job(config, job, job_device(config, job.rule, gpu_rules), rates) for job in jobs(config, corpus)]
    shared = sharing(config, rates)
    for row in rows:
        slowdown = shared.slowdown(backend(row.job.arch)).factor if row.device == "gpu" else 1.0
        row.wall_shared = row.wall * slowdown
        row.gpu_shared = shared_gpu_seconds(row.gpu, slowdown, shared.processes)
    return rows, corpus, rates


