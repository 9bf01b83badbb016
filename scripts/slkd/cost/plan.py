"""The jobs that cost anything, as the configuration implies them (the planner's functions: slkd.design,
slkd.layout, slkd.training_flags), and the corpus sizes they scale with: counted under outdir where the files
exist, else assumed (config cost.corpus).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slkd import backends, design, layout, training_flags
from slkd.corpus_check import count_lines

STUDENT_LOGS = layout.pattern_glob(layout.STUDENT) + "/log"  # every student's Sockeye log under models/

SOCKEYE_RULES = backends.TRAINER_RULES
RULES = (*SOCKEYE_RULES, "evaluate")  # the rules costed; the others are bookkeeping of seconds
DEFAULT_GPU_RULES = frozenset(SOCKEYE_RULES)
REPO = Path(__file__).resolve().parent.parent
SLURM_PROFILE = REPO / "profiles" / "slurm" / "config.yaml"
GROUPS = ("teachers", "table students", "grid students", "distillation", "test decoding", "evaluation")
# ---- Corpus sizes: counted from files under outdir where they exist, else assumed ---------------------------
@dataclass
class Corpus:
    train_sentences: int
    dev_sentences: int
    test_sentences: int
    teacher_tokens: dict[str, int]  # BPE target tokens of each teacher's training data, by direction
    sources: dict[str, str] = field(default_factory=dict)


def count_tokens(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(len(line.split()) for line in handle)


def stats_tokens(path: Path, lang: str) -> tuple[int, int] | None:
    """(lines, tokens) of one language in a corpus_stats TSV, or None."""
    if not path.is_file():
        return None
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        fields = line.split("\t")
        if len(fields) >= 4 and fields[1] == lang:
            return int(fields[2]), int(fields[3])
    return None


def corpus_sizes(config: dict[str, Any], root: Path = Path(".")) -> Corpus:
    """Sentences of base train/dev/test and each teacher's BPE target tokens, with where each number came from."""
    assume = config["cost"]["corpus"]
    paths = layout.paths(config["outdir"])
    src = config["corpus"]["src"]
    sources: dict[str, str] = {}

    def split_lines(split: str, assumed: int) -> int:
        path = root / paths.text.format(corpus="base", split=split, lang=src)
        if path.is_file():
            sources[split] = f"counted in {path}"
            return count_lines(path)
        sources[split] = f"assumed: cost.corpus.{split}_sentences"
        return assumed

    train = split_lines("train", assume["train_sentences"])
    dev = split_lines("dev", assume["dev_sentences"])
    test = split_lines("test", assume["test_sentences"])
    tokens: dict[str, int] = {}
    for direction in design.teachers_used(config):
        size = design.architecture(config, config["teacher"]["architecture"])["num-words"]
        target = direction.split("-")[1]
        bpe = root / paths.bpe_text.format(size=size, corpus="base", split="train", lang=target)
        stats = stats_tokens(root / paths.stats.format(corpus="base"), target)
        if bpe.is_file():
            tokens[direction] = count_tokens(bpe)
            sources[f"tokens {direction}"] = f"counted in {bpe}"
        elif stats:
            tokens[direction] = round(stats[1] * assume["bpe_tokens_per_word"])
            sources[f"tokens {direction}"] = "words counted in results/stats/base.tsv x cost.corpus.bpe_tokens_per_word"
        else:
            tokens[direction] = round(assume["train_tokens"] * assume["bpe_tokens_per_word"])
            sources[f"tokens {direction}"] = "assumed: cost.corpus.train_tokens x bpe_tokens_per_word"
    return Corpus(train, dev, test, tokens, sources)


# ---- Jobs ----------------------------------------------------------------------------------------------------
@dataclass
class Job:
    rule: str
    name: str
    group: str
    arch: dict[str, Any]
    updates: int = 0
    sentences: int = 0
    batch: int = 0
    checkpoint_interval: int = 0
    checkpoint_sentences: int = 0  # sentences decoded at each checkpoint (decode-and-evaluate)
    checkpoint_on_cpu: bool = True
    models: int = 1  # models that decode together: an ensemble of teachers (teacher.ensemble) takes N x the time


def checkpoint_sentences(flags: dict[str, Any], dev: int) -> int:
    value = int(flags.get("decode-and-evaluate", 0) or 0)
    return dev if value < 0 else min(value, dev)


def training(rule: str, name: str, group: str, arch: dict[str, Any], flags: dict[str, Any], updates: int,
             corpus: Corpus) -> Job:
    interval = int(flags.get("checkpoint-interval", flags.get("checkpoint-frequency")))
    return Job(rule, name, group, arch, updates=updates, batch=int(flags["batch-size"]),
               checkpoint_interval=interval, checkpoint_sentences=checkpoint_sentences(flags, corpus.dev_sentences),
               checkpoint_on_cpu=bool(flags.get("decode-and-evaluate-use-cpu", False)))


def teacher_updates(config: dict[str, Any], flags: dict[str, Any], tokens: int) -> int:
    """max_epochs x updates per epoch (word batches: about batch-size target tokens each), capped by max_updates."""
    updates = config["teacher"]["max_epochs"] * math.ceil(tokens / int(flags["batch-size"]))
    return min(updates, int(flags["max-updates"])) if "max-updates" in flags else updates


def shard_sizes(total: int, shards: int) -> list[int]:
    """Lines per shard, as scripts/distill.py splits them."""
    size, rest = divmod(total, shards)
    return [size + (1 if i < rest else 0) for i in range(shards)]


def jobs(config: dict[str, Any], corpus: Corpus) -> list[Job]:
    """Every costed job the configuration implies (the `table1 table2 table3 figures grid` targets)."""
    result: list[Job] = []
    teachers = design.teachers_used(config)
    teacher_arch = design.architecture(config, config["teacher"]["architecture"]) if teachers else {}
    flags = training_flags.teacher_flags(config) if teachers else {}
    ensemble = design.ensemble_size(config)
    for direction in teachers:  # each member of an ensemble (teacher.ensemble) is one training
        updates = teacher_updates(config, flags, corpus.teacher_tokens[direction])
        for model in layout.member_models(config, direction):
            result.append(training("train_teacher", layout.teacher_label(model), "teachers", teacher_arch, flags,
                                   updates, corpus))
    table = set(design.students(config))
    students = design.all_students(config)
    for student in students:
        flags = training_flags.student_flags(config, student)
        group = "table students" if student in table else "grid students"
        result.append(training("train_student", layout.student_model(student), group,
                               design.architecture(config, student.architecture), flags, int(flags["max-updates"]),
                               corpus))
    for direction in design.distilling_teachers(config):
        # the forward teacher decodes the sources, the backward one the targets: both have train_sentences lines
        for shard, lines in enumerate(shard_sizes(corpus.train_sentences, config["decoding"]["shards"])):
            result.append(Job("distill", f"{direction}.{shard}", "distillation", teacher_arch, sentences=lines,
                              models=ensemble))
    for part, normalize in design.scored_parts(config):
        # cross-entropy filtering: the other teacher scores a part's pairs (at most train_sentences); costed at
        # its decoding speed, an upper bound (scoring is one forward pass, no beam)
        result.append(Job("score_part", f"{part}.{normalize}", "distillation", teacher_arch,
                          sentences=corpus.train_sentences))
    for direction in teachers:  # each member, and an ensemble (teacher.ensemble) with all its members
        decoders = [(model, 1) for model in layout.member_models(config, direction)]
        if ensemble > 1:
            decoders.append((layout.distilling_model(config, direction), ensemble))
        for model, models in decoders:
            result.append(Job("translate_test", model, "test decoding", teacher_arch,
                              sentences=corpus.test_sentences, models=models))
            result.append(Job("translate_dev", model, "test decoding", teacher_arch,
                              sentences=corpus.dev_sentences, models=models))
    for student in students:
        result.append(Job("translate_test", layout.student_model(student), "test decoding",
                          design.architecture(config, student.architecture), sentences=corpus.test_sentences))
    for student in students:
        result.append(Job("evaluate", layout.student_model(student), "evaluation",
                          design.architecture(config, student.architecture)))
    return result


def rule_counts(job_list: list[Job]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for job in job_list:
        counts[job.rule] += 1
    return dict(counts)


