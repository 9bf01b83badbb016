"""Test-only parser for scripts/synth.py's German-like source side, and the "teacher's mode" translation.

``mode_translation`` parses a generated source sentence back into its abstract structure and realises
the target side always picking the first (most likely) variant, without noise: the translation a
perfect "teacher's mode" would produce.  The tests use it to check the generator and the BLEU of
the mode at the default settings; nothing in the workflow needs it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from synth import (  # noqa: E402
    NP,
    PREPS,
    PRONOUNS,
    Analysis,
    Clause,
    Lexicon,
    Segment,
    Sentence,
    SynthConfig,
    _mode,
    build_lexicon,
    realise_target,
)


def _parse_np(lex: Lexicon, toks: list[str], i: int, cases: tuple[str, ...],
              det: Analysis | None = None) -> tuple[NP, list[int], int]:
    """NP starting at toks[i]; returns (np, pronoun candidates, next index)."""
    first = lex.analyse(toks[i])
    if first[0][0] == "pron":
        return NP(pron=first[0][1]), [a[1] for a in first], i + 1
    if det is None and first[0][0] == "det":
        det, i = first[0], i + 1
    adjs = []
    while lex.analyse(toks[i])[0][0] == "adj":
        adjs.append(lex.analyse(toks[i])[0][1])
        i += 1
    nouns = [a for a in lex.analyse(toks[i]) if a[0] == "noun"]
    if not nouns:
        raise ValueError(f"expected a noun at {toks[i]!r}")
    idx = nouns[0][1]
    gender = lex.nouns[idx].gender
    plural = _np_number(nouns, det, cases, gender)
    definite = det is not None and det[1] in ("def", "contr")
    neg = det is not None and det[1] == "neg"
    return NP(noun=idx, plural=plural, definite=definite, adjs=tuple(adjs), neg=neg), [], i + 1


def _np_number(nouns: list[Analysis], det: Analysis | None, cases: tuple[str, ...],
               gender: str) -> bool:
    options = set()
    for _kind, _idx, number in nouns:
        plural = number != "sg"
        if number == "datpl" and "dat" not in cases:
            continue
        gn = "pl" if plural else gender
        if det is None:
            ok = plural
        else:
            ok = any((case, gn) in det[2] for case in cases)
        if ok:
            options.add(plural)
    if len(options) != 1:
        raise ValueError("cannot tell the number of a noun phrase")
    return options.pop()


def _chunk(lex: Lexicon, toks: list[str]) -> list[tuple[Any, ...]]:
    """Constituents of one clause: np, pp, adv, neg, pred, verb (with the raw token)."""
    out: list[tuple[Any, ...]] = []
    i = 0
    while i < len(toks):
        first = lex.analyse(toks[i])[0]
        kind = first[0]
        if kind in ("prep", "contr"):
            prep = first[1]
            det = ("det", "contr", first[2]) if kind == "contr" else None
            np, _, i = _parse_np(lex, toks, i + 1, (PREPS[prep][0],), det)
            out.append(("pp", prep, np))
        elif kind in ("det", "adj", "noun", "pron"):
            np, cands, i = _parse_np(lex, toks, i, ("nom", "acc"))
            out.append(("np", np, cands))
        else:
            out.append((kind, first[1] if len(first) > 1 else None, toks[i]))
            i += 1
    return out


def _verb_analysis(lex: Lexicon, token: str, kinds: tuple[str, ...]) -> Analysis:
    for analysis in lex.analyse(token):
        if analysis[0] in kinds:
            return analysis
    raise ValueError(f"{token!r} is not one of {kinds}")


FINITE = ("vfin", "vsubfin", "aux", "cop", "modal")
VERBAL = ("vfin", "vsubfin", "vpart", "vinf", "aux", "cop", "modal", "particle")


def _parse_verbs(lex: Lexicon, verbal: list[str], layout: str
                 ) -> tuple[str, int, str, str, frozenset[str]]:
    """(kind, verb index, tense, modal, persons) from the clause's verb tokens."""
    fin_tok = verbal[-1] if layout == "final" else verbal[0]
    others = verbal[:-1] if layout == "final" else verbal[1:]
    fin = _verb_analysis(lex, fin_tok, FINITE)
    if fin[0] == "cop":
        return "cop", -1, "pres", "", fin[1]
    if fin[0] in ("vfin", "vsubfin"):
        return lex.verbs[fin[1]].kind, fin[1], "pres", "", fin[2]
    want = ("vpart",) if fin[0] == "aux" else ("vinf",)
    lexical = _verb_analysis(lex, others[0], want)
    tense, modal = ("perf", "") if fin[0] == "aux" else ("modal", fin[1])
    return lex.verbs[lexical[1]].kind, lexical[1], tense, modal, fin[-1]


def _parse_clause(lex: Lexicon, toks: list[str], layout: str) -> Clause:
    cons = _chunk(lex, toks)
    nps = [c for c in cons if c[0] == "np"]
    verbal = [c[2] for c in cons if c[0] in VERBAL]
    kind, verb, tense, modal, persons = _parse_verbs(lex, verbal, layout)
    subj, cands = nps[0][1], nps[0][2]
    if len(cands) > 1:
        subj = NP(pron=next(p for p in cands if PRONOUNS[p][2] in persons))
    obj = nps[1][1] if len(nps) > 1 else None
    pps = [c for c in cons if c[0] == "pp"]
    advs = [c[1] for c in cons if c[0] == "adv"]
    preds = [c[1] for c in cons if c[0] == "pred"]
    neg = any(c[0] == "neg" for c in cons) or (obj is not None and obj.neg)
    topic = "subj"
    if layout == "v2" and cons[0][0] in ("adv", "pp"):
        topic = cons[0][0]
    return Clause(subj, kind, verb, obj, preds[0] if preds else -1, pps[0][1] if pps else "",
                  pps[0][2] if pps else None, advs[0] if advs else "", neg, tense, modal, topic)


def parse_source(src: str, cfg: SynthConfig) -> Sentence:
    """Recover the abstract sentence behind a generated source line (ValueError if impossible)."""
    toks = src.split()
    if not toks or toks[-1] not in (".", "?"):
        raise ValueError("a sentence ends with '.' or '?'")
    try:
        return _parse_sentence(build_lexicon(cfg), toks)
    except (IndexError, StopIteration) as err:
        raise ValueError(f"not a sentence of this grammar: {src!r}") from err


def _parse_sentence(lex: Lexicon, toks: list[str]) -> Sentence:
    question = toks[-1] == "?"
    pieces: list[list[str]] = [[]]
    for tok in toks[:-1]:
        if tok == ",":
            pieces.append([])
        else:
            pieces[-1].append(tok)
    segments = []
    for k, piece in enumerate(pieces):
        head = lex.analyse(piece[0])[0]
        if head[0] in ("conj", "dass"):
            role = "sub" if head[0] == "conj" else "comp"
            clause = _parse_clause(lex, piece[1:], "final")
            segments.append(Segment(role, piece[0], "final", clause))
        else:
            layout = "v1" if question or k else "v2"
            segments.append(Segment("main", "", layout, _parse_clause(lex, piece, layout)))
    return Sentence(tuple(segments), question)


def mode_translation(src: str, cfg: SynthConfig) -> str:
    """The deterministic translation that always takes the most likely paraphrase (no noise)."""
    lex = build_lexicon(cfg)
    return " ".join(realise_target(lex, parse_source(src, cfg), _mode))
