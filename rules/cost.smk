# Cost — CPU- and GPU-hours of everything this configuration implies (scripts/cost.py), from each job's budget
# and the throughputs of config `cost` (per backend: Sockeye 1.18 RNNs, cost.sockeye3 for Transformers), or those
# measured by jobs already run under outdir and by the GPU check (cost.sockeye3.gpu_measured); beside them, what
# the run used (GPU samples, SLURM efficiency reports) where it left records. It reads no other job's output and
# trains nothing: `snakemake cost` on a fresh clone takes seconds.

import importlib  # noqa: E402  (slkd.cost.rates, imported only where a run plans the estimate)

INTERPRETER_KEYS = {keys["python"] for keys in backends.keys().values()}  # each trainer backend's interpreter


rule cost:
    """results/cost.csv (one row per training, decoding and evaluation job: work, rate, hours) and
    results/cost.md (the totals per group, the throughputs and every assumption)."""
    output:
        csv=fill(P.cost, ext="csv"),
        md=fill(P.cost, ext="md"),
    params:
        # everything but the interpreters, which the profiles set: switching profiles does not redo the estimate
        config=lambda wildcards: json.dumps(
            {k: v for k, v in config.items() if k not in INTERPRETER_KEYS}, sort_keys=True
        ),
        # changes when finished jobs add or change logs, benchmark files or GPU samples, a SLURM run its
        # efficiency report, or the GPU check its results file: `snakemake cost` estimates again
        measured=lambda wildcards: importlib.import_module("slkd.cost.rates").measurement_stamp(config),
    log:
        log_path("cost"),
    conda:
        WORKFLOW_ENV
    shell:
        script(
            "cost.py",
            "--config-json {params.config:q} --csv {output.csv:q} --md {output.md:q} 2> {log:q}",
        )
