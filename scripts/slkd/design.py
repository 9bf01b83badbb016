"""The experiment that the configuration defines: the students (the tables' matrix, the grid), the teachers
and the parts they distil, the datasets, the metrics and the claims. The DAG follows from the configuration
alone: nothing here reads a corpus.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

from slkd.backends import BACKENDS, DEFAULT_BACKEND
from slkd.settings import ConfigError

BASE = "base"  # the real bitext: the one part of a dataset (config `datasets`) that no teacher writes
ORACLE = "oracle"  # a part's hypothesis: per sentence, the n-best one closest to the real side (seqinterp)
SPLITS = ("train", "dev", "test")
EVAL_SPLITS = ("dev", "test")  # the splits that score models: their pairs should not be training pairs
# The metrics a table can show (config evaluation.metric, evaluation.columns), each a run file's key with its
# `<key>_signature` (scripts/evaluate.py): the paper's tokenized BLEU, detokenized BLEU (sacrebleu's default 13a
# on Moses-detokenized text: scored only when a table shows it) and chrF
METRICS = ("bleu", "bleu_detok", "chrf")
DETOK = "bleu_detok"


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


def backends_used(config: dict[str, Any]) -> list[str]:
    """The backends of every model the configuration trains (teacher(s), tables, grid), in the registry's order."""
    names = {s.architecture for s in all_students(config)}
    if teachers_used(config):
        names.add(config["teacher"]["architecture"])
    used = {backend_of(config, name) for name in names}
    return [b for b in BACKENDS if b in used]


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


def ensemble_size(config: dict[str, Any]) -> int:
    """The members of each direction's teacher (teacher.ensemble; 1: a single teacher, the paper's)."""
    return int(config["teacher"].get("ensemble", 1))


def ensemble_mode(config: dict[str, Any]) -> str:
    """How an ensemble combines its members' output distributions (teacher.ensemble_mode: sockeye.translate's
    --ensemble-mode; linear, Sockeye's default, or log_linear)."""
    return str(config["teacher"].get("ensemble_mode", "linear"))
