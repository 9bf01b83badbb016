# slkd-workflow — Gordon & Duh (2019), "Explaining Sequence-Level Knowledge Distillation as
# Data-Augmentation for Neural Machine Translation", reproduced on Sockeye 1.18.106 / MXNet 1.9.1.
#
# This file is the table of contents: each stage lives in rules/<stage>.smk; paths, configuration checks
# and input functions live in rules/common.smk (and scripts/slkd_config.py, which is tested on its own).
#
#   snakemake -n                         plan the default target (see README: targets and wildcards)
#   snakemake --profile profiles/local   run on one machine
#   make demo                            the embedded offline demo (config/demo.yaml)

from snakemake.utils import min_version

min_version("9.0")


configfile: os.path.join(workflow.basedir, "config.yaml")


include: "rules/common.smk"
# 1. Corpora: the embedded synthetic corpus, TED multitarget (downloaded) or local files;
#    checked strictly, Moses-tokenized where raw, cleaned (--max-seq-len)
include: "rules/corpus.smk"
# 2. BPE: subword-nmt codes per (language, size), applied to every corpus that a model reads
include: "rules/bpe.smk"
# 3. Corpus statistics: tokens and vocabulary per side (Table 2)
include: "rules/stats.smk"


# ---- Targets ------------------------------------------------------------------------------------------


rule all:
    """Default target: the BPE-encoded corpora and their statistics (Table 3 once the models exist)."""
    default_target: True
    input:
        BPE_TARGETS,
        STATS_TARGETS,


rule corpus:
    """The checked, tokenized and cleaned base corpus: train, dev and test, both languages."""
    input:
        expand(P.text, corpus="base", split=SPLITS, lang=LANGS),


rule bpe:
    """Every BPE encoding that the tables, the teachers and the grid need."""
    input:
        BPE_TARGETS,


rule stats:
    """Tokens and vocabulary per side of every corpus (Table 2's raw numbers)."""
    input:
        STATS_TARGETS,


rule demo:
    """What `make demo` runs on the embedded synthetic corpus."""
    input:
        BPE_TARGETS,
        STATS_TARGETS,
