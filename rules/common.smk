# Shared by every stage: the configuration checked, its globals and paths (built in one place), the scripts'
# command; then (rules/common/) the trainers, the input functions and the targets.

import functools
import json
import os
import shlex
import shutil
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.settings.types import DeploymentMethod
from snakemake.utils import validate

sys.path.insert(0, os.path.join(workflow.basedir, "scripts"))
import claims  # noqa: E402  (claims.FORMAT)
import evaluate  # noqa: E402  (evaluate.FORMAT, significance.FORMAT: a new output format reruns the scoring)
import significance  # noqa: E402
from slkd import (  # noqa: E402
    backends, checks, corpus_check, design, gpu_monitor, layout, settings, snakemake_api, training_flags,
)


# ---- Configuration: types and unknown keys (schema), then names that refer to each other ---------------
# Snakemake validates the configuration against the schema; when it fails, its report (the whole schema and
# configuration) is shown only when $SLKD_CONFIG_DETAILS asks for it: otherwise settings.check_schema names the first
# wrong key and its reason in one line. A valid configuration is validated once.
# The schema documents the registry's backends (a backend that it does not is added: backends.schema).
SCHEMA = backends.schema_file(Path(workflow.basedir) / "schemas" / "config.schema.yaml",
                              Path(".snakemake") / "slkd-config.schema.json")
try:
    try:
        validate(config, schema=SCHEMA)
    except WorkflowError:
        if not os.environ.get(settings.CONFIG_DETAILS_VAR):
            settings.check_schema(config, SCHEMA)
        raise
    checks.check_config(config)
except settings.ConfigError as err:
    raise WorkflowError(f"Invalid configuration: {err}")

CORPUS = config["corpus"]
SRC, TRG = CORPUS["src"], CORPUS["trg"]
LANGS = [SRC, TRG]
SPLITS = list(design.SPLITS)
P = layout.paths(config["outdir"])




# ---- Scripts ---------------------------------------------------------------------------------------------------
# Workflow scripts run as `python -m <module>` with scripts/ on PYTHONPATH (rules/common/trainers.smk): the
# interpreter that runs Snakemake comes first on PATH, so its environment is used; with --sdm conda, WORKFLOW_ENV's.
SCRIPTS = Path(workflow.basedir) / "scripts"
WORKFLOW_ENV = f"../{settings.WORKFLOW_ENV}"


# Every path may hold spaces and non-ASCII letters (the clone's folder, outdir, a local corpus): each placeholder
# of a command is quoted by Snakemake (settings.unquoted_fields), and options that a parameter assembles are lists
# of arguments, never a joined string.
def script(name, args):
    """The shell command that runs one of the workflow's scripts with `args` (a Snakemake shell template, every
    placeholder quoted but {threads} and {resources.*}: settings.unquoted_fields)."""
    unquoted = settings.unquoted_fields(args)
    if unquoted:
        raise WorkflowError(f"the command of {name} has placeholders without :q: {', '.join(unquoted)}")
    return f"python -m {Path(name).stem} {args}"


DIRECTIONS = design.directions(config)  # forward: src-trg (kd, best-2); backward: trg-src (bt)
TEACHER_OF = {direction: teacher for teacher, direction in DIRECTIONS.items()}
PARTS = design.parts(config)  # the table of parts (config `parts`): which teacher, which hypothesis
TEACHER_SIZE = config["architectures"][config["teacher"]["architecture"]]["num-words"]
THREADS = config["compute"]["threads"]
RUNTIME = config["compute"]["runtime"]  # minutes, per trainer rule (config.yaml holds every default)
DECODING = config["decoding"]
SHARDS = list(range(DECODING["shards"]))
# Teacher ensembles (teacher.ensemble > 1): N members per direction, trained with seeds teacher.seed ... + N - 1;
# the ensemble decodes (distils, translates dev and test, is held to the floor) from all its members' folders
# with sockeye.translate's --ensemble-mode. With one teacher (the paper's) the decoding and scoring rules have
# neither the parameter nor the option: their commands are those of before, and nothing that finished reruns.
ENSEMBLE_SIZE, ENSEMBLE_MODE = design.ensemble_size(config), design.ensemble_mode(config)
ENSEMBLES = ENSEMBLE_SIZE > 1
# train_teacher's `{teacher}`: each direction's members' names under teacher/ (`de-en`, `de-en.m2`, ...)
MEMBER_LABELS = [layout.teacher_label(m) for d in DIRECTIONS.values() for m in layout.member_models(config, d)]


def ensemble_option(wildcards):
    """translate.py's --ensemble-mode for a decoding by an ensemble (a distill job's; an ensemble's `{model}`),
    else nothing."""
    model = wildcards.model if "model" in wildcards.keys() else None
    if model is None or layout.parse_model(model)["kind"] == "ensemble":
        return ["--ensemble-mode", ENSEMBLE_MODE]
    return []


ENSEMBLE_PARAMS = {"ensemble": ensemble_option} if ENSEMBLES else {}  # the decoding rules' parameter
ENSEMBLE_OPTION = " {params.ensemble:q}" if ENSEMBLES else ""  # and option
# What the tables and claims show and the paired bootstrap compares (evaluation.metric), the metrics shown
# beside it (evaluation.columns), and whether detokenized BLEU is scored at all (only when a table shows it)
METRIC, METRIC_COLUMNS = design.table_metric(config), design.metric_columns(config)
DETOK = design.detok_used(config)
# What the metric is scored on, for the paired bootstrap and the claims: the BPE translations (de-BPE'd when read)
# against the tokenized reference (bleu, chrf), or the detokenized ones against the detokenized reference
# (bleu_detok: rule detok_reference writes it)
DETOK_REFERENCE = layout.fill(P.detok_text, corpus="base", split="test", lang=TRG)
BOOTSTRAP_HYP = P.student_test_detok if METRIC == design.DETOK else P.student_test_hyp
BOOTSTRAP_REF = DETOK_REFERENCE if METRIC == design.DETOK else layout.fill(P.text, corpus="base", split="test", lang=TRG)


wildcard_constraints:
    direction=layout.name_regex(list(DIRECTIONS.values())),
    dataset=layout.name_regex(list(config["datasets"])),
    reference=layout.name_regex(list(config["datasets"])),
    architecture=f"{layout.name_regex(list(config['architectures']))}|{design.GRID_NAME.pattern}",
    dropout="dropout|nodropout",
    checkpoints="[0-9]+",
    trial="[0-9]+",
    shard="[0-9]+",
    part=layout.name_regex(list(PARTS)),
    model=layout.model_regex(),
    split="train|dev|test",
    lang="[a-z]{2,3}",
    normalize="|".join(design.FILTER_NORMALIZE),
    size="[0-9]+",
    corpus="[A-Za-z0-9][A-Za-z0-9_+.-]*",


fill = layout.fill  # a path pattern with some wildcards filled in and the others left as wildcards


def _stem(rule_name, wildcard_names):
    return ".".join(f"{{{name}}}" for name in wildcard_names) or rule_name


def log_path(rule_name, *wildcard_names):
    """logs/<rule>/<w1>.<w2>....log"""
    return f"{P.logs}/{rule_name}/{_stem(rule_name, wildcard_names)}.log"


def benchmark_path(rule_name, *wildcard_names):
    """benchmarks/<rule>/<w1>.<w2>....tsv"""
    return f"{P.benchmarks}/{rule_name}/{_stem(rule_name, wildcard_names)}.tsv"


include: "common/trainers.smk"  # interpreters, environment, the trainer rules' common block, start-up checks
include: "common/inputs.smk"  # input functions: what each job reads
include: "common/targets.smk"  # the result files the tables, claims and figures read, and the targets
