"""Where every artifact lives: path patterns built in one place (`paths`), and every model's name spelled once
(teachers, ensemble members, students), with the wildcard constraints and parsers derived from them.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from slkd.design import BASE, EVAL_SPLITS, Student, backend_of, ensemble_size, parse_dropout


def model_architecture(config: dict[str, Any], model: str) -> str:
    """The architecture name of a `{model}`: teacher.architecture for a teacher (any member, the ensemble), else
    the student's own."""
    info = parse_model(model)
    return info["architecture"] if info["kind"] == "student" else config["teacher"]["architecture"]


def model_backend(config: dict[str, Any], model: str) -> str:
    """The trainer backend of a `{model}`: the teacher architecture's, or the student's."""
    return backend_of(config, model_architecture(config, model))


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


def job_group(model: str) -> str:
    """The cluster job group of a model's training and decodings (rules/common/trainers.smk): `model_` and its
    name, slashes as underscores (`model_student_SMALL_kd_dropout_ckpt30_trial1`)."""
    return "model_" + model.replace("/", "_")


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
