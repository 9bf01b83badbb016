"""Detokenized text for sacrebleu's default BLEU (13a): the reference of the test set, and a model's hypotheses.

    python detok.py reference --tokenized TEST.trg --lang en --output REF.detok [--raw RAW.trg [--lowercase]]

Detokenized BLEU (config `evaluation.metric` / `evaluation.columns`: `bleu_detok`) scores Moses-detokenized
hypotheses against a detokenized reference with sacrebleu's defaults, as published MT results are scored. The
reference is the raw text that the workflow tokenized itself when it has it (`corpus.tokenize: true`: the test
split as obtained, never cleaned, so line for line the tokenized one; lowercased with `corpus.lowercase`), and
otherwise (a corpus tokenized by its authors, such as TED's tok/ files of the paper's config) the tokenized
reference detokenized the way the hypotheses are: sacremoses' MosesDetokenizer for the target language, which
also undoes Moses' XML escapes (`&apos;`, `&quot;`, ...). The hypotheses (scripts/evaluate.py
`--detok-output`) are de-BPE'd, then detokenized alike.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from slkd.corpus_check import CorpusError, read_lines, write_lines
from slkd.text import detokenize


def reference(tokenized: str | Path, lang: str, raw: str | Path | None = None, lowercase: bool = False) -> list[str]:
    """The detokenized reference: `raw` (the untokenized text the workflow tokenized, checked to have as many
    lines; lowercased when the workflow lowercased it), or else the detokenized `tokenized` text."""
    tokens = read_lines(tokenized)
    if raw is None:
        return detokenize(tokens, lang)
    text = read_lines(raw)
    if len(text) != len(tokens):
        raise CorpusError(f"{raw} has {len(text)} lines but its tokenized text {tokenized} has {len(tokens)}")
    return [line.lower() for line in text] if lowercase else text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    ref = sub.add_parser("reference", help="the detokenized reference of a tokenized split")
    ref.add_argument("--tokenized", required=True, help="the workflow's tokenized text (data/text/base/...)")
    ref.add_argument("--lang", required=True)
    ref.add_argument("--output", required=True)
    ref.add_argument("--raw", help="the raw text it was tokenized from (corpus.tokenize: true)")
    ref.add_argument("--lowercase", action="store_true", help="the workflow lowercased it (corpus.lowercase)")
    args = parser.parse_args(argv)
    try:
        lines = reference(args.tokenized, args.lang, args.raw, args.lowercase)
    except CorpusError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    write_lines(args.output, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
