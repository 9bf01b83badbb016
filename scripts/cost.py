"""CPU- and GPU-hours of everything a configuration implies, before (or while) it runs.

    python -m cost --config-json JSON [--gpu-profile profiles/slurm/config.yaml] --csv OUT.csv --md OUT.md

Run in the folder Snakemake runs in (paths under the config's `outdir` are read from there); the `cost` rule
(rules/cost.smk) passes the merged configuration. Nothing is trained: the jobs are those the configuration
implies (slkd.cost.plan: teachers, the tables' and the grid's students, distillation shards, test decodings,
evaluations; tests/test_cost.py checks them against a dry run), each costed from its budget and a throughput.

The model (stated again in OUT.md):
- training: updates x seconds per update. Students: checkpoints x checkpoint-frequency updates; teachers:
  max_epochs x target tokens / batch-size (word batches), capped by teacher.max_updates. Sockeye stops early
  after 32 checkpoints without improvement, so trainings are upper bounds.
- seconds per update = batch-size / tokens per second. Throughputs (config `cost`) are given per backend and
  device for a reference architecture and scaled to another one of that backend by its weights per token W
  (every weight matrix a target token goes through, embeddings left out; `weights_per_token`): time per token x
  (f + (1 - f) W / W_ref), where f (fixed_share) is the part of the time that does not shrink with the model.
  Sockeye 1.18's RNNs (the paper's): cost.reference, cost.gpu, cost.cpu. Sockeye 3's Transformers (backend
  sockeye3): cost.sockeye3.reference, .gpu, .cpu; where the GPU check's results file exists
  (cost.sockeye3.gpu_measured, bench/gpu-results.json), its measured Transformer GPU rates, scaled to the
  reference, replace the assumed .gpu ones. `parameters` reproduces the sizes both Sockeyes log.
- checkpoint decoding (sockeye_train `decode-and-evaluate`, on the CPU with `decode-and-evaluate-use-cpu`) runs
  beside the training: it adds to a GPU job's wall time only when it is slower than the checkpoint's updates
  (Sockeye waits for it), to a CPU job's wall time always (same cores); its CPU time is counted.
- decoding jobs: start-up + sentences / sentences per second; an ensemble of N teachers (teacher.ensemble)
  decodes at 1/N of one model's rate (each sentence goes through every member), and each of its N members is a
  training and decodes dev and test on its own.
- measured: with `cost.measured`, Sockeye logs (models/**/log: Updates/sec per checkpoint; 1.18's and 3's) and
  the benchmark files of decoding jobs (benchmarks/distill, benchmarks/translate_test) of runs under outdir
  replace the assumed throughputs: per architecture where that one was measured, else scaled from the others of
  its backend measured on that device.
- GPU jobs are the rules that the SLURM profile gives a `gpu` (with compute.device `auto`; `cpu`: none, `gpu`:
  every Sockeye job). CPU time is counted in core-hours (wall x compute.threads).
- what the run used, where it left a record (else OUT.md has no such section): the GPU samples of the trainer
  jobs (logs/<rule>/<job>.gpu.csv under outdir, scripts/slkd/gpu_monitor.py: utilisation and memory per job and per
  rule) and the efficiency reports of snakemake-executor-plugin-slurm (efficiency_report_*.csv in the folder
  the SLURM profile's slurm-efficiency-report-path names: elapsed and CPU time, CPU efficiency and memory per
  rule), each rule against its estimate. They are reported beside the estimate and change none of its figures.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from slkd.cost.estimate import estimate, gpu_rules_of
from slkd.cost.plan import SLURM_PROFILE
from slkd.cost.report import markdown, write_csv
from slkd.cost.usage import used


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config-json", required=True, help="the merged configuration as JSON")
    parser.add_argument("--gpu-profile", type=Path, default=SLURM_PROFILE,
                        help="Snakemake profile whose set-resources name the GPU rules and whose"
                        " slurm-efficiency-report-path holds the efficiency reports (default: profiles/slurm)")
    parser.add_argument("--csv", type=Path, required=True)
    parser.add_argument("--md", type=Path, required=True)
    args = parser.parse_args(argv)
    config = json.loads(args.config_json)
    if "cost" not in config:
        print("ERROR: the configuration has no `cost` section (see config.yaml)", file=sys.stderr)
        return 1
    gpu_rules = gpu_rules_of(args.gpu_profile)
    rows, corpus, rates = estimate(config, gpu_rules)
    cpu_only, _, _ = estimate(config, gpu_rules, device="cpu")
    write_csv(rows, args.csv)
    args.md.parent.mkdir(parents=True, exist_ok=True)
    args.md.write_text(markdown(config, rows, corpus, rates, cpu_only, used(config, args.gpu_profile)),
                       encoding="utf-8")
    print(f"{len(rows)} jobs: {sum(r.gpu for r in rows) / 3600:,.1f} GPU-hours, "
          f"{sum(r.cpu for r in rows) / 3600:,.1f} CPU core-hours", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
