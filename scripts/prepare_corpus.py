"""Check, tokenize and clean one split of a parallel corpus (the `prepare_corpus` rule).

Raw text is Moses-tokenized with sacremoses (`--tokenize`), optionally lowercased; text that is tokenized
already is left alone (its white space normalised). Training pairs longer than `--max-len` tokens on either
side are dropped, as Sockeye's `--max-seq-len 100:100` would; dev and test are never cleaned. With
`--drop-eval SPLIT SRC TRG` (the train split, corpus.drop_eval_overlap) every training pair that is also a pair
of that prepared evaluation split (the same source and the same target line) is dropped as well.

The JSON report: `input` (source, target), `pairs` read, `kept` (written), `dropped_too_long` and `max_len`,
`dropped_eval_overlap` (training pairs dropped as evaluation pairs; 0 without `--drop-eval`), `tokenized`,
`lowercased`, and what was normalised: `bom_stripped` (a UTF-8 byte-order mark removed from the start of the
file) and `crlf_lines` (lines that ended in CRLF), each a pair in the order of `input`. With `--drop-eval` it
also has `eval_overlap`: per evaluation split, the pairs found in training before the drop, the split's size
and the first few as `dev:12 = train:345` (lines of the prepared text; train's after cleaning, before the drop;
see corpus_check.overlap_summary).

Control characters are refused by the check (corpus_check), not removed: sacremoses deletes every C0 control
character (its ASCII_JUNK step, after white space is collapsed), so `ein\\0satz` would become `einsatz`.

The character limit of a line (corpus.max_line_chars) comes from `--max-line-chars` or, in the workflow, from
$SLKD_MAX_LINE_CHARS (rules/common.smk): a check, like the token limit, that changes no output, so it is not
part of the rule's command or parameters and changing it reruns nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from slkd.corpus_check import (
    CorpusError,
    overlap_report,
    read_pair,
    read_parallel,
    without_pairs,
    write_lines,
)

MAX_LINE_CHARS_VAR = "SLKD_MAX_LINE_CHARS"


def tokenize(lines: list[str], lang: str, lowercase: bool) -> list[str]:
    """Moses tokenization without XML escaping (so BLEU is computed on readable tokens)."""
    from sacremoses import MosesTokenizer

    tok = MosesTokenizer(lang=lang)
    result = [tok.tokenize(line, escape=False, return_str=True) for line in lines]
    return [line.lower() for line in result] if lowercase else result


def normalize(lines: list[str], lowercase: bool) -> list[str]:
    """Tokenized text: only white space is normalized (and case, if asked)."""
    result = [" ".join(line.split()) for line in lines]
    return [line.lower() for line in result] if lowercase else result


def clean(src: list[str], trg: list[str], max_len: int) -> tuple[list[str], list[str], int]:
    """Drop pairs with more than max_len tokens on either side; returns the kept sides and the dropped count."""
    kept = [(s, t) for s, t in zip(src, trg, strict=True) if len(s.split()) <= max_len and len(t.split()) <= max_len]
    return [s for s, _ in kept], [t for _, t in kept], len(src) - len(kept)


def prepare(args: argparse.Namespace) -> dict[str, object]:
    """Read both sides strictly, tokenize or normalize, clean, drop evaluation pairs if asked, write; return the
    report."""
    src_file, trg_file = read_pair(args.src_in, args.trg_in, args.max_line_len, args.max_line_chars)
    src, trg = src_file.lines, trg_file.lines
    if args.tokenize:
        src, trg = tokenize(src, args.src_lang, args.lowercase), tokenize(trg, args.trg_lang, args.lowercase)
    else:
        src, trg = normalize(src, args.lowercase), normalize(trg, args.lowercase)
    pairs = len(src)
    dropped = 0
    if args.max_len:
        src, trg, dropped = clean(src, trg, args.max_len)
    overlap: dict[str, object] = {}
    removed: list[int] = []
    if args.drop_eval:
        evals = {split: read_parallel(eval_src, eval_trg) for split, eval_src, eval_trg in args.drop_eval}
        overlap = {"eval_overlap": overlap_report((src, trg), evals)}
        eval_pairs = {pair for sides in evals.values() for pair in zip(*sides, strict=True)}
        src, trg, removed = without_pairs(src, trg, eval_pairs)
    if not src:
        dropping = " and dropping the evaluation pairs (corpus.drop_eval_overlap)" if args.drop_eval else ""
        raise CorpusError(f"{args.src_in}: no pair is left after cleaning (max_len {args.max_len}){dropping}")
    write_lines(args.src_out, src)
    write_lines(args.trg_out, trg)
    return {"input": [str(args.src_in), str(args.trg_in)], "pairs": pairs, "kept": len(src),
            "dropped_too_long": dropped, "max_len": args.max_len, "dropped_eval_overlap": len(removed),
            "tokenized": args.tokenize, "lowercased": args.lowercase, "bom_stripped": [src_file.bom, trg_file.bom],
            "crlf_lines": [src_file.crlf, trg_file.crlf], **overlap}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--src-in", type=Path, required=True)
    parser.add_argument("--trg-in", type=Path, required=True)
    parser.add_argument("--src-out", type=Path, required=True)
    parser.add_argument("--trg-out", type=Path, required=True)
    parser.add_argument("--src-lang", required=True)
    parser.add_argument("--trg-lang", required=True)
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--tokenize", action="store_true")
    parser.add_argument("--lowercase", action="store_true")
    parser.add_argument("--max-len", type=int, default=0, help="drop longer pairs (0: keep all)")
    parser.add_argument("--max-line-len", type=int, required=True, help="a line of more tokens is an error")
    parser.add_argument("--max-line-chars", type=int, default=os.environ.get(MAX_LINE_CHARS_VAR),
                        help=f"a line of more characters is an error (default: ${MAX_LINE_CHARS_VAR})")
    parser.add_argument("--drop-eval", nargs=3, action="append", default=[], metavar=("SPLIT", "SRC", "TRG"),
                        help="drop the training pairs that are pairs of this prepared evaluation split (repeatable)")
    args = parser.parse_args(argv)
    if args.max_line_chars is None:
        parser.error(f"give --max-line-chars or set ${MAX_LINE_CHARS_VAR}")
    try:
        report = prepare(args)
    except CorpusError as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return 1
    args.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
