# Shared by every stage: configuration checks, paths (built in one place), interpreters, input functions.

import os
import shutil
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

sys.path.insert(0, os.path.join(workflow.basedir, "scripts"))
import slkd_config as sc  # noqa: E402


# ---- Configuration: types and unknown keys (schema), then names that refer to each other ---------------
validate(config, schema="../schemas/config.schema.yaml")
try:
    sc.check_config(config)
except sc.ConfigError as err:
    raise WorkflowError(f"Invalid configuration: {err}")

CORPUS = config["corpus"]
SRC, TRG = CORPUS["src"], CORPUS["trg"]
LANGS = [SRC, TRG]
SPLITS = list(sc.SPLITS)
P = sc.paths(config["outdir"])


# ---- Interpreters and scripts ----------------------------------------------------------------------------
# Workflow scripts run as `python`: the interpreter that runs Snakemake comes first on PATH, so its
# environment is used (with --sdm conda, each rule's envs/workflow.yaml environment is activated in front).
# Sockeye runs in its own environment, reached only through `sockeye_python` (a relative path is taken from
# the workflow's folder, where `make setup` puts it).
os.environ.update(PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
SCRIPTS = Path(workflow.basedir) / "scripts"
WORKFLOW_ENV = "../envs/workflow.yaml"
SOCKEYE_ENV = "../envs/sockeye.yaml"


def script(name, args):
    """The shell command that runs one of the workflow's scripts with `args` (a Snakemake shell template)."""
    return f"python {SCRIPTS / name} {args}"


def _sockeye_python(value):
    if "/" not in value:
        return shutil.which(value) or value
    path = Path(value)
    return str(path if path.is_absolute() else Path(workflow.basedir) / path)


SOCKEYE_PY = _sockeye_python(config["sockeye_python"])


wildcard_constraints:
    split="train|dev|test",
    lang="[a-z]{2,3}",
    size="[0-9]+",
    corpus="[A-Za-z0-9][A-Za-z0-9_+.-]*",


def fill(pattern, **wildcards):
    """A path pattern with some wildcards filled in and the others left as wildcards."""
    return expand(pattern, **wildcards, allow_missing=True)[0]


def _stem(rule_name, wildcard_names):
    return ".".join(f"{{{name}}}" for name in wildcard_names) or rule_name


def log_path(rule_name, *wildcard_names):
    """logs/<rule>/<w1>.<w2>....log"""
    return f"{P.logs}/{rule_name}/{_stem(rule_name, wildcard_names)}.log"


def benchmark_path(rule_name, *wildcard_names):
    """benchmarks/<rule>/<w1>.<w2>....tsv"""
    return f"{P.benchmarks}/{rule_name}/{_stem(rule_name, wildcard_names)}.tsv"


# ---- Input functions -------------------------------------------------------------------------------------
def raw_pair(wildcards):
    """Both sides of one split as obtained from the configured source, before any check."""
    source = CORPUS["source"]
    if source == "local":
        local = CORPUS["local"][wildcards.split]
        return {"src": local["src"], "trg": local["trg"]}
    pattern = P.raw_synthetic if source == "synthetic" else P.raw_ted
    return {
        "src": fill(pattern, split=wildcards.split, lang=SRC),
        "trg": fill(pattern, split=wildcards.split, lang=TRG),
    }


# ---- Targets ---------------------------------------------------------------------------------------------
BPE_TARGETS = expand(
    P.bpe_text, size=sc.bpe_sizes(config), corpus="base", split=SPLITS, lang=LANGS
)
STATS_TARGETS = expand(P.stats, corpus=["base"])
