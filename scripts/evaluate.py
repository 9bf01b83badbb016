"""Score a model: tokenized BLEU and chrF of its test translations (sacrebleu 2.x), and its training curve.

    python evaluate.py --hyp TRANSLATIONS.bpe --ref TEST.trg --model-dir MODEL --output RUN.json
                       [--tokenize none] [--min-bleu B --floor-hyp DEV.bpe --floor-ref DEV.trg] [--model NAME]
                       [--detok-ref REF.detok --detok-output TRANSLATIONS.detok --lang en]

The hypotheses are de-BPE'd and scored against the tokenized references with `--tokenize none`: the paper's
tokenized BLEU (`bleu`); chrF (`chrf`) on the same text. With `--detok-ref` (config `evaluation`: a table shows
`bleu_detok`), the de-BPE'd hypotheses are also Moses-detokenized (scripts/detok.py), written to
`--detok-output`, and scored against the detokenized reference with sacrebleu's defaults (13a): `bleu_detok`,
null without it. Sockeye's `metrics` file gives the validation curve and the BPE train perplexity at the best
checkpoint (lowest validation perplexity, the checkpoint `params.best` points to); its `log` gives the number
of parameters (figure 2). Sockeye 1.18 and Sockeye 3 write both files alike. With `--min-bleu`, a BLEU of the
floor's translations (a teacher's dev set: deciding on test data would be model selection on the test set)
below the floor is an error (a weak teacher makes every distilled corpus meaningless); the test BLEU is
reported, not used to decide.

A teacher ensemble (teacher.ensemble): `--member NAME DIR TEST_HYP DEV_HYP` once per member instead of
`--model-dir`; --hyp and --floor-hyp are the ensemble's translations, so the output's BLEU, chrF and `floor` are
the ensemble's (the floor applies to it), `parameters` its members' together (no curve of its own), and
`members` holds each member as a model is scored, with its dev BLEU (`dev`); `ensemble_mode` says how the
members were combined.

The output names its model (`--model`, a name of slkd.layout) and, for a student, the student's
coordinates, so that the table and figure scripts key run files by what they say. FORMAT numbers the output's
fields (RUN_FIELDS): the rules pass it as a parameter, so a new format rewrites every run file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from slkd.formats import best_checkpoint, read_metrics, read_parameters
from slkd.scoring import NO_DETOK, model_fields, read_pair, read_references, score, score_detok
from slkd.text import detokenize

FORMAT = 3  # bump with any change of RUN_FIELDS or of their meaning (tests/test_stages.py pins the pair)
RUN_FIELDS = ("format", "model", "student", "bleu", "bleu_signature", "chrf", "chrf_signature", "bleu_detok",
              "bleu_detok_signature", "sentences", "empty_hypotheses", "best_checkpoint", "checkpoints", "ppl_train",
              "ppl_val", "parameters", "curve")


def evaluate(
    hyp: str | Path, ref: str | Path, model_dir: str | Path, tokenize: str, detok_ref: str | Path | None = None,
    detok_output: str | Path | None = None, lang: str = "en",
) -> dict[str, Any]:
    """Everything a table or a figure needs about one model; with `detok_ref`, detokenized BLEU too, on the
    detokenized hypotheses that it writes to `detok_output`."""
    hyps, refs = read_pair(hyp, ref)
    detok = NO_DETOK
    if detok_ref is not None:
        detok_refs = read_references(detok_ref)
        if len(detok_refs) != len(refs):
            raise ValueError(f"{detok_ref} has {len(detok_refs)} lines but {ref} has {len(refs)}")
        detok_hyps = detokenize(hyps, lang)
        if detok_output is not None:
            Path(detok_output).parent.mkdir(parents=True, exist_ok=True)
            Path(detok_output).write_text("".join(f"{line}\n" for line in detok_hyps), encoding="utf-8")
        detok = score_detok(detok_hyps, detok_refs)
    rows = read_metrics(model_dir)
    best = best_checkpoint(rows)
    return {
        **score(hyps, refs, tokenize),
        **detok,
        "sentences": len(hyps),
        "empty_hypotheses": sum(not h for h in hyps),
        "best_checkpoint": int(best["checkpoint"]),
        "checkpoints": len(rows),
        "ppl_train": best.get("perplexity-train"),
        "ppl_val": best["perplexity-val"],
        "parameters": read_parameters(model_dir),
        "curve": [
            {"checkpoint": int(r["checkpoint"]), "ppl_train": r.get("perplexity-train"),
             "ppl_val": r.get("perplexity-val")}
            for r in rows
        ],
    }


def scored_lines(hyp: str | Path, ref: str | Path, tokenize: str) -> tuple[float, int]:
    """(BLEU, sentences) of translations against their references, as `score` gives it."""
    hyps, refs = read_pair(hyp, ref)
    return score(hyps, refs, tokenize)["bleu"], len(refs)


def evaluate_ensemble(hyp: str | Path, ref: str | Path, members: list[tuple[str, str, str, str]], tokenize: str,
                      dev_ref: str | Path) -> dict[str, Any]:
    """An ensemble of teachers (teacher.ensemble): its BLEU and chrF on test (its translations `hyp`), its size
    (its members' parameters together; no curve of its own), and each member as `evaluate` scores a model, with its
    dev BLEU (`dev`). `members`: (name, folder, test translations, dev translations) of each."""
    hyps, refs = read_pair(hyp, ref)
    scored = []
    for name, folder, test_hyp, dev_hyp in members:
        bleu, sentences = scored_lines(dev_hyp, dev_ref, tokenize)
        scored.append({**model_fields(name), **evaluate(test_hyp, ref, folder, tokenize),
                       "dev": {"bleu": bleu, "ref": str(dev_ref), "sentences": sentences}})
    sizes = [member["parameters"] for member in scored]
    return {**score(hyps, refs, tokenize), **NO_DETOK, "sentences": len(hyps),
            "empty_hypotheses": sum(not h for h in hyps), "best_checkpoint": None, "checkpoints": None,
            "ppl_train": None, "ppl_val": None, "parameters": None if None in sizes else sum(sizes), "curve": [],
            "members": scored}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hyp", required=True)
    parser.add_argument("--ref", required=True)
    parser.add_argument("--model-dir", help="the model's folder (required, but for an ensemble: --member)")
    parser.add_argument("--output", required=True)
    parser.add_argument("--tokenize", default="none")
    parser.add_argument("--model", default="", help="the model's name (teacher/de-en, student/SMALL/kd/...)")
    parser.add_argument("--min-bleu", type=float, default=None,
                        help="a floor on the BLEU of --floor-hyp against --floor-ref (the dev set): below it, fail")
    parser.add_argument("--floor-hyp", help="translations that the floor is checked on (a teacher's dev set)")
    parser.add_argument("--floor-ref", help="their references")
    parser.add_argument("--detok-ref", help="the detokenized reference (scripts/detok.py): score detokenized BLEU")
    parser.add_argument("--detok-output", help="where the detokenized hypotheses go (with --detok-ref)")
    parser.add_argument("--lang", default="en", help="the hypotheses' language (the Moses detokenizer's)")
    parser.add_argument("--member", nargs=4, action="append", default=[],
                        metavar=("NAME", "DIR", "TEST_HYP", "DEV_HYP"),
                        help="a member of the ensemble whose translations --hyp and --floor-hyp are (teacher.ensemble),"
                        " scored on test and on --floor-ref; once per member")
    parser.add_argument("--ensemble-mode", help="how the ensemble combined its members (reported)")
    args = parser.parse_args(argv)
    if args.min_bleu is not None and not (args.floor_hyp and args.floor_ref):
        parser.error("--min-bleu needs --floor-hyp and --floor-ref: the floor is a model-selection decision,"
                     " checked on the dev set, never on the test set that it reports")
    if not args.model_dir and not args.member:
        parser.error("--model-dir is required (or, for an ensemble, --member)")
    if args.member and not args.floor_ref:
        parser.error("--member needs --floor-ref: each member's dev BLEU is reported")
    if args.member:
        ensemble = evaluate_ensemble(args.hyp, args.ref, args.member, args.tokenize, args.floor_ref)
        result = {"format": FORMAT, **model_fields(args.model), **ensemble, "ensemble_mode": args.ensemble_mode}
    else:
        result = {"format": FORMAT, **model_fields(args.model),
                  **evaluate(args.hyp, args.ref, args.model_dir, args.tokenize, args.detok_ref, args.detok_output,
                             args.lang)}
    if args.min_bleu is not None:
        floor_bleu, floor_sentences = scored_lines(args.floor_hyp, args.floor_ref, args.tokenize)
        result["floor"] = {"bleu": floor_bleu, "min_bleu": args.min_bleu, "ref": str(args.floor_ref),
                           "sentences": floor_sentences}
    print(json.dumps({k: v for k, v in result.items() if k not in ("curve", "members")}), file=sys.stderr)
    if args.min_bleu is not None and result["floor"]["bleu"] < args.min_bleu:
        members = [f"{m['model']} {m['dev']['bleu']}" for m in result.get("members", [])]
        name = f"{args.model} (an ensemble of {len(members)}; its members' dev BLEU: {', '.join(members)})" \
            if members else args.model or args.model_dir
        print(
            f"ERROR: {name} scores {result['floor']['bleu']} BLEU on {args.floor_ref}"
            f" ({floor_sentences} sentences), below the floor of {args.min_bleu} (teacher.min_bleu):"
            " its distilled corpora would be meaningless. Train it longer (teacher.max_epochs) or check the data."
            f" (Its test BLEU, reported, not used: {result['bleu']}.)",
            file=sys.stderr,
        )
        return 1
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
