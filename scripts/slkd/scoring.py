"""Scores of translations against references (sacrebleu 2.x: tokenized BLEU, detokenized BLEU, chrF, with
their signatures), the translations as each metric reads them, and the fields that name a model in a result
file. The evaluation, the paired bootstrap and the claims score through here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from slkd import design, layout
from slkd.text import debpe_line


def model_fields(model: str) -> dict[str, Any]:
    """The fields that name a model in a run file: its name and, for a student, its coordinates (numbers as
    numbers); a name outside the layout has no coordinates."""
    try:
        info = layout.parse_model(model)
    except ValueError:
        return {"model": model, "student": None}
    if info["kind"] != "student":
        return {"model": model, "student": None}
    student = layout.model_student(model)
    return {"model": model, "student": {**student.wildcards, "checkpoints": student.checkpoints,
                                        "trial": student.trial}}


def metric(name: str, tokenize: str = "none") -> Any:
    """The sacrebleu metric object of a metric's name (slkd.design.METRICS), the one place that builds them for
    the run files and the paired bootstrap (scripts/significance.py): `bleu` with `tokenize` (none: tokenized
    BLEU on tokenized text, which is the point here: no "forgot to detokenize" warning), `bleu_detok` with
    sacrebleu's defaults (13a), `chrf` (chrF2)."""
    from sacrebleu.metrics import BLEU, CHRF

    if name == "bleu":
        return BLEU(tokenize=tokenize, force=tokenize == "none")
    if name == "bleu_detok":
        return BLEU()
    if name == "chrf":
        return CHRF()
    raise ValueError(f"unknown metric {name!r} (known: {', '.join(design.METRICS)})")


def score(hyps: list[str], refs: list[str], tokenize: str) -> dict[str, Any]:
    """BLEU and chrF with their sacrebleu signatures."""
    bleu, chrf = metric("bleu", tokenize), metric("chrf")
    b, c = bleu.corpus_score(hyps, [refs]), chrf.corpus_score(hyps, [refs])
    return {
        "bleu": round(b.score, 2),
        "bleu_signature": str(bleu.get_signature()),
        "bleu_detail": str(b),
        "chrf": round(c.score, 2),
        "chrf_signature": str(chrf.get_signature()),
    }


def score_detok(hyps: list[str], refs: list[str]) -> dict[str, Any]:
    """Detokenized BLEU: sacrebleu's defaults (13a) on detokenized hypotheses and references, with its signature."""
    bleu = metric("bleu_detok")
    return {"bleu_detok": round(bleu.corpus_score(hyps, [refs]).score, 2),
            "bleu_detok_signature": str(bleu.get_signature())}


NO_DETOK = {"bleu_detok": None, "bleu_detok_signature": None}


def read_hypotheses(path: str | Path) -> list[str]:
    """De-BPE'd test translations, one per line, as they are scored."""
    return [debpe_line(line.rstrip("\n")).strip() for line in open(path, encoding="utf-8")]


def read_references(path: str | Path) -> list[str]:
    """Tokenized references, one per line."""
    return [line.rstrip("\n") for line in open(path, encoding="utf-8")]


def read_translations(path: str | Path, metric_name: str = "bleu") -> list[str]:
    """A student's test translations as a metric scores them: detokenized ones (`bleu_detok`: evaluate's
    --detok-output) as they are, BPE ones de-BPE'd (`bleu`, `chrf`)."""
    return read_references(path) if metric_name == design.DETOK else read_hypotheses(path)


def read_pair(hyp: str | Path, ref: str | Path) -> tuple[list[str], list[str]]:
    """De-BPE'd translations and their references, checked to have as many lines."""
    hyps, refs = read_hypotheses(hyp), read_references(ref)
    if len(hyps) != len(refs):
        raise ValueError(f"{hyp} has {len(hyps)} lines but {ref} has {len(refs)}")
    return hyps, refs
