"""Distilled corpora from a teacher's beam: shard the input, then gather Sockeye's n-best JSON into parts.

    python distill.py split --input BPE_FILE --shards N --outdir DIR          (writes DIR/0.in ... DIR/N-1.in)
    python distill.py gather --shard IN JSON [--shard ...] --input WORD_FILE --input-lang de --hyp-lang en
                             --part kd:1 --part best2:2 [--part seqinterp:oracle --reference TRAIN.en]
                             --outdir DIR --report REPORT.json

Sockeye (`--output-type json --nbest-size K`) writes one JSON object per input line with `translation` and,
for K > 1, `translations` (best first). Gathering checks at every step that line counts match the input;
hypotheses are de-BPE'd. A part `NAME:RANK` pairs the RANK-th hypothesis with the real input sentence and
writes DIR/NAME/train.{input-lang,hyp-lang}. A pair whose hypothesis is empty or missing is left out of that
part and counted in the report; never misaligned, never silently dropped.

`filter` writes a filtered part (cross-entropy filtering, as OpusDistillery and mozilla/translations do): the
pairs of a part less the `--drop` share whose scores (`--scores`, one cost per pair: the negative
log-probability that the teacher of the other direction gives the real sentence after reading the hypothesis;
scripts/score.py) are highest, floor(share x pairs) of them, the later line first on equal costs; its report
gives the counts, the threshold, the dropped lines and the distribution of the scores (all, kept, dropped).

    python distill.py filter --src kd/train.de --trg kd/train.en --langs de en --scores SCORES --drop 0.05
                             --source-part kd --normalize length --outdir DIR --report REPORT.json

A part `NAME:oracle` is sequence-level interpolation (Kim & Rush 2016; the paper's footnote 1): per sentence,
the hypothesis of the n-best list with the highest sentence BLEU (sacrebleu, smoothed, on the tokenized text)
against the real target (`--reference`), the best-ranked one on ties; the report counts the ranks chosen.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from slkd.corpus_check import CorpusError, blank, count_lines, read_lines, write_lines
from slkd.formats import nbest_line, read_scores
from slkd.text import debpe_line


def split(infile: str | Path, shards: int, outdir: str | Path) -> list[Path]:
    """Contiguous shards of nearly equal size (the last ones may be empty when shards > lines)."""
    lines = Path(infile).read_text(encoding="utf-8").splitlines()
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    size, rest = divmod(len(lines), shards)
    paths, start = [], 0
    for i in range(shards):
        end = start + size + (1 if i < rest else 0)
        path = outdir / f"{i}.in"
        path.write_text("".join(line + "\n" for line in lines[start:end]), encoding="utf-8")
        paths.append(path)
        start = end
    return paths


def read_nbest(json_path: str | Path, expected: int) -> list[list[str]]:
    """The de-BPE'd n-best list of every line of one shard's JSON output, checked against the shard's size."""
    hyps = []
    with open(json_path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                translations = nbest_line(line)
            except json.JSONDecodeError as err:
                raise CorpusError(f"{json_path}:{number}: not a JSON line ({err.msg})") from None
            hyps.append([debpe_line(t.strip()) for t in translations])
    if len(hyps) != expected:
        raise CorpusError(f"{json_path} has {len(hyps)} lines but its input has {expected}")
    return hyps


ORACLE = "oracle"


def oracle_ranks(nbest: list[list[str]], references: list[str]) -> list[int]:
    """Per sentence, the 1-based rank of the non-empty hypothesis closest to the reference by sentence BLEU
    (the best-ranked on ties); 0 where every hypothesis is empty."""
    from sacrebleu.metrics import BLEU

    bleu = BLEU(tokenize="none", force=True, effective_order=True)
    ranks = []
    for hyps, ref in zip(nbest, references, strict=True):
        scores = [(bleu.sentence_score(h, [ref]).score, -i) for i, h in enumerate(hyps) if not blank(h)]
        ranks.append(-max(scores)[1] + 1 if scores else 0)
    return ranks


def gather(
    shards: list[tuple[str | Path, str | Path]],
    inputs: list[str],
    parts: dict[str, int | str],
    input_lang: str,
    hyp_lang: str,
    outdir: str | Path,
    references: list[str] | None = None,
) -> dict[str, object]:
    """Write each part's two sides; return the report (counts of empty and missing hypotheses per part). A part
    of rank `oracle` takes each sentence's hypothesis closest to `references` (sequence-level interpolation)."""
    nbest: list[list[str]] = []
    for shard_in, shard_json in shards:
        nbest += read_nbest(shard_json, count_lines(shard_in))
    if len(nbest) != len(inputs):
        raise CorpusError(f"the shards hold {len(nbest)} translations but the input has {len(inputs)} lines")
    report: dict[str, object] = {"lines": len(inputs), "parts": {}}
    for name, rank in parts.items():
        if rank == ORACLE:
            if references is None or len(references) != len(inputs):
                raise CorpusError(f"part {name}:{ORACLE} needs --reference with {len(inputs)} lines (the real"
                                  f" targets), got {'none' if references is None else len(references)}")
            chosen = oracle_ranks(nbest, references)
        else:
            chosen = [int(rank)] * len(nbest)
        kept_src, kept_hyp, empty, missing = [], [], 0, 0
        for sentence, hyps, pick in zip(inputs, nbest, chosen, strict=True):
            if pick == 0:
                empty += 1
            elif len(hyps) < pick:
                missing += 1
            elif blank(hyps[pick - 1]):  # empty, or invisible characters only: no sentence
                empty += 1
            else:
                kept_src.append(sentence)
                kept_hyp.append(hyps[pick - 1])
        write_lines(Path(outdir) / name / f"train.{input_lang}", kept_src)
        write_lines(Path(outdir) / name / f"train.{hyp_lang}", kept_hyp)
        distinct = len({tok for hyp in kept_hyp for tok in hyp.split()})
        entry: dict[str, object] = {"rank": rank, "pairs": len(kept_hyp), "empty": empty, "missing": missing,
                                    "hyp_types": distinct}
        if rank == ORACLE:
            entry["ranks_chosen"] = {str(r): chosen.count(r) for r in sorted(set(chosen)) if r}
        report["parts"][name] = entry
    return report


def worst(scores: list[float], share: float) -> set[int]:
    """The 0-based lines of the floor(share x lines) highest costs; on equal costs the later line goes first."""
    count = math.floor(share * len(scores) + 1e-9)
    return set(sorted(range(len(scores)), key=lambda i: (-scores[i], -i))[:count])


def distribution(values: list[float], bins: int = 10) -> dict[str, object]:
    """Quantiles and an equal-width histogram of scores (empty: counts only)."""
    if not values:
        return {"count": 0}
    ordered = sorted(values)
    low, high = ordered[0], ordered[-1]
    width = (high - low) / bins or 1.0
    counts = [0] * bins
    for value in ordered:
        counts[min(int((value - low) / width), bins - 1)] += 1
    quantile = {f"p{q:02d}": ordered[min(len(ordered) - 1, math.floor(q / 100 * len(ordered)))]
                for q in (5, 25, 50, 75, 95)}
    return {"count": len(ordered), "mean": round(sum(ordered) / len(ordered), 6), "min": low, **quantile,
            "max": high, "histogram": {"edges": [round(low + i * width, 6) for i in range(bins + 1)], "counts": counts}}


def filter_part(src: str | Path, trg: str | Path, scores_path: str | Path, share: float, outdir: str | Path,
                langs: tuple[str, str], source: str, normalize: str) -> dict[str, object]:
    """Cross-entropy filtering: write the pairs of a part (`src`, `trg`: its two sides, `langs`) less the share
    with the highest costs in `scores_path` (one per pair) to outdir/train.{lang}; return the report."""
    sides = [read_lines(src), read_lines(trg)]
    if len(sides[0]) != len(sides[1]):
        raise CorpusError(f"{src} has {len(sides[0])} lines but {trg} has {len(sides[1])}")
    scores = read_scores(scores_path, len(sides[0]))
    dropped = worst(scores, share)
    for lang, lines in zip(langs, sides, strict=True):
        write_lines(Path(outdir) / f"train.{lang}", [line for i, line in enumerate(lines) if i not in dropped])
    kept = [score for i, score in enumerate(scores) if i not in dropped]
    return {"filter": source, "share": share, "normalize": normalize, "pairs": len(scores),
            "dropped": len(dropped), "kept": len(kept), "threshold": max(kept) if kept else None,
            "dropped_lines": sorted(i + 1 for i in dropped), "scores": distribution(scores),
            "scores_kept": distribution(kept), "scores_dropped": distribution([scores[i] for i in dropped])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_split = sub.add_parser("split")
    p_split.add_argument("--input", required=True)
    p_split.add_argument("--shards", type=int, required=True)
    p_split.add_argument("--outdir", required=True)
    p_gather = sub.add_parser("gather")
    p_gather.add_argument("--shard", nargs=2, action="append", required=True, metavar=("IN", "JSON"))
    p_gather.add_argument("--input", required=True, help="the word-level sentences that were translated")
    p_gather.add_argument("--input-lang", required=True)
    p_gather.add_argument("--hyp-lang", required=True)
    p_gather.add_argument("--part", action="append", required=True, metavar="NAME:RANK",
                          help=f"RANK: 1 for the best hypothesis, 2 for the 2nd, ...; {ORACLE}: closest to --reference")
    p_gather.add_argument("--reference", help="the real targets of the input, for a part of rank oracle")
    p_gather.add_argument("--outdir", required=True)
    p_gather.add_argument("--report", required=True)
    p_filter = sub.add_parser("filter")
    p_filter.add_argument("--src", required=True, help="the part's side in the source language")
    p_filter.add_argument("--trg", required=True, help="the part's side in the target language")
    p_filter.add_argument("--langs", nargs=2, required=True, metavar=("SRC", "TRG"))
    p_filter.add_argument("--scores", required=True, help="one cost per pair (lower is better)")
    p_filter.add_argument("--drop", type=float, required=True, help="the share of pairs to drop, worst first")
    p_filter.add_argument("--source-part", required=True, help="the name of the part filtered (for the report)")
    p_filter.add_argument("--normalize", required=True, help="how the scores were normalised (for the report)")
    p_filter.add_argument("--outdir", required=True)
    p_filter.add_argument("--report", required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "split":
            split(args.input, args.shards, args.outdir)
            return 0
        if args.command == "filter":
            if not 0 < args.drop < 1:
                parser.error(f"--drop {args.drop}: a share between 0 and 1")
            report = filter_part(args.src, args.trg, args.scores, args.drop, args.outdir, tuple(args.langs),
                                 args.source_part, args.normalize)
            Path(args.report).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
            print(json.dumps({k: v for k, v in report.items() if k != "dropped_lines"}), file=sys.stderr)
            return 0
        parts: dict[str, int | str] = {}
        for spec in args.part:
            name, _, rank = spec.partition(":")
            if not name or not (rank.isdigit() and int(rank) > 0 or rank == ORACLE):
                parser.error(f"--part {spec}: expected NAME:RANK with RANK a positive number or {ORACLE}")
            parts[name] = rank if rank == ORACLE else int(rank)
        references = read_lines(args.reference) if args.reference else None
        report = gather([tuple(s) for s in args.shard], read_lines(args.input), parts, args.input_lang,
                        args.hyp_lang, args.outdir, references)
    except CorpusError as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return 1
    Path(args.report).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
