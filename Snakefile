# slkd-workflow — Gordon & Duh (2019), "Explaining Sequence-Level Knowledge Distillation as
# Data-Augmentation for Neural Machine Translation", reproduced on Sockeye 1.18.106 / MXNet 1.9.1.
#
# This file is the table of contents: each stage lives in rules/<stage>.smk; paths, configuration checks
# and input functions live in rules/common.smk (and the library scripts/slkd/, which is tested on its own).
#
#   snakemake -n                         plan the default target (README: targets; docs/architecture.md: wildcards)
#   snakemake table3                     run on one machine (profiles/default: all its cores)
#   snakemake --profile slurm table3     run on a SLURM cluster (profiles/slurm)
#   make demo                            the embedded offline demo (config/demo.yaml)

import gc

from snakemake.utils import min_version

min_version("9.0")

# Snakemake keeps a few hundred objects per planned job, and CPython's collector, at its default thresholds (a young
# collection every 700 allocations), walks all of them again and again while the DAG is built: about a tenth of a
# dry run of the paper's configuration. A young generation of 10,000 (the older generations' thresholds kept) leaves
# a third of those collections and changes nothing else (bench/RESULTS.md, P3).
gc.set_threshold(10_000, 10, 10)


configfile: os.path.join(workflow.basedir, "config.yaml")


report: "report/workflow.rst"  # `snakemake --report results/report.html`: tables and figures, captioned


include: "rules/common.smk"
# 1. Corpora: the embedded synthetic corpus, TED multitarget (downloaded) or local files;
#    checked strictly, Moses-tokenized where raw, cleaned (--max-seq-len)
include: "rules/corpus.smk"
# 2. BPE: subword-nmt codes per (language, size), applied to every corpus that a model reads
include: "rules/bpe.smk"
# 3. Corpus statistics: tokens and vocabulary per side (Table 2)
include: "rules/stats.smk"
# 4. Teachers: LARGE, de→en and en→de, above a BLEU floor on dev before they distil (teacher.min_bleu); with
#    teacher.ensemble N, N members each (their own seeds) that decode, and are held to the floor, as one
include: "rules/teacher.smk"
# 5. Distillation: sharded beam search over the training set, gathered into the parts of config `parts`
#    (kd, best-2, seqinterp, bt); a filtered part: another's pairs scored by the other teacher, less the worst
include: "rules/distill.smk"
# 6. Datasets: concatenations of base and distilled parts (baseline, kd, base+kd, base+kd+bt, base+best-2)
include: "rules/datasets.smk"
# 7. Students: the matrix of architectures x datasets x dropout x budgets x trials
include: "rules/student.smk"
# 8. Translation: beam search on the test set (every model) and the dev set (teachers: their floor)
include: "rules/translate.smk"
# 9. Evaluation: test BLEU/chrF with signatures, train perplexity and validation curves; paired bootstrap
#    of each dataset's student against the baseline's
include: "rules/evaluate.smk"
# 10. Tables 1-3 (CSV, Markdown, LaTeX) and the paper's claims answered, with their p-values
include: "rules/tables.smk"
# 11. Figures (PNG, PDF and the plotted series as CSV): Fig. 1 validation curves, Fig. 2 the grid search,
#     Fig. 3 base vs base+kd per architecture
include: "rules/figures.smk"
# 12. Cost: CPU- and GPU-hours of the whole configuration, before or while it runs
include: "rules/cost.smk"


# Steps of seconds run where Snakemake runs (with a cluster executor: on the login node, not as jobs):
# bookkeeping on files that already exist, and the download (compute nodes often have no network).
localrules:
    download_ted,
    check_corpus,
    score_teacher,
    split_for_distillation,
    gather_part,
    filter_part,
    concat_dataset,
    paired_bootstrap,
    table1,
    table2,
    table3,
    figure1,
    figure2,
    figure3,
    cost,


# ---- Targets ------------------------------------------------------------------------------------------


rule all:
    """Default target: Table 3 (the paper's main result)."""
    default_target: True
    input:
        rules.table3.output,


rule tables:
    """Tables 1, 2 and 3, and the paper's claims answered (config `claims`)."""
    input:
        [table_outputs(t) for t in TABLES],
        CLAIMS_OUTPUTS,


rule figures:
    """The figures: Fig. 1 (validation curves of Table 3's students), Figs. 2 and 3 (the grid's students)."""
    input:
        [figure_outputs(f) for f in FIGURES],


rule grid:
    """The grid search (A.1): every grid architecture trained and scored on grid.dataset, and grid.compare's
    also on compare.dataset (Figure 3)."""
    input:
        GRID_RUNS,


rule corpus:
    """The checked, tokenized and cleaned base corpus: train, dev and test, both languages."""
    input:
        expand(P.text, corpus="base", split=SPLITS, lang=LANGS),


rule bpe:
    """Every BPE encoding of the base corpus that the tables, the teachers and the grid need."""
    input:
        BPE_TARGETS,


rule stats:
    """Tokens and vocabulary per side of the base corpus (`table2` adds every dataset's)."""
    input:
        STATS_TARGETS,


rule teachers:
    """The teachers that the tables' datasets need, trained and scored."""
    input:
        expand(P.teacher_score, direction=design.teachers_used(config)),


rule demo:
    """What `make demo` runs on the embedded synthetic corpus: Tables 1-3, the claims and the figures."""
    input:
        [table_outputs(t) for t in TABLES],
        CLAIMS_OUTPUTS,
        [figure_outputs(f) for f in FIGURES],


# Last, once every rule exists: Snakemake reads a job function's signature on every call (to pass it only the
# arguments it takes); each function of the rules gets its own once (snakemake_api.pin_signatures)
snakemake_api.pin_signatures(workflow)
