"""The estimate as files: results/cost.csv (one row per job) and results/cost.md (totals per group, the
throughputs, every assumption, and what the run used).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path
from typing import Any

from slkd import backends, design, gpu_monitor, training_flags
from slkd.cost.estimate import Row
from slkd.cost.plan import GROUPS, Corpus
from slkd.cost.rates import GPU_CHECKED, Rates, arch_key, backend, weights_per_token
from slkd.cost.sharing import Sharing, sharing
from slkd.cost.usage import GROUP_RULE, Used, gpu_by_rule, slurm_by_rule

CSV_COLUMNS = ["rule", "job", "group", "architecture", "device", "work", "unit", "rate", "rate_unit", "source",
               "wall_hours", "gpu_hours", "cpu_hours", "wait_hours", "limit_hours", "shared_wall_hours",
               "shared_gpu_hours"]
def usage_lines(rows: list[Row], use: Used) -> list[str]:
    """OUT.md's section on what the run used, each rule against the estimate; none without GPU samples or
    efficiency reports."""
    if not use.gpu and not use.reports:
        return []
    estimated: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        estimated[row.job.rule].append(row)

    def per_job(rule: str) -> str:
        jobs = estimated.get(rule)
        return f"{len(jobs)} | {hours(sum(r.wall for r in jobs) / len(jobs))}" if jobs else "— | —"

    lines = ["", "## What the run used", "",
             "Recorded by the jobs that ran, beside the estimate above (which they do not change): the estimate is of"
             " every job of the configuration at its full budget, while a run may have run only some of them, and"
             " SLURM's records also hold failed and repeated attempts."]
    if use.reports:
        by_rule = slurm_by_rule(use.slurm)
        gpu_rules = {r.job.rule for r in rows if r.device == "gpu"} | {GROUP_RULE}  # group jobs: a model's GPU
        used_gpu = sum(s.elapsed for s in use.slurm if s.rule in gpu_rules)
        lines += ["", f"### SLURM ({len(use.reports)} efficiency reports of snakemake-executor-plugin-slurm, from"
                  f" sacct: {len(use.slurm)} job steps)", "",
                  "| rule | job steps | elapsed hours | hours a step | estimated jobs | estimated hours a job |"
                  " CPU efficiency (%) | peak memory (MB) | peak share of the memory requested (%) |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for rule, r in by_rule.items():
            lines.append(f"| {rule or '(no job comments)'} | {r.steps} | {hours(r.elapsed)} |"
                         f" {hours(r.elapsed / r.steps)} | {per_job(rule)} | {r.cpu_efficiency:.1f} |"
                         f" {r.max_rss_mb:,.0f} | {r.memory_share_peak:.1f} |")
        lines += ["", f"GPU-hours used (the elapsed time of the GPU rules' steps, one GPU each): **{hours(used_gpu)}**,"
                  f" against {hours(sum(r.gpu for r in rows))} estimated for every job. (A run with GPU sharing held"
                  " shards: sacct's reports do not say so, and each shared job counts here as a GPU of its own.)"]
    if use.gpu:
        lines += ["", f"### GPU samples (nvidia-smi, {len(use.gpu)} jobs: {use.logs}/<rule>/<job>{gpu_monitor.SUFFIX})",
                  "", "| rule | jobs sampled | hours sampled | hours a job | estimated jobs | estimated hours a job |"
                  " mean utilisation (%) | peak utilisation (%) | peak memory (MiB) | GPU memory (MiB) |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for rule, g in gpu_by_rule(use.gpu).items():
            lines.append(f"| {rule} | {g.jobs} | {hours(g.seconds)} | {hours(g.seconds / g.jobs)} | {per_job(rule)} |"
                         f" {g.utilization_mean:.1f} | {g.utilization_peak:.0f} | {g.memory_peak:,.0f} |"
                         f" {g.memory_total:,.0f} |")
        lines += ["", "Per job:", "", "| rule | job | samples | hours | mean utilisation (%) | peak utilisation (%) |"
                  " peak memory (MiB) |", "|---|---|---|---|---|---|---|"]
        lines += [f"| {u.rule} | {u.job} | {u.samples} | {hours(u.seconds)} | {u.utilization_mean:.1f} |"
                  f" {u.utilization_peak:.0f} | {u.memory_peak:,.0f} |" for u in use.gpu]
    return lines


# ---- Output --------------------------------------------------------------------------------------------------
def write_csv(rows: list[Row], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for r in rows:
            writer.writerow([r.job.rule, r.job.name, r.job.group, arch_key(r.job.arch), r.device, r.work, r.unit,
                             f"{r.rate:.6g}", r.rate_unit, r.source, f"{r.wall / 3600:.6f}", f"{r.gpu / 3600:.6f}",
                             f"{r.cpu / 3600:.6f}", f"{r.wait / 3600:.6f}",
                             "" if r.limit is None else f"{r.limit / 3600:g}", f"{r.wall_shared / 3600:.6f}",
                             f"{r.gpu_shared / 3600:.6f}"])


def hours(seconds: float) -> str:
    value = seconds / 3600
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}" if value >= 1 else f"{value:,.2f}"


def work_text(rows: list[Row]) -> str:
    total, unit = sum(r.work for r in rows), rows[0].unit
    if total >= 1e6:
        return f"{total / 1e6:,.1f}M {unit}"
    return f"{total / 1e3:,.0f}k {unit}" if total >= 1e4 else f"{total:,} {unit}"


def limit_text(row: Row) -> str:
    """The job's time limit, and whether its wall time exceeds it."""
    limit = "—" if row.limit is None else f"{row.limit / 3600:g}"
    if row.limit is not None and row.wall > row.limit:
        limit += " (exceeded: the job is killed and resumes from its last checkpoint, up to `retries` times)"
    return limit


def group_table(rows: list[Row], processes: int) -> list[str]:
    by_group: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_group[row.job.group].append(row)
    lines = ["| group | jobs | work | device | GPU-hours | CPU core-hours | longest job (h) | time limit (h) |"
             f" GPU-hours, {processes} jobs a GPU | longest job shared (h) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for group in GROUPS:
        group_rows = by_group.get(group)
        if not group_rows:
            continue
        longest = max(group_rows, key=lambda r: r.wall)
        shared = max(group_rows, key=lambda r: r.wall_shared)
        shared_limit = "" if shared.wall_shared <= (shared.limit or float("inf")) else " (over its time limit)"
        lines.append(f"| {group} | {len(group_rows)} | {work_text(group_rows)} | "
                     f"{'/'.join(sorted({r.device for r in group_rows}))} | {hours(sum(r.gpu for r in group_rows))} | "
                     f"{hours(sum(r.cpu for r in group_rows))} | {hours(longest.wall)} | {limit_text(longest)} |"
                     f" {hours(sum(r.gpu_shared for r in group_rows))} | {hours(shared.wall_shared)}{shared_limit} |")
    lines.append(f"| **total** | {len(rows)} | | | **{hours(sum(r.gpu for r in rows))}** | "
                 f"**{hours(sum(r.cpu for r in rows))}** | | | **{hours(sum(r.gpu_shared for r in rows))}** | |")
    return lines


def sharing_lines(rows: list[Row], shared: Sharing) -> list[str]:
    """The section on GPU sharing: the GPU-hours with and without it, and each backend's slowdown and its source."""
    gpu_rows = [r for r in rows if r.device == "gpu"]
    if not gpu_rows:
        return []
    whole, part = sum(r.gpu for r in gpu_rows), sum(r.gpu_shared for r in gpu_rows)
    over = [r for r in gpu_rows if r.limit is not None and r.wall_shared > r.limit]
    used = sorted({backend(r.job.arch) for r in gpu_rows})
    lines = ["", "## GPU sharing", "",
             f"Each GPU job on a whole GPU (profiles/slurm's `gpu: 1`): **{hours(whole)}** GPU-hours. With GPU sharing"
             f" (`gres: \"shard:1\"`, cost.sharing.processes {shared.processes} jobs a GPU): **{hours(part)}**"
             f" GPU-hours, a shared GPU's hours counted once ({part / whole:.0%} of the whole-GPU figure). Each"
             " shared job runs slower than alone:", ""]
    lines += [f"- {backends.get(trainer).TITLE}: each shared job {shared.slowdown(trainer).factor:.2f}x slower than"
              f" alone ({shared.slowdown(trainer).source})." for trainer in used]
    if over:
        longest = max(over, key=lambda r: r.wall_shared)
        lines += ["", f"**{len(over)} GPU jobs would outlast their time limit when shared** (the longest,"
                  f" {longest.job.rule} {longest.job.name}: {hours(longest.wall_shared)} h against"
                  f" {longest.limit / 3600:g} h): each is killed at its limit and resumes from its last checkpoint (up"
                  " to `retries` times), or raise compute.runtime for it."]
    return lines


def gpu_status(rates: Rates) -> str:
    """Which of the Transformers' GPU rates are measured (by the GPU check: where, when, on what) and which are
    still assumed."""
    check = rates.gpu_check
    if check is None:
        where = f"names no file ({rates.gpu_results})" if rates.gpu_results else "is not set"
        return (f"GPU: **assumed** (no GPU check results: cost.{GPU_CHECKED}.gpu_measured {where}). CPU: as its note"
                " says.")
    measured = [kind for kind, value in (("training", check.train_tokens_per_second),
                                         ("decoding", check.decode_sentences_per_second)) if value]
    assumed = [kind for kind in ("training", "decoding") if kind not in measured] + ["f", "the start-up"]
    shared = (f"; {check.concurrent:.1f} trainings shared the GPU on average"
              if check.concurrent and check.concurrent > 1.05 else "")
    return (f"GPU: {' and '.join(measured)} rates **measured** by the GPU check ({check.path}: {check.about};"
            f" model {check.model}{shared}), scaled to the reference; {', '.join(assumed[:-1])} and {assumed[-1]}"
            " are still assumed. CPU: as its note says.")


def throughput_lines(rates: Rates, trainer: str, heading: bool) -> list[str]:
    """The throughput table of one backend; with `heading`, under a heading of its own, saying which of its
    rates are measured and which assumed."""
    reference, lines = rates.references[trainer], []
    if heading:
        lines += [f"### {backends.get(trainer).TITLE}"
                  f" (config {rates.sections[trainer]})", ""]
    what = ("every weight matrix a token goes through; embeddings left out" if trainer == backends.DEFAULT_BACKEND
            else "every weight matrix a token goes through: attention projections, feed-forward layers, output"
            " layer; embeddings left out")
    lines += [f"Of the reference architecture `{arch_key(reference)}` ({weights_per_token(reference):,} weights per"
              " token). Another architecture's time per token is the reference's x (f + (1 − f) x W / W_ref), W its"
              f" weights per token ({what}).", "",
              "| device | training (target tokens/s) | decoding (sentences/s) | f (fixed share) | start-up (s) |"
              " source |", "|---|---|---|---|---|---|"]
    for name, spec in rates.specs[trainer].items():
        lines.append(f"| {name} | {spec.train_tokens_per_second:,.0f} | {spec.decode_sentences_per_second:,.2f} | "
                     f"{spec.fixed_share:g} | {spec.startup_seconds:g} | {spec.note} |")
    if heading and trainer == GPU_CHECKED:
        lines += ["", gpu_status(rates)]
    return lines


def markdown(config: dict[str, Any], rows: list[Row], corpus: Corpus, rates: Rates, cpu_only: list[Row],
             use: Used | None = None) -> str:
    """results/cost.md: totals per group, the throughputs and every assumption; then, where the run left GPU
    samples or SLURM efficiency reports (`use`), what it used."""
    gpu_total, cpu_total = sum(r.gpu for r in rows), sum(r.cpu for r in rows)
    inside = sum(r.cpu for r in rows if r.device == "gpu")
    waiting = [r for r in rows if r.wait > 0]
    compute, teacher = config["compute"], training_flags.teacher_flags(config)
    shared = sharing(config, rates)
    lines = [f"# Cost estimate (outdir `{config['outdir']}`)", "",
             "The jobs of `snakemake table1 table2 table3 figures grid` that take more than seconds: trainings at"
             " their full budgets (upper bounds: Sockeye stops a training after 32 checkpoints without improvement),"
             " decodings and evaluations. One row per job in `cost.csv`.", "", *group_table(rows, shared.processes),
             "",
             f"GPU-hours: **{hours(gpu_total)}** ({gpu_total / 86400:,.1f} GPU-days). CPU core-hours:"
             f" **{hours(cpu_total)}**, of which {hours(inside)} inside the GPU jobs (checkpoint decoding on their CPU"
             " cores).",
             f"The same jobs on CPUs only (compute.device `cpu`): {hours(sum(r.cpu for r in cpu_only))} CPU"
             " core-hours.", *sharing_lines(rows, shared)]
    if waiting:
        lines += ["", f"**Checkpoint decoding outlasts the checkpoint's updates** in {len(waiting)} GPU trainings:"
                  f" they wait {hours(sum(r.wait for r in waiting))} GPU-hours in all (included above) for the"
                  f" CPU decoding of {waiting[0].job.checkpoint_sentences:,} dev sentences at {compute['threads']}"
                  " threads. More compute.threads, a smaller decode-and-evaluate or decode-and-evaluate-use-cpu"
                  " false would avoid it."]
    others = [name for name in backends.BACKENDS
              if name != backends.DEFAULT_BACKEND and any(backend(r.job.arch) == name for r in rows)]
    transformers = bool(others)  # models of a backend other than the paper's: each backend's rates have a heading
    lines += ["", "## Throughputs", ""]
    for i, trainer in enumerate([backends.DEFAULT_BACKEND, *others]):
        lines += [""] * (i > 0) + throughput_lines(rates, trainer, heading=transformers)
    trained = sum(len(v) for v in rates.measured.train.values())
    decoded = sum(len(v) for v in rates.measured.decode.values())
    lines += ["", f"Measured under outdir: {trained} training logs and {decoded} decoding benchmarks" + (
        "; they replace these rates where they apply (the CSV's `source`)." if trained + decoded
        else "; none yet, so every rate above is the configuration's." if not transformers
        else "; none yet, so every rate above is the one given here."), "", "## Assumptions", ""]
    lines += [
        f"- Sentences: train {corpus.train_sentences:,} ({corpus.sources['train']}), dev {corpus.dev_sentences:,}"
        f" ({corpus.sources['dev']}), test {corpus.test_sentences:,} ({corpus.sources['test']}).",
        *(f"- Teacher {d}: {corpus.teacher_tokens[d]:,} BPE target tokens an epoch ({corpus.sources['tokens ' + d]});"
          f" {config['teacher']['max_epochs']} epochs of {teacher['batch-size']}-token batches."
          for d in corpus.teacher_tokens),
        *([f"- Teacher ensembles (teacher.ensemble {design.ensemble_size(config)}): each member trains like one"
           " teacher;"
           " each member translates dev and test on its own, and the ensemble's decodings (distillation, its dev and"
           f" test) take {design.ensemble_size(config)} x one model's time per sentence (every sentence goes through"
           " every member)."] if design.ensemble_size(config) > 1 else []),
        "- Students: checkpoints x checkpoint-frequency updates (--max-updates) of batch-size target tokens"
        + "".join(f" ({b.SOCKEYE}: {b.CHECKPOINT_FLAG} updates of {b.KEYS['train']}'s batch-size)"
                  for b in map(backends.get, others)) + ".",
        "- Throughput depends neither on the batch size nor on the sentence length; decodings at decoding.beam_size"
        " and batch_size, checkpoint decoding (Sockeye's batch 16) at the same rate.",
        "- Checkpoint decoding (decode-and-evaluate) runs in a process of its own beside the training: a GPU job"
        " waits for it only where it takes longer than the checkpoint's updates; a CPU job shares its cores with it.",
        "- GPU jobs: " + (", ".join(sorted({r.job.rule for r in rows if r.device == "gpu"})) or "none")
        + f" (the SLURM profile's `gpu: 1` rules; compute.device `{compute.get('device', 'auto')}`). CPU core-hours:"
        f" wall hours x compute.threads ({compute['threads']}); an evaluation {config['cost']['evaluate_seconds']} s"
        " on one core.",
        "- Not counted: the download, corpus preparation, BPE, statistics, splits, gathers, concatenations, tables"
        " and figures (CPU jobs of seconds to minutes each), queueing, failed attempts.",
    ]
    lines += usage_lines(rows, use) if use is not None else []
    return "\n".join(lines) + "\n"


