"""The experiment as the configuration defines it: checks across keys, the student matrix, the grid, paths.

Types and unknown keys are checked against `schemas/config.schema.yaml` by `check_schema`, which names one
key and its reason in one line (Snakemake's own `validate` follows, and prints its full report, schema and
configuration included, when $SLKD_CONFIG_DETAILS is set); `check_config` checks what a JSON schema cannot
(names that refer to each other, and local corpus paths of a split that name one file). The module then
expands the configuration into the jobs it implies. The DAG follows from the configuration alone: nothing here
reads a corpus.
"""

from __future__ import annotations

import difflib
import itertools
import os
import re
import string
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

BASE = "base"  # the real bitext: the one part of a dataset (config `datasets`) that no teacher writes
ORACLE = "oracle"  # a part's hypothesis: per sentence, the n-best one closest to the real side (seqinterp)
SPLITS = ("train", "dev", "test")
EVAL_SPLITS = ("dev", "test")  # the splits that score models: their pairs should not be training pairs

# Trainer backends: an architecture names its own (`backend:`), the paper's Sockeye 1.18 RNNs by default. Each
# backend has its interpreter, the flags of every training and the flags that replace them without dropout,
# under these configuration keys.
DEFAULT_BACKEND = "sockeye1"
# The rules whose jobs run a trainer (training or decoding): the GPU rules of profiles/slurm
TRAINER_RULES = ("train_teacher", "train_student", "distill", "score_part", "translate_test", "translate_dev")
BACKEND_KEYS = {
    "sockeye1": {"python": "sockeye_python", "train": "sockeye_train", "no_dropout": "no_dropout"},
    "sockeye3": {"python": "sockeye3_python", "train": "sockeye3_train", "no_dropout": "sockeye3_no_dropout"},
}
# The conda environment of each backend (`--sdm conda`): the rules that run its trainer are planned in it, and
# its `python` is the trainer (the backend's `python` key is then not read). The workflow's own scripts run in
# WORKFLOW_ENV.
BACKEND_ENVS = {"sockeye1": "envs/sockeye.yaml", "sockeye3": "envs/sockeye3.yaml"}
# The CPU kernels of trainer jobs (config compute.cpu_kernels), the default first: `portable` pins every math
# library of both trainer stacks to code that gives the same bits on any x86-64 processor with AVX2 (each
# backend's PORTABLE, scripts/trainers/); `native` lets each library pick the fastest code for the processor.
CPU_KERNELS = ("portable", "native")
WORKFLOW_ENV = "envs/workflow.yaml"
# The metrics a table can show (config evaluation.metric, evaluation.columns), each a run file's key with its
# `<key>_signature` (scripts/evaluate.py): the paper's tokenized BLEU, detokenized BLEU (sacrebleu's default 13a
# on Moses-detokenized text: scored only when a table shows it) and chrF
METRICS = ("bleu", "bleu_detok", "chrf")
DETOK = "bleu_detok"


def merge_config(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Deep merge like Snakemake's update_config: dictionaries key by key, anything else replaced (in place)."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge_config(base[key], value)
        else:
            base[key] = value
    return base


def load_config(root: str | Path, *overrides: str | Path) -> dict[str, Any]:
    """`root`/config.yaml merged with override files, as Snakemake merges --configfile."""
    config = yaml.safe_load((Path(root) / "config.yaml").read_text(encoding="utf-8"))
    for path in overrides:
        merge_config(config, yaml.safe_load(Path(path).read_text(encoding="utf-8")))
    return config


class ConfigError(ValueError):
    """A configuration that names something that does not exist; the message names the key."""


CONFIG_DETAILS_VAR = "SLKD_CONFIG_DETAILS"  # set (to anything but empty): Snakemake's full schema report instead


def key_path(path: Any) -> str:
    """The dotted path of a configuration key, list items as `[i]`: `tables.table3.datasets[1]`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f"{'.' if text else ''}{part}"
    return text


def _unknown_keys(error: Any) -> str:
    """`key: unknown key (...)` for an additionalProperties error, with a close known key or the known keys."""
    schema, instance = error.schema, error.instance
    known = list(schema.get("properties", {}))
    patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
    extra = [k for k in instance if k not in known and not any(p.search(k) for p in patterns)]
    if not extra:  # additionalProperties is a schema: one of the extra values is wrong
        return f"{key_path(error.absolute_path) or '(top level)'}: {error.message}"
    keys = ", ".join(key_path([*error.absolute_path, k]) for k in extra)
    close = difflib.get_close_matches(str(extra[0]), known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(sorted(known))}"
    return f"{keys}: unknown key{'s' if len(extra) > 1 else ''} ({hint})"


def schema_error(config: dict[str, Any], schema: dict[str, Any]) -> str | None:
    """One line naming a key and why the schema refuses it (None when config is valid): `corpus.max_len: 'abc'
    is not of type 'integer'`. Of several errors, an unconditional one (not under if/then/else) is preferred
    (a wrong `backend` rather than the flags its `else` branch requires), then jsonschema's best_match."""
    from jsonschema import validators
    from jsonschema.exceptions import best_match

    validator = validators.validator_for(schema)(schema)
    errors = list(validator.iter_errors(config))
    if not errors:
        return None
    unconditional = [e for e in errors if not {"if", "then", "else"} & set(map(str, e.absolute_schema_path))]
    error = best_match(unconditional or errors)
    if error.validator == "additionalProperties" and error.validator_value is False:
        return _unknown_keys(error)
    path = list(error.absolute_path)
    if "propertyNames" in error.absolute_schema_path:  # the key's own name is refused: name the key
        path.append(error.instance)
    return f"{key_path(path) or '(top level)'}: {error.message}"


def check_schema(config: dict[str, Any], schema_path: str | Path) -> None:
    """ConfigError with schema_error's line, and how to see the full report, when config breaks the schema."""
    schema = yaml.safe_load(Path(schema_path).read_text(encoding="utf-8"))
    line = schema_error(config, schema)
    if line:
        raise ConfigError(f"{line}; for the full schema report set {CONFIG_DETAILS_VAR}=1")


@dataclass(frozen=True, order=True)
class Student:
    """One student training: architecture, dataset, dropout setting, checkpoint budget and trial (= seed)."""

    architecture: str
    dataset: str
    dropout: bool
    checkpoints: int
    trial: int

    @property
    def wildcards(self) -> dict[str, str]:
        return {
            "architecture": self.architecture,
            "dataset": self.dataset,
            "dropout": dropout_label(self.dropout),
            "checkpoints": str(self.checkpoints),
            "trial": str(self.trial),
        }


def sockeye_device(setting: str, gpus: Any) -> str:
    """`gpu` or `cpu` for one job: the compute.device setting, where `auto` means the GPU exactly when the job
    holds at least one (its `gpu` resource, a count; SLURM then exports that device as CUDA_VISIBLE_DEVICES)."""
    if setting in ("cpu", "gpu"):
        return setting
    if setting != "auto":
        raise ConfigError(f"compute.device: {setting!r} is not one of auto, cpu, gpu")
    try:
        count = int(gpus or 0)
    except (TypeError, ValueError):
        raise ConfigError(f"resource gpu: {gpus!r} is not a number of GPUs") from None
    return "gpu" if count > 0 else "cpu"


def dropout_label(dropout: bool) -> str:
    """The path component of a dropout setting."""
    return "dropout" if dropout else "nodropout"


def parse_dropout(label: str) -> bool:
    """Inverse of `dropout_label`."""
    if label not in ("dropout", "nodropout"):
        raise ValueError(f"not a dropout label: {label!r}")
    return label == "dropout"


def backend_of(config: dict[str, Any], name: str) -> str:
    """The trainer backend of an architecture (its `backend`, sockeye1 when it names none)."""
    return architecture(config, name).get("backend", DEFAULT_BACKEND)


def model_architecture(config: dict[str, Any], model: str) -> str:
    """The architecture name of a `{model}`: teacher.architecture for a teacher (any member, the ensemble), else
    the student's own."""
    info = parse_model(model)
    return info["architecture"] if info["kind"] == "student" else config["teacher"]["architecture"]


def model_backend(config: dict[str, Any], model: str) -> str:
    """The trainer backend of a `{model}`: the teacher architecture's, or the student's."""
    return backend_of(config, model_architecture(config, model))


def backends_used(config: dict[str, Any]) -> list[str]:
    """The backends of every model the configuration trains (teacher(s), tables, grid), in BACKEND_KEYS order."""
    names = {s.architecture for s in all_students(config)}
    if teachers_used(config):
        names.add(config["teacher"]["architecture"])
    used = {backend_of(config, name) for name in names}
    return [b for b in BACKEND_KEYS if b in used]


def check_config(config: dict[str, Any]) -> None:
    """Raise ConfigError, naming the key, for every reference to an undefined dataset or architecture."""
    architectures = config["architectures"]
    datasets = config["datasets"]
    corpus = config["corpus"]
    if corpus["src"] == corpus["trg"]:
        raise ConfigError(f"corpus.src and corpus.trg are both {corpus['src']!r}")
    if config["teacher"]["architecture"] not in architectures:
        raise ConfigError(
            f"teacher.architecture: unknown architecture {config['teacher']['architecture']!r}"
            f" (defined: {', '.join(architectures)})"
        )
    teacher_backend = backend_of(config, config["teacher"]["architecture"])
    if ensemble_size(config) > 1 and ensemble_mode(config) == "log_linear" and teacher_backend == "sockeye3":
        raise ConfigError("teacher.ensemble_mode: log_linear fails in Sockeye 3.1.34, the teacher's backend (its"
                          " beam search calls log_softmax() without a dimension: a TypeError at the first sentence);"
                          " use linear")
    if BASE in datasets:
        raise ConfigError("datasets.base: `base` names the real bitext; call the dataset e.g. `baseline`")
    if BASE in config["parts"]:
        raise ConfigError("parts.base: `base` names the real bitext, which no teacher writes")
    for name, items in datasets.items():
        for i, part in enumerate(items):
            if part != BASE and part not in config["parts"]:
                raise ConfigError(f"datasets.{name}[{i}]: unknown part {part!r}"
                                  f" (defined: {', '.join([BASE, *config['parts']])}; config `parts`)")
    for table, spec in config["tables"].items():
        for i, name in enumerate(spec["datasets"]):
            if name not in datasets:
                raise ConfigError(
                    f"tables.{table}.datasets[{i}]: unknown dataset {name!r} (defined: {', '.join(datasets)})"
                )
        for i, column in enumerate(spec["columns"]):
            if column["architecture"] not in architectures:
                raise ConfigError(
                    f"tables.{table}.columns[{i}].architecture: unknown architecture"
                    f" {column['architecture']!r} (defined: {', '.join(architectures)})"
                )
    decoding = config["decoding"]
    if decoding["nbest"] > decoding["beam_size"]:  # Sockeye refuses it only when the teacher distils
        raise ConfigError(f"decoding.nbest: {decoding['nbest']} hypotheses from a beam of {decoding['beam_size']}"
                          " (decoding.beam_size); Sockeye's n-best list holds at most the beam")
    for name, spec in config["parts"].items():
        source = spec.get("filter")
        if source is not None and (source not in config["parts"] or "filter" in config["parts"][source]):
            unfiltered = [p for p, s in config["parts"].items() if "filter" not in s]
            raise ConfigError(f"parts.{name}.filter: {source!r} is not a part that a teacher writes"
                              f" (those: {', '.join(unfiltered) or 'none'}; config `parts`)")
    for part in parts(config).values():
        if part.hypothesis != ORACLE and part.hypothesis > nbest(config, part.teacher):
            raise ConfigError(f"parts.{part.name}.hypothesis: rank {part.hypothesis} of an n-best list of"
                              f" {nbest(config, part.teacher)} (decoding.nbest)")
    baseline = config["evaluation"]["significance"]["baseline"]
    if baseline not in datasets:
        raise ConfigError(f"evaluation.significance.baseline: unknown dataset {baseline!r}"
                          f" (defined: {', '.join(datasets)})")
    check_metrics(config)
    check_claims(config)
    grid = config.get("grid") or {}
    for key, section in (("grid.dataset", grid), ("grid.compare.dataset", grid.get("compare") or {})):
        if section.get("dataset") and section["dataset"] not in datasets:
            raise ConfigError(f"{key}: unknown dataset {section['dataset']!r} (defined: {', '.join(datasets)})")
    for name in list(architectures):
        if parse_grid_name(name) not in (None, architectures[name]):
            raise ConfigError(f"architectures.{name}: a grid-style name must have the flags it spells")
    if corpus["source"] == "local":
        local = corpus.get("local", {})
        for split in SPLITS:
            for side in ("src", "trg"):
                if not local.get(split, {}).get(side):
                    raise ConfigError(f"corpus.local.{split}.{side}: a path is required when corpus.source is local")
            src, trg = local[split]["src"], local[split]["trg"]
            if same_file(src, trg):
                names = src if src == trg else f"{src} and {trg}"
                raise ConfigError(f"corpus.local.{split}.src and corpus.local.{split}.trg name the same file ({names}):"
                                  " a split needs two sides")
    if corpus["source"] == "synthetic" and {corpus["src"], corpus["trg"]} != {"de", "en"}:
        raise ConfigError("corpus.src/corpus.trg: the synthetic corpus is German-like/English-like: de and en")
    if corpus["source"] == "ted" and "en" not in (corpus["src"], corpus["trg"]):
        raise ConfigError("corpus.src/corpus.trg: the TED multitarget corpus pairs English with another language")
    check_schedules(config)  # last: it plans every training, so every name it meets must be known by now


# Placeholders of a rule's shell command that may go without Snakemake's `:q` (numbers, never paths)
UNQUOTED_FIELDS = ("threads", "resources.")


def unquoted_fields(template: str) -> list[str]:
    """The placeholders of a Snakemake shell template that lack `:q` (Snakemake's shell quoting; a list's elements
    one by one), but {threads} and {resources.*}: every path may hold spaces and non-ASCII letters."""
    return [field for _, field, spec, _ in string.Formatter().parse(template)
            if field is not None and spec != "q" and not field.startswith(UNQUOTED_FIELDS)]


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one file: the same path once normalised, or (when both exist) the same file reached
    another way (a symbolic or hard link). Relative paths are taken from the working directory."""
    if os.path.normpath(a) == os.path.normpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # either is missing or cannot be reached: the corpus check names it
        return False


def drop_eval_texts(config: dict[str, Any], split: str) -> dict[str, tuple[str, str]]:
    """The prepared texts ({split: (source, target)}) of the evaluation splits whose pairs the preparation of
    `split` drops: dev's and test's for train with corpus.drop_eval_overlap, else none."""
    corpus = config["corpus"]
    if split != "train" or not corpus["drop_eval_overlap"]:
        return {}
    text = fill(paths(config["outdir"]).text, corpus=BASE)
    return {s: (fill(text, split=s, lang=corpus["src"]), fill(text, split=s, lang=corpus["trg"])) for s in EVAL_SPLITS}


def drop_eval_options(config: dict[str, Any], split: str) -> list[str]:
    """scripts/prepare_corpus.py's `--drop-eval SPLIT SRC TRG` options for `split` (drop_eval_texts)."""
    return [arg for s, (src, trg) in drop_eval_texts(config, split).items() for arg in ("--drop-eval", s, src, trg)]


def column_trials(config: dict[str, Any], column: dict[str, Any]) -> int:
    """A table column's trials: its own `trials`, or the configuration's."""
    return int(column.get("trials", config["trials"]))


def students(config: dict[str, Any], tables: list[str] | None = None) -> list[Student]:
    """The distinct student trainings of the given tables (all tables when None), in a stable order."""
    runs: set[Student] = set()
    for table in tables if tables is not None else list(config["tables"]):
        spec = config["tables"][table]
        for column in spec["columns"]:
            for dataset, trial in itertools.product(spec["datasets"], range(1, column_trials(config, column) + 1)):
                runs.add(Student(column["architecture"], dataset, column["dropout"], spec["checkpoints"], trial))
    return sorted(runs)


def compared_students(config: dict[str, Any], table: str) -> list[Student]:
    """A table's students that are compared with their baseline twin (evaluation.significance.baseline):
    every one of another dataset, when the table trains the baseline dataset too (none otherwise)."""
    baseline = config["evaluation"]["significance"]["baseline"]
    if baseline not in config["tables"][table]["datasets"]:
        return []
    return [s for s in students(config, [table]) if s.dataset != baseline]


def table_metric(config: dict[str, Any]) -> str:
    """The metric the tables and claims show and the paired bootstrap compares (evaluation.metric; bleu, the
    paper's tokenized BLEU, by default)."""
    return config["evaluation"].get("metric", "bleu")


def metric_columns(config: dict[str, Any]) -> list[str]:
    """The metrics shown beside it (evaluation.columns; none by default)."""
    return list(config["evaluation"].get("columns") or [])


def detok_used(config: dict[str, Any]) -> bool:
    """Whether a table shows detokenized BLEU: then each student's translations are detokenized and scored."""
    return DETOK in (table_metric(config), *metric_columns(config))


def check_metrics(config: dict[str, Any]) -> None:
    """ConfigError, naming the key, for an unknown metric or one shown twice (evaluation.metric, columns)."""
    metric = table_metric(config)
    if metric not in METRICS:
        raise ConfigError(f"evaluation.metric: unknown metric {metric!r} (known: {', '.join(METRICS)})")
    seen = []
    for i, name in enumerate(metric_columns(config)):
        if name not in METRICS:
            raise ConfigError(f"evaluation.columns[{i}]: unknown metric {name!r} (known: {', '.join(METRICS)})")
        if name == metric:
            raise ConfigError(f"evaluation.columns[{i}]: {name!r} is the tables' metric already (evaluation.metric)")
        if name in seen:
            raise ConfigError(f"evaluation.columns[{i}]: {name!r} is shown twice")
        seen.append(name)


def check_claims(config: dict[str, Any]) -> None:
    """ConfigError, naming the key, for a `claims` entry that names an undefined table, architecture or dataset."""
    claims = config.get("claims")
    if not claims:
        return
    if claims["table"] not in config["tables"]:
        raise ConfigError(f"claims.table: unknown table {claims['table']!r} (defined: {', '.join(config['tables'])})")
    if claims["architecture"] not in config["architectures"]:
        raise ConfigError(f"claims.architecture: unknown architecture {claims['architecture']!r}"
                          f" (defined: {', '.join(config['architectures'])})")
    named = [(key, claims[key]) for key in ("baseline", "kd", "combined")]
    named += [(f"augmented[{i}]", name) for i, name in enumerate(claims["augmented"])]
    for key, name in named:
        if name not in config["datasets"]:
            raise ConfigError(f"claims.{key}: unknown dataset {name!r} (defined: {', '.join(config['datasets'])})")


# The claims' verdicts (config `claims`, optional keys): the non-inferiority margin of "combined is at least as good
# as kd" in the metric's points, the confidence of the effects' intervals, the bootstrap's resamples and seed
CLAIM_DEFAULTS = {"margin": 0.5, "confidence": 0.95, "samples": 1000, "seed": 12345}


def claim_settings(config: dict[str, Any]) -> dict[str, Any]:
    """The claims' verdict settings (CLAIM_DEFAULTS' keys), as configured or by default."""
    claims = config.get("claims") or {}
    return {key: claims.get(key, default) for key, default in CLAIM_DEFAULTS.items()}


def claim_students(config: dict[str, Any]) -> tuple[list[Student], list[tuple[Student, str]]]:
    """What the claims read (config `claims`): the claims table's students of the claims architecture (with and
    without dropout, as the table has them) on the claims' datasets, and the paired bootstrap comparisons behind
    the claims as (student, reference dataset): kd and each augmented dataset against baseline, combined
    against kd. Nothing without `claims`."""
    claims = config.get("claims")
    if not claims:
        return [], []
    wanted = {claims["baseline"], claims["kd"], claims["combined"], *claims["augmented"]}
    chosen = [s for s in students(config, [claims["table"]])
              if s.architecture == claims["architecture"] and s.dataset in wanted]
    present = {(s.dropout, s.trial, s.dataset) for s in chosen}
    references = {claims["kd"]: claims["baseline"], **{name: claims["baseline"] for name in claims["augmented"]}}
    comparisons = []
    for s in chosen:
        for reference in {references.get(s.dataset), claims["kd"] if s.dataset == claims["combined"] else None}:
            if reference and reference != s.dataset and (s.dropout, s.trial, reference) in present:
                comparisons.append((s, reference))
    return chosen, sorted(comparisons)


def datasets_used(config: dict[str, Any], tables: list[str] | None = None) -> list[str]:
    """Dataset names that the given tables train on, in config order."""
    used = {s.dataset for s in students(config, tables)}
    return [name for name in config["datasets"] if name in used]


@dataclass(frozen=True)
class Part:
    """A distilled part (config `parts`, the table of parts): which teacher writes it (`forward`: src→trg,
    translating the real sources; `backward`: trg→src, translating the real targets) and which hypothesis of
    that teacher's n-best list it keeps (a rank, 1 the best, or ORACLE). Its pairs are the real sentence the
    teacher read and that hypothesis."""

    name: str
    teacher: str
    hypothesis: int | str
    # A filtered part (config `filter`): the pairs of the part `filtered` (same teacher and hypothesis), scored
    # by the teacher of the other direction, less the `drop` share with the worst scores (cross-entropy
    # filtering); `normalize`: `length` (per token) or `none` (per sentence)
    filtered: str | None = None
    drop: float = 0.0
    normalize: str = "length"


FILTER_NORMALIZE = ("length", "none")


def parts(config: dict[str, Any]) -> dict[str, Part]:
    """The table of parts, in config order; a filtered part takes its teacher and hypothesis from the part it
    filters (check_config has checked that this one exists and is not filtered itself)."""
    table = config["parts"]
    result = {}
    for name, spec in table.items():
        if "filter" in spec:
            source = table.get(spec["filter"], {})
            result[name] = Part(name, source.get("teacher", ""), source.get("hypothesis", 1), spec["filter"],
                                spec["drop"], spec.get("normalize", "length"))
        else:
            result[name] = Part(name, spec["teacher"], spec["hypothesis"])
    return result


def filter_scorer(config: dict[str, Any], part: Part) -> str:
    """The direction of the teacher that scores a filtered part's pairs: the other one than the part's (it reads
    the part's hypothesis side and scores the real sentence)."""
    other = "backward" if part.teacher == "forward" else "forward"
    return directions(config)[other]


def part_direction(config: dict[str, Any], part: Part) -> str:
    """The direction (`de-en`) of the teacher that writes a part."""
    return directions(config)[part.teacher]


def nbest(config: dict[str, Any], teacher: str) -> int:
    """The size of a teacher's n-best list when it distils: decoding.nbest for the forward teacher; 1 for the
    backward one unless a part of the table needs more of its hypotheses."""
    if teacher == "forward" or any(p.hypothesis != 1 for p in parts(config).values() if p.teacher == teacher):
        return config["decoding"]["nbest"]
    return 1


def parts_used(config: dict[str, Any], tables: list[str] | None = None) -> list[str]:
    """Parts (base and the table's) that the given tables' datasets need; with None, the grid's too."""
    names = set(datasets_used(config, tables))
    if tables is None:
        names |= {s.dataset for s in grid_students(config)}
    used = {part for name in names for part in config["datasets"][name]}
    used |= {config["parts"][part]["filter"] for part in used if "filter" in config["parts"].get(part, {})}
    return [part for part in [BASE, *config["parts"]] if part in used]


GRID_KEYS = ("num-words", "num-embed", "num-layers", "rnn-cell-type", "rnn-num-hidden")
GRID_NAME = re.compile(r"bpe(\d+)-e(\d+)-l(\d+)-(lstm|gru)-h(\d+)")


def grid_architectures(config: dict[str, Any], section: str = "search") -> list[dict[str, Any]]:
    """Every combination of a grid section's values, less those an `exclude` entry matches. `search` is A.1
    (Figure 2: the grid's own keys), `compare` the architectures of Figure 3 (grid.compare); [] when absent."""
    grid = config.get("grid") or {}
    values = grid if section == "search" else grid.get("compare")
    if not values:
        return []
    result = []
    for combination in itertools.product(*(values[k] for k in GRID_KEYS)):
        arch = dict(zip(GRID_KEYS, combination, strict=True))
        excluded = any(
            all(arch[key] in allowed for key, allowed in entry.items()) for entry in values.get("exclude", [])
        )
        if not excluded:
            result.append(arch)
    return result


def grid_name(arch: dict[str, Any]) -> str:
    """A path-safe name for a grid architecture, e.g. `bpe500-e256-l1-lstm-h256`."""
    return (
        f"bpe{arch['num-words']}-e{arch['num-embed']}-l{arch['num-layers']}"
        f"-{arch['rnn-cell-type']}-h{arch['rnn-num-hidden']}"
    )


def architecture_name(config: dict[str, Any], arch: dict[str, Any]) -> str:
    """The name a grid architecture trains under: a named architecture (config `architectures`) with exactly
    these flags keeps its name (LARGE, SMALL), so a grid model that equals a table's model is trained once."""
    for name, spec in config["architectures"].items():
        if spec == arch:
            return name
    return grid_name(arch)


def architecture(config: dict[str, Any], name: str) -> dict[str, Any]:
    """The sockeye.train flags of an architecture: a named one, or a grid name such as `bpe500-e256-l1-lstm-h256`."""
    if name in config["architectures"]:
        return config["architectures"][name]
    spec = parse_grid_name(name)
    if spec is None:
        raise ConfigError(f"unknown architecture {name!r} (defined: {', '.join(config['architectures'])},"
                          " or a grid name such as bpe500-e256-l1-lstm-h256)")
    return spec


def parse_grid_name(name: str) -> dict[str, Any] | None:
    """Inverse of `grid_name`; None for any other name."""
    match = GRID_NAME.fullmatch(name)
    if not match:
        return None
    words, embed, layers, cell, hidden = match.groups()
    return {"num-words": int(words), "num-embed": int(embed), "num-layers": int(layers), "rnn-cell-type": cell,
            "rnn-num-hidden": int(hidden)}


def grid_students(config: dict[str, Any], section: str | None = None) -> list[Student]:
    """The grid's trainings: every `search` architecture on grid.dataset (Figure 2) and every `compare`
    architecture on grid.dataset and on grid.compare.dataset (Figure 3); one section or both (None)."""
    grid = config.get("grid") or {}
    if not grid:
        return []
    runs: set[Student] = set()
    sections = [section] if section else ["search", "compare"]
    for name in sections:
        datasets = [grid["dataset"]]
        if name == "compare" and grid.get("compare"):
            datasets.append(grid["compare"]["dataset"])
        for arch, dataset, trial in itertools.product(
            grid_architectures(config, name), datasets, range(1, grid["trials"] + 1)
        ):
            runs.add(Student(architecture_name(config, arch), dataset, grid["dropout"], grid["checkpoints"], trial))
    return sorted(runs)


def all_students(config: dict[str, Any]) -> list[Student]:
    """Every student training the configuration implies: the tables' and the grid's, each once."""
    return sorted(set(students(config)) | set(grid_students(config)))


def bpe_sizes(config: dict[str, Any], grid: bool = True) -> list[int]:
    """BPE sizes (merges) of every architecture the tables and the teacher use, and of the grid."""
    names = {config["teacher"]["architecture"]} | {s.architecture for s in students(config)}
    sizes = {config["architectures"][n]["num-words"] for n in names}
    if grid:
        sizes |= {architecture(config, s.architecture)["num-words"] for s in grid_students(config)}
    return sorted(sizes)


def directions(config: dict[str, Any]) -> dict[str, str]:
    """The teachers: `forward` (src-trg, for kd and best-2) and `backward` (trg-src, for bt) directions."""
    src, trg = config["corpus"]["src"], config["corpus"]["trg"]
    return {"forward": f"{src}-{trg}", "backward": f"{trg}-{src}"}


def distilling_teachers(config: dict[str, Any]) -> list[str]:
    """Directions of the teachers whose beam writes a part that the tables' and the grid's datasets need."""
    table = parts(config)
    teachers = {table[name].teacher for name in parts_used(config) if name != BASE}
    return [direction for teacher, direction in directions(config).items() if teacher in teachers]


def scored_parts(config: dict[str, Any]) -> list[tuple[str, str]]:
    """(part, normalisation) of each part whose pairs a used filtered part needs scored, once each."""
    table = parts(config)
    used = [table[name] for name in parts_used(config) if name != BASE and table[name].filtered]
    return sorted({(part.filtered, part.normalize) for part in used})


def teachers_used(config: dict[str, Any]) -> list[str]:
    """Directions of the teachers that the tables' and the grid's datasets need: those that distil and those
    that score a part for a filtered part (cross-entropy filtering)."""
    table = parts(config)
    scoring = {filter_scorer(config, table[name]) for name, _normalize in scored_parts(config)}
    needed = set(distilling_teachers(config)) | scoring
    return [direction for direction in directions(config).values() if direction in needed]


# Trainer flags, each traced to the configuration key it comes from: {flag: (value, key)}. A section's flags
# (sockeye_train, an architecture, ...) are keyed `section.flag`; a flag the workflow computes is keyed by the
# setting it comes from. The flags of every training are these without their keys (`untraced`); the start-up
# check (scripts/trainer_check.py) names the keys.
Traced = dict[str, tuple[Any, str]]


def _traced(key: str, flags: dict[str, Any]) -> Traced:
    return {flag: (value, f"{key}.{flag}") for flag, value in flags.items()}


def untraced(flags: Traced) -> dict[str, Any]:
    """Traced flags without their keys: the flags of a training, in order."""
    return {flag: value for flag, (value, _key) in flags.items()}


def traced_model_flags(config: dict[str, Any], name: str, dropout: bool, grid_key: str = "grid") -> Traced:
    """`model_flags` with their keys; a grid architecture's flags are keyed under `grid_key` (grid or
    grid.compare), a named architecture's under architectures.NAME."""
    arch = architecture(config, name)
    keys = BACKEND_KEYS[arch.get("backend", DEFAULT_BACKEND)]
    arch_key = f"architectures.{name}" if name in config["architectures"] else grid_key
    flags = {**_traced(keys["train"], config[keys["train"]]),
             **_traced(arch_key, {k: v for k, v in arch.items() if k != "backend"})}
    if not dropout:
        flags.update(_traced(keys["no_dropout"], config[keys["no_dropout"]]))
    return flags


def model_flags(config: dict[str, Any], name: str, dropout: bool) -> dict[str, Any]:
    """The sockeye.train flags of architecture `name` with or without dropout: its backend's flags for every
    training (sockeye_train, A.4), the architecture's own, and the backend's no-dropout flags (A.5)."""
    return untraced(traced_model_flags(config, name, dropout))


def checkpoint_interval(flags: dict[str, Any]) -> int:
    """Updates per checkpoint: Sockeye 1.18's --checkpoint-frequency, Sockeye 3's --checkpoint-interval."""
    return int(flags.get("checkpoint-interval", flags.get("checkpoint-frequency")))


def traced_teacher_flags(config: dict[str, Any], member: int = 1) -> Traced:
    """`teacher_flags` with their keys."""
    teacher = config["teacher"]
    flags = traced_model_flags(config, teacher["architecture"], teacher["dropout"])
    flags.update(_traced("teacher.train", teacher.get("train", {})))
    flags["max-num-epochs"] = (teacher["max_epochs"], "teacher.max_epochs")
    if "max_updates" in teacher:
        flags["max-updates"] = (teacher["max_updates"], "teacher.max_updates")
    flags["seed"] = (teacher["seed"] + member - 1, "teacher.seed")
    return flags


def teacher_flags(config: dict[str, Any], member: int = 1) -> dict[str, Any]:
    """Every sockeye.train flag of a teacher (A.2, A.4; epochs as configured); member i of an ensemble
    (teacher.ensemble) trains with seed teacher.seed + i - 1, so member 1 is the single teacher."""
    return untraced(traced_teacher_flags(config, member))


def traced_student_flags(config: dict[str, Any], student: Student, budget_key: str = "checkpoints",
                         seed_key: str = "trials", grid_key: str = "grid") -> Traced:
    """`student_flags` with their keys: the budget's (tables.T.checkpoints, grid.checkpoints), the seed's
    (trials, grid.trials) and a grid architecture's (grid, grid.compare), as the caller knows them."""
    flags = traced_model_flags(config, student.architecture, student.dropout, grid_key)
    # The budget as an absolute number of updates: Sockeye's --max-checkpoints counts from the point where a
    # resumed run restarts, so a killed and resumed student would otherwise train longer than its peers.
    flags["max-updates"] = (student.checkpoints * checkpoint_interval(untraced(flags)), budget_key)
    flags["seed"] = (student.trial, seed_key)
    return flags


def student_flags(config: dict[str, Any], student: Student) -> dict[str, Any]:
    """Every sockeye.train flag of a student: its architecture, dropout (A.5), budget and seed (= trial)."""
    return untraced(traced_student_flags(config, student))


@dataclass(frozen=True)
class TrainerFlag:
    """One flag of a training as the configuration gives it: the key it comes from, its name, its value."""

    key: str
    flag: str
    value: Any


def trainer_flag_sets(config: dict[str, Any]) -> dict[str, list[tuple[TrainerFlag, ...]]]:
    """{backend: its distinct flag sets}, in BACKEND_KEYS order: the flags of every training the configuration
    plans (the teachers that backends_used counts, the tables' students, the grid's), built by the functions
    that build the training commands; sets that give the same argv are one. Each flag names its key."""
    sets: dict[str, dict[tuple[str, ...], tuple[TrainerFlag, ...]]] = {}

    def add(name: str, traced: Traced) -> None:
        argv = tuple(sockeye_args(untraced(traced)))
        flags = tuple(TrainerFlag(key, flag, value) for flag, (value, key) in traced.items())
        sets.setdefault(backend_of(config, name), {}).setdefault(argv, flags)

    if teachers_used(config):
        for member in range(1, ensemble_size(config) + 1):
            add(config["teacher"]["architecture"], traced_teacher_flags(config, member))
    for table in config["tables"]:
        for s in students(config, [table]):
            add(s.architecture, traced_student_flags(config, s, f"tables.{table}.checkpoints", "trials"))
    for section, grid_key in (("search", "grid"), ("compare", "grid.compare")):
        for s in grid_students(config, section):
            add(s.architecture, traced_student_flags(config, s, "grid.checkpoints", "grid.trials", grid_key))
    return {backend: list(sets[backend].values()) for backend in BACKEND_KEYS if backend in sets}


def schedule_steps(value: Any, key: str) -> list[tuple[float, int]]:
    """Sockeye 1.18's --learning-rate-schedule `RATE:UPDATES[,RATE:UPDATES...]` as (rate, updates) pairs."""
    steps = []
    for step in str(value).split(","):
        rate, _, updates = step.partition(":")
        try:
            steps.append((float(rate), int(updates)))
        except ValueError:
            raise ConfigError(f"{key}: {step!r} is not RATE:UPDATES (e.g. 0.01:400,0.004:200)") from None
        if steps[-1][1] < 1:
            raise ConfigError(f"{key}: {step!r} gives a step no updates")
    return steps


def check_schedules(config: dict[str, Any]) -> None:
    """Sockeye 1.18's fixed-step schedule (--learning-rate-schedule) decides a training's length by itself: it
    ignores --max-updates (the budget that tables.T.checkpoints and grid.checkpoints give a student) and
    --max-num-epochs (a teacher's). So every Sockeye 1 training that has one must be a fixed-step training whose
    steps add up to its budget, each a whole number of checkpoints; a ConfigError names the keys otherwise."""
    # Only these sections can give a Sockeye 1 training the flag (the schema allows no other key in an
    # architecture or the grid): without it anywhere, no training has one, and planning need not build every
    # training's flags to find that out (30 ms of every dry run of the paper's configuration)
    sections = (config[BACKEND_KEYS["sockeye1"]["train"]], config[BACKEND_KEYS["sockeye1"]["no_dropout"]],
                config["teacher"].get("train") or {})
    if all(section.get("learning-rate-schedule") in (None, False) for section in sections):
        return
    for flag_set in trainer_flag_sets(config).get("sockeye1", []):
        flags = {f.flag: f for f in flag_set}
        schedule = flags.get("learning-rate-schedule")
        if schedule is None or schedule.value in (False, None):
            continue
        scheduler = flags.get("learning-rate-scheduler-type")
        if scheduler is None or scheduler.value != "fixed-step":
            where = f" ({scheduler.key}: {scheduler.value})" if scheduler else ""
            raise ConfigError(f"{schedule.key}: Sockeye uses a schedule only with learning-rate-scheduler-type"
                              f" fixed-step{where}; set both, or the schedule to false")
        steps = schedule_steps(schedule.value, schedule.key)
        total = sum(updates for _rate, updates in steps)
        if "max-num-epochs" in flags:
            raise ConfigError(f"{schedule.key}: a fixed schedule trains the teacher {total} updates and Sockeye then"
                              f" ignores {flags['max-num-epochs'].key}; give teacher.train its own scheduler"
                              " (e.g. learning-rate-scheduler-type: plateau-reduce, learning-rate-schedule: false)")
        interval = checkpoint_interval({f.flag: f.value for f in flag_set})
        for rate, updates in steps:
            if updates % interval:
                raise ConfigError(f"{schedule.key}: the step {rate}:{updates} is not a whole number of checkpoints"
                                  f" of {interval} updates")
        budget = flags.get("max-updates")
        if budget is not None and int(budget.value) != total:
            raise ConfigError(f"{schedule.key}: the schedule trains {total} updates, but {budget.key} gives"
                              f" {budget.value} ({int(budget.value) // interval} checkpoints of {interval});"
                              " Sockeye would train the schedule's total: make them equal")


def sockeye_args(flags: dict[str, Any]) -> list[str]:
    """Flags as sockeye's argv: `true` gives a bare flag, `false` leaves it out, any other value follows it."""
    argv: list[str] = []
    for name, value in flags.items():
        if value is True:
            argv.append(f"--{name}")
        elif value is not False and value is not None:
            argv += [f"--{name}", str(value)]
    return argv


FIELD = re.compile(r"\{(\w+)\}")


def fill(pattern: str, **values: Any) -> str:
    """A path pattern with the given wildcards filled in and the others left as `{wildcard}` (what Snakemake's
    expand(..., allow_missing=True) does for one combination, without its cost: the rules call this per job)."""
    return FIELD.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), pattern)


def name_regex(names: list[str]) -> str:
    """A wildcard constraint that matches exactly these names."""
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) or "(?!)"


# ---- Layout: every model's name, spelled once ------------------------------------------------------------
# A model's name is its folder under models/, its translations' folder and (students) its run file's path; the
# student's is the matrix's coordinates. Everything else (paths(), the `{model}` wildcard constraint, the cost's
# measurement globs, parse_model, the tests) is derived from these patterns. A teacher ensemble
# (teacher.ensemble: N > 1): member 1 is TEACHER (the single teacher, its folder and seed), members 2..N are
# MEMBER (`teacher/de-en.m2`, seed teacher.seed + 1, ...); the ensemble has no folder of its own, only its
# decodings: ENSEMBLE names its translations (`data/translations/teacher/de-en.ensemble/`). TEACHERS is any of
# the three: `{teacher}`, a name under teacher/ (train_teacher's wildcard: `de-en`, `de-en.m2`).
TEACHERS = "teacher/{teacher}"
TEACHER = fill(TEACHERS, teacher="{direction}")
MEMBER = fill(TEACHERS, teacher="{direction}.m{member}")
ENSEMBLE = fill(TEACHERS, teacher="{direction}.ensemble")
STUDENT_COORDINATES = "{architecture}/{dataset}/{dropout}/ckpt{checkpoints}/trial{trial}"
STUDENT = "student/" + STUDENT_COORDINATES
MODEL_PATTERNS = {"teacher": TEACHER, "member": MEMBER, "ensemble": ENSEMBLE, "student": STUDENT}
TEACHER_KINDS = ("teacher", "member", "ensemble")  # the kinds of name that a direction's teacher decodes under
# A field's values where a path component is not enough: a direction has no dot (`de-en`), so that a member's
# or the ensemble's name is never read as a teacher's; a member's number is 2 or more (member 1 is TEACHER)
FIELD_REGEX = {"direction": r"[^/.]+", "member": r"[2-9]|[1-9][0-9]+"}


def pattern_regex(pattern: str, named: bool = True) -> str:
    """A regex matching `pattern`, each `{name}` a path component (a named group, or a plain one for a wildcard
    constraint, where Snakemake's own groups carry the names), or what FIELD_REGEX allows it."""
    parts = FIELD.split(pattern)  # literal, name, literal, name, ..., literal
    return "".join(re.escape(part) if i % 2 == 0 else f"(?{f'P<{part}>' if named else ':'}"
                   f"{FIELD_REGEX.get(part, '[^/]+')})" for i, part in enumerate(parts))


def pattern_glob(pattern: str) -> str:
    """`pattern` with every `{name}` a glob `*`: `student/*/*/*/ckpt*/trial*`."""
    return FIELD.sub("*", pattern)


def model_regex(kinds: tuple[str, ...] = tuple(MODEL_PATTERNS)) -> str:
    """The `{model}` wildcard constraint: a teacher's (its members', its ensemble's) or a student's name, no more;
    or only the names of these kinds."""
    return "|".join(pattern_regex(MODEL_PATTERNS[kind], named=False) for kind in kinds)


_MODEL_NAME = {kind: re.compile(pattern_regex(p)) for kind, p in MODEL_PATTERNS.items()}


def teacher_model(direction: str) -> str:
    """The `{model}` name of a teacher: `teacher/de-en` (member 1 of an ensemble)."""
    return fill(TEACHER, direction=direction)


def ensemble_size(config: dict[str, Any]) -> int:
    """The members of each direction's teacher (teacher.ensemble; 1: a single teacher, the paper's)."""
    return int(config["teacher"].get("ensemble", 1))


def ensemble_mode(config: dict[str, Any]) -> str:
    """How an ensemble combines its members' output distributions (teacher.ensemble_mode: sockeye.translate's
    --ensemble-mode; linear, Sockeye's default, or log_linear)."""
    return str(config["teacher"].get("ensemble_mode", "linear"))


def member_model(direction: str, member: int) -> str:
    """The `{model}` name of member `member` (1 ... teacher.ensemble) of a direction's teacher: member 1 is the
    teacher (`teacher/de-en`), member 2 `teacher/de-en.m2`."""
    return teacher_model(direction) if member == 1 else fill(MEMBER, direction=direction, member=member)


def member_models(config: dict[str, Any], direction: str) -> list[str]:
    """The `{model}` names of a direction's teacher's members, member 1 first (one: the single teacher)."""
    return [member_model(direction, i) for i in range(1, ensemble_size(config) + 1)]


def distilling_model(config: dict[str, Any], direction: str) -> str:
    """The `{model}` that decodes for a direction's teacher: that distils, translates dev and test for the
    teacher's results file and is held to the floor (teacher.min_bleu): the teacher, or with teacher.ensemble > 1
    the ensemble of its members (`teacher/de-en.ensemble`)."""
    return teacher_model(direction) if ensemble_size(config) == 1 else fill(ENSEMBLE, direction=direction)


def decoding_members(config: dict[str, Any], model: str) -> list[str]:
    """The models whose folders decode as `model`: an ensemble's members, else the model itself."""
    info = parse_model(model)
    return member_models(config, info["direction"]) if info["kind"] == "ensemble" else [model]


def teacher_label(model: str) -> str:
    """The `{teacher}` of a teacher's model name (TEACHERS): `de-en`, `de-en.m2`, `de-en.ensemble`."""
    match = re.fullmatch(pattern_regex(TEACHERS), model)
    if not match or parse_model(model)["kind"] not in TEACHER_KINDS:
        raise ValueError(f"not a teacher's model name: {model!r}")
    return match.group("teacher")


def member_number(model: str) -> int:
    """The member number of a teacher's model name: 1 for the teacher, i for `teacher/<direction>.m<i>`."""
    info = parse_model(model)
    if info["kind"] not in ("teacher", "member"):
        raise ValueError(f"not a teacher member's model name: {model!r}")
    return int(info.get("member", 1))


def student_model(s: Student) -> str:
    """The `{model}` name of a student: `student/SMALL/kd/dropout/ckpt100/trial1`."""
    return fill(STUDENT, **s.wildcards)


def parse_model(model: str) -> dict[str, str]:
    """The wildcards of a `{model}` name: kind (teacher, member, ensemble, student), and direction (and a member's
    number) or the student's coordinates."""
    for kind, regex in _MODEL_NAME.items():
        match = regex.fullmatch(model)
        if match:
            return {"kind": kind, **match.groupdict()}
    raise ValueError(f"not a model name: {model!r}")


def model_student(model: str) -> Student:
    """The Student of a student's `{model}` name."""
    info = parse_model(model)
    if info["kind"] != "student":
        raise ValueError(f"not a student's model name: {model!r}")
    return Student(info["architecture"], info["dataset"], parse_dropout(info["dropout"]), int(info["checkpoints"]),
                   int(info["trial"]))


def translation_student(path: str | Path) -> Student:
    """The Student whose test translations `path` holds (paths()' student_test_hyp or student_test_detok, under
    any outdir): the layout read back from the path, as model_student reads it from a model's name."""
    layout = paths(".")
    for pattern in (layout.student_test_hyp, layout.student_test_detok):
        match = re.search(f"(?:^|/){pattern_regex(pattern)}$", Path(path).as_posix())
        if match:
            return model_student(fill(STUDENT, **match.groupdict()))
    raise ValueError(f"not a student's test translations: {path}")


def paths(outdir: str) -> SimpleNamespace:
    """Every artifact's path pattern, built in one place. Wildcards: {split}, {lang}, {corpus}, {size}, ..."""
    out = outdir.rstrip("/") or "/"
    prefix = "" if out == "." else out.rstrip("/") + "/"
    data, models, results = f"{prefix}data", f"{prefix}models", f"{prefix}results"
    model_dir = models + "/{model}"  # a model's Sockeye folder ({model}: TEACHER, MEMBER or STUDENT), never an output
    model_done = model_dir + ".done.json"
    return SimpleNamespace(
        logs=f"{prefix}logs",
        benchmarks=f"{prefix}benchmarks",
        # corpora as obtained: one folder per source
        raw_synthetic=data + "/raw/synthetic/{split}.{lang}",
        ted_archive=data + "/download/multitarget-ted.tgz",
        raw_ted=data + "/raw/ted/{split}.{lang}",
        raw_local=data + "/raw/local/{split}.{lang}",
        # word-level (tokenized) text: `base` is the real bitext, checked and cleaned; datasets are concatenations
        text=data + "/text/{corpus}/{split}.{lang}",
        prepare_report=data + "/text/base/{split}.report.json",
        # every split's report, gathered: an input of every training (no training before all splits passed)
        corpus_checked=data + "/text/base/checked.json",
        # BPE: codes per language and size, learned on base train; every corpus encoded per size
        bpe_codes=data + "/bpe/codes.{lang}.{size}",
        bpe_text=data + "/bpe/{size}/{corpus}/{split}.{lang}",
        stats=results + "/stats/{corpus}.tsv",
        # models: teachers (direction: de-en for kd and best-2, en-de for bt) and students (the matrix)
        model_dir=model_dir,
        model_done=model_done,
        teacher_dir=fill(model_dir, model=TEACHER),
        teacher_done=fill(model_done, model=TEACHER),
        student_dir=fill(model_dir, model=STUDENT),
        student_done=fill(model_done, model=STUDENT),
        teacher_score=results + "/teachers/{direction}.json",
        # distillation: shards of the BPE'd training side, the teacher's n-best JSON, gathered parts
        shard_in=data + "/distill/{direction}/shards/{shard}.in",
        shard_out=data + "/distill/{direction}/shards/{shard}.json",
        distill_dir=data + "/distill/{direction}",
        distill_part=data + "/distill/{direction}/{part}/train.{lang}",
        distill_report=data + "/distill/{direction}/{part}/report.json",
        # cross-entropy filtering: a part's two sides in the scoring teacher's BPE, and its pairs' scores
        # (negative log-probabilities of the real sentence given the hypothesis, per token or per sentence)
        part_bpe=data + "/distill/{direction}/{part}/bpe.{lang}",
        part_scores=data + "/distill/{direction}/{part}/scores.{normalize}.txt",
        # any model's translations: test (scored), dev (teachers only: their floor, teacher.min_bleu)
        test_hyp=data + "/translations/{model}/test.bpe",
        dev_hyp=data + "/translations/{model}/dev.bpe",
        student_test_hyp=fill(data + "/translations/{model}/test.bpe", model=STUDENT),
        # detokenized BLEU (evaluation.metric/columns bleu_detok): a student's de-BPE'd, Moses-detokenized test
        # translations, and the detokenized reference (scripts/detok.py: raw text where the workflow tokenized)
        student_test_detok=fill(data + "/translations/{model}/test.detok", model=STUDENT),
        detok_text=data + "/detok/{corpus}/{split}.{lang}",
        run=results + "/runs/" + STUDENT + ".json",
        # paired bootstrap of a student against the `reference` dataset's student of the same coordinates
        significance=results + "/significance/{reference}/" + STUDENT_COORDINATES + ".json",
        table=results + "/{table}.{ext}",
        figure=results + "/figures/{figure}.{ext}",
        cost=results + "/cost.{ext}",
        results=results,
        models=models,
    )
