"""Synthetic German-like -> English-like parallel corpus (the workflow's offline default).

The corpus imitates what Gordon & Duh (2019) study: a translation task whose references are
*multi-modal* (one source, several valid translations) plus a little noise.  It is generated from
abstract clause structures, realised twice:

* source side, German-like: noun gender/number with agreeing articles and adjective endings,
  subject-verb agreement, verb-second main clauses (topicalised adverbs and PPs invert the
  subject), verb-first questions, verb-final subordinate clauses ("weil/wenn/obwohl/...", and
  "dass" complements of verbs of saying), clause-final participles and infinitives, separable
  verb particles, "nicht"/"kein" negation, prepositions governing dative or accusative with
  contractions ("im", "zum", ...);
* target side, English-like: SVO order, do-support, auxiliaries, 3sg -s, a/an, plural -s.

Content words are invented, deterministic pseudo-German lemmas with invented English-like
translations.  Each lexical entry or construction is multi-modal with probability
``multimodal_rate``: it then has 2..``paraphrases`` English variants, and every occurrence picks
variant k with weight 1/k**zipf.  The tests' ``mode_translation`` (in tests/synth_parser.py, a
test-only parser of the source side) always picks the first (most likely) variant: the translation
a perfect "teacher's mode" would produce.

Everything is seeded with ``random.Random`` instances keyed by strings, so the same arguments
give byte-identical files.  The source side depends only on seed, sizes, lexicon and max_clauses;
the multi-modality and noise knobs change only the target side.

CLI: ``python scripts/synth.py --outdir DIR [--seed N --train N ... --max-clauses N]``.
"""

from __future__ import annotations

import argparse
import functools
import random
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

SPLITS = ("train", "dev", "test")
MAX_SRC_TOKENS = 32  # English variants are longer by a few tokens at most; both stay <= 40
LEMMA_ZIPF = 0.8  # Zipf exponent of lemma frequencies (not a knob)

Choose = Callable[[str, int], int]
Analysis = tuple[Any, ...]


@dataclass(frozen=True)
class SynthConfig:
    """All knobs of the generator (CLI options are the field names with dashes)."""

    seed: int = 1
    train: int = 20000
    dev: int = 1000
    test: int = 1000
    paraphrases: int = 3  # max valid target variants per source phrase (1 = no multi-modality)
    zipf: float = 1.0  # variant k (1-based) has weight 1/k**zipf
    multimodal_rate: float = 0.5  # share of entries / constructions with >1 paraphrase
    noise: float = 0.05  # share of noisy training pairs (train only)
    lexicon: int = 300  # number of content lemmas (roughly)
    max_clauses: int = 2  # 1 = no subordinate clauses

    def __post_init__(self) -> None:
        """Reject impossible settings early."""
        if min(self.train, self.dev, self.test) < 0:
            raise ValueError("split sizes must be >= 0")
        if self.paraphrases < 1 or self.max_clauses < 1 or self.lexicon < 10:
            raise ValueError("need paraphrases >= 1, max_clauses >= 1, lexicon >= 10")
        if self.zipf < 0 or not 0 <= self.multimodal_rate <= 1 or not 0 <= self.noise <= 1:
            raise ValueError("need zipf >= 0 and multimodal_rate, noise in [0, 1]")


# ---------------------------------------------------------------------------------------------
# Closed-class vocabulary (real German function words; English variants in order of preference)
# ---------------------------------------------------------------------------------------------

PERSONS = ("1sg", "2sg", "3sg", "1pl", "2pl", "3pl")
PRONOUNS = (  # (German nominative, English, person/number)
    ("ich", "i", "1sg"), ("du", "you", "2sg"), ("er", "he", "3sg"), ("sie", "she", "3sg"),
    ("es", "it", "3sg"), ("wir", "we", "1pl"), ("ihr", "you", "2pl"), ("sie", "they", "3pl"),
)
VERB_ENDINGS = dict(zip(PERSONS, ("e", "st", "t", "en", "t", "en"), strict=True))
HABEN = dict(zip(PERSONS, ("habe", "hast", "hat", "haben", "habt", "haben"), strict=True))
SEIN = dict(zip(PERSONS, ("bin", "bist", "ist", "sind", "seid", "sind"), strict=True))
MODAL_FORMS = {
    "können": ("kann", "kannst", "kann", "können", "könnt", "können"),
    "müssen": ("muss", "musst", "muss", "müssen", "müsst", "müssen"),
    "wollen": ("will", "willst", "will", "wollen", "wollt", "wollen"),
    "dürfen": ("darf", "darfst", "darf", "dürfen", "dürft", "dürfen"),
}
# English modal variants: (head kind, head, tail);
# "lex" heads are (base, 3sg, past) and take do-support
MODAL_EN: dict[str, tuple[tuple[str, Any, tuple[str, ...]], ...]] = {
    "können": (("aux", "can", ()), ("be", None, ("able", "to"))),
    "müssen": (("aux", "must", ()), ("lex", ("have", "has", "had"), ("to",)),
               ("lex", ("need", "needs", "needed"), ("to",))),
    "wollen": (("lex", ("want", "wants", "wanted"), ("to",)), ("aux", "would", ("like", "to")),
               ("lex", ("wish", "wishes", "wished"), ("to",))),
    "dürfen": (("aux", "may", ()), ("be", None, ("allowed", "to"))),
}
PREPS = {  # preposition: (case, English variants)
    "mit": ("dat", ("with", "together with", "along with")),
    "von": ("dat", ("from", "away from")),
    "bei": ("dat", ("near", "at", "by")),
    "nach": ("dat", ("after",)),
    "aus": ("dat", ("out of", "from")),
    "zu": ("dat", ("to", "towards")),
    "in": ("dat", ("in", "inside")),
    "auf": ("dat", ("on", "upon", "on top of")),
    "unter": ("dat", ("under", "below", "beneath")),
    "neben": ("dat", ("next to", "beside")),
    "hinter": ("dat", ("behind",)),
    "für": ("acc", ("for",)),
    "ohne": ("acc", ("without",)),
    "durch": ("acc", ("through", "across")),
    "gegen": ("acc", ("against",)),
}
CONTRACTIONS = {("in", "dem"): "im", ("zu", "dem"): "zum", ("zu", "der"): "zur",
                ("von", "dem"): "vom", ("bei", "dem"): "beim"}
CONJS = {
    "weil": ("because", "since", "as"),
    "wenn": ("if", "when", "whenever"),
    "obwohl": ("although", "though", "even though"),
    "bevor": ("before",),
    "sobald": ("as soon as", "once"),
    "während": ("while", "whereas"),
}
ADVERBS = {
    "heute": ("today",),
    "jetzt": ("now", "at the moment", "right now"),
    "hier": ("here",),
    "dort": ("there", "over there"),
    "oft": ("often", "frequently", "regularly"),
    "morgen": ("tomorrow",),
    "abends": ("in the evening", "at night", "every evening"),
    "bald": ("soon", "shortly"),
    "wieder": ("again", "once more"),
}
CONSTRUCTIONS = {
    "cx:perfect": ("perfect", "past"),  # hat gesehen -> has seen / saw
    "cx:that": ("that", ""),  # dass -> that / (omitted)
    "cx:adv_front": ("front", "end"),  # fronted German adverb stays in front / moves to the end
    "cx:pp_front": ("end", "front"),  # fronted German PP moves to the end / stays in front
    "cx:pl_indef": ("", "some"),  # indefinite plural: bare / "some"
}
PARTICLES = ("ab", "an", "weg", "los", "zurück", "fest", "heim", "um")

ARTICLES = {  # kind -> case -> gender/number -> form
    "def": {"nom": {"m": "der", "f": "die", "n": "das", "pl": "die"},
            "acc": {"m": "den", "f": "die", "n": "das", "pl": "die"},
            "dat": {"m": "dem", "f": "der", "n": "dem", "pl": "den"}},
    "indef": {"nom": {"m": "ein", "f": "eine", "n": "ein"},
              "acc": {"m": "einen", "f": "eine", "n": "ein"},
              "dat": {"m": "einem", "f": "einer", "n": "einem"}},
    "neg": {"nom": {"m": "kein", "f": "keine", "n": "kein", "pl": "keine"},
            "acc": {"m": "keinen", "f": "keine", "n": "kein", "pl": "keine"},
            "dat": {"m": "keinem", "f": "keiner", "n": "keinem", "pl": "keinen"}},
}
ADJ_ENDINGS = {  # declension -> case -> gender/number -> ending
    "weak": {"nom": {"m": "e", "f": "e", "n": "e", "pl": "en"},
             "acc": {"m": "en", "f": "e", "n": "e", "pl": "en"},
             "dat": {"m": "en", "f": "en", "n": "en", "pl": "en"}},
    "mixed": {"nom": {"m": "er", "f": "e", "n": "es", "pl": "en"},
              "acc": {"m": "en", "f": "e", "n": "es", "pl": "en"},
              "dat": {"m": "en", "f": "en", "n": "en", "pl": "en"}},
    "strong": {"nom": {"pl": "e"}, "acc": {"pl": "e"}, "dat": {"pl": "en"}},
}

# Syllable inventories for invented lemmas
DE_ONSETS = ("b", "bl", "br", "d", "dr", "f", "fl", "fr", "g", "gl", "gr", "h", "k", "kl", "kn",
             "kr", "l", "m", "n", "p", "pf", "pl", "r", "s", "sch", "schl", "schm", "schn", "schw",
             "sp", "spr", "st", "str", "t", "tr", "w", "z", "zw")
DE_NUCLEI = ("a", "e", "i", "o", "u", "ä", "ö", "ü", "au", "ei", "ie", "eu", "a", "e", "i", "o")
DE_CODAS = ("b", "ch", "cht", "ck", "f", "ft", "g", "k", "l", "lb", "ld", "lk", "m", "mp", "n",
            "nd", "ng", "nk", "r", "rb", "rg", "rk", "rm", "rn", "rt", "s", "sch", "st", "t", "tz")
DE_VERB_CODAS = ("b", "ch", "ck", "f", "g", "k", "l", "lb", "lk", "lm", "m", "mp", "n", "nk",
                 "ng", "r", "rb", "rg", "rk", "rm", "rn", "p")
DE_NOUN_SUFFIXES = {"m": ("", "", "er", "el", "ling"), "f": ("e", "e", "ung", "heit", ""),
                    "n": ("", "", "er", "chen", "nis")}
DE_ADJ_SUFFIXES = ("", "", "", "ig", "lich", "isch", "bar", "sam")
EN_ONSETS = ("b", "bl", "br", "c", "cl", "cr", "d", "dr", "f", "fl", "fr", "g", "gl", "gr", "h",
             "j", "k", "l", "m", "n", "p", "pl", "pr", "r", "s", "sc", "sk", "sl", "sm", "sn",
             "sp", "st", "sw", "t", "th", "tr", "tw", "v", "w", "wh")
EN_NUCLEI = ("a", "e", "i", "o", "u", "ai", "ea", "ee", "oa", "oo", "ou", "a", "i", "o", "u")
EN_CODAS = ("b", "ck", "d", "ft", "g", "ll", "m", "mp", "n", "nd", "ng", "nk", "p", "rt", "rn",
            "sh", "sk", "st", "t", "th", "lt", "rd")
EN_SUFFIXES = {"noun": ("", "", "", "er", "le", "et"), "verb": ("", "", "", "", "en"),
               "adj": ("", "", "y", "ish", "ful", "ic")}


# ---------------------------------------------------------------------------------------------
# Abstract syntax
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NP:
    """A pronoun (pron >= 0, subjects only) or a noun phrase."""

    pron: int = -1
    noun: int = -1
    plural: bool = False
    definite: bool = True
    adjs: tuple[int, ...] = ()
    neg: bool = False  # "kein"


@dataclass(frozen=True)
class Clause:
    """One clause; kind: trans / intrans / say (takes a dass-clause) / cop (copula + adjective)."""

    subj: NP
    kind: str
    verb: int = -1
    obj: NP | None = None
    pred: int = -1
    prep: str = ""
    pp: NP | None = None
    adv: str = ""
    neg: bool = False
    tense: str = "pres"  # pres / perf / modal
    modal: str = ""
    topic: str = "subj"  # what fills the prefield of a verb-second clause: subj / adv / pp


@dataclass(frozen=True)
class Segment:
    """A clause in surface order: role main / sub / comp; layout v2 / v1 / final (verb position)."""

    role: str
    conj: str
    layout: str
    clause: Clause


@dataclass(frozen=True)
class Sentence:
    """Clauses in German surface order; a question is a single verb-first main clause."""

    segments: tuple[Segment, ...]
    question: bool = False


@dataclass(frozen=True)
class Noun:
    """A noun lemma: German stem, gender and plural; English variants (mode first)."""

    de: str
    gender: str
    de_pl: str
    en: tuple[str, ...]

    @property
    def de_datpl(self) -> str:
        """Dative plural (plural + n unless it already ends in n or s)."""
        return self.de_pl if self.de_pl.endswith(("n", "s")) else self.de_pl + "n"


@dataclass(frozen=True)
class Verb:
    """A weak verb lemma (stem + particle); English variant stems (mode first)."""

    de: str  # stem
    particle: str  # separable particle or ""
    kind: str  # trans / intrans / say
    en: tuple[str, ...]


@dataclass(frozen=True)
class Adj:
    """An adjective lemma: German stem, English variants (mode first)."""

    de: str
    en: tuple[str, ...]


@dataclass
class Lexicon:
    """Content lemmas, closed-class variant counts and the German token analyses."""

    nouns: list[Noun]
    verbs: list[Verb]
    adjs: list[Adj]
    nvar: dict[str, int]  # closed-class entry / construction -> number of English variants
    analyses: dict[str, list[Analysis]]  # German token -> its analyses
    en_content: list[str]  # English content word forms in use (for noise)
    verbs_by_kind: dict[str, list[int]] = field(default_factory=dict)
    cum: dict[str, list[float]] = field(default_factory=dict)  # lemma-frequency cum. weights

    def analyse(self, token: str) -> list[Analysis]:
        """All readings of a German token (ValueError for unknown tokens)."""
        try:
            return self.analyses[token]
        except KeyError:
            raise ValueError(f"unknown source token {token!r}") from None


# ---------------------------------------------------------------------------------------------
# Lexicon
# ---------------------------------------------------------------------------------------------


def _syllable(rng: random.Random, onsets: tuple[str, ...], codas: tuple[str, ...],
              nuclei: tuple[str, ...]) -> str:
    return rng.choice(onsets) + rng.choice(nuclei) + rng.choice(codas)


def _de_noun(rng: random.Random) -> tuple[str, str, str]:
    gender = rng.choice("mmffn")
    stem = _syllable(rng, DE_ONSETS, DE_CODAS, DE_NUCLEI)
    suffix = rng.choice(DE_NOUN_SUFFIXES[gender])
    stem += suffix
    if stem.endswith(("er", "el", "chen")) and gender != "f":
        plural = stem
    elif gender == "f":
        plural = stem + ("n" if stem.endswith(("e", "el", "er")) else "en")
    elif suffix == "nis":
        plural = stem + "se"
    else:
        plural = stem + rng.choice(("e", "e", "er", "s"))
    return stem, gender, plural


def _de_noun_forms(i: int, stem: str, plural: str) -> dict[str, list[Analysis]]:
    forms: dict[str, list[Analysis]] = {}
    datpl = plural if plural.endswith(("n", "s")) else plural + "n"
    for form, number in ((stem, "sg"), (plural, "pl"), (datpl, "datpl")):
        forms.setdefault(form, []).append(("noun", i, number))
    return forms


def _de_verb_forms(i: int, stem: str, particle: str) -> dict[str, list[Analysis]]:
    forms: dict[str, list[Analysis]] = {}
    by_form: dict[str, set[str]] = {}
    for person, ending in VERB_ENDINGS.items():
        by_form.setdefault(stem + ending, set()).add(person)
    for form, persons in by_form.items():
        forms.setdefault(form, []).append(("vfin", i, frozenset(persons)))
        if particle:
            forms.setdefault(particle + form, []).append(("vsubfin", i, frozenset(persons)))
    forms.setdefault(particle + "ge" + stem + "t", []).append(("vpart", i))
    forms.setdefault(particle + stem + "en", []).append(("vinf", i))
    return forms


def _de_adj_forms(i: int, stem: str) -> dict[str, list[Analysis]]:
    forms: dict[str, list[Analysis]] = {stem: [("pred", i)]}
    for ending in ("e", "en", "er", "es"):
        forms[stem + ending] = [("adj", i, ending)]
    return forms


def _closed_analyses() -> dict[str, list[Analysis]]:
    out: dict[str, list[Analysis]] = {}
    det_sets: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for kind, table in ARTICLES.items():
        for case, row in table.items():
            for gn, form in row.items():
                det_sets.setdefault((form, kind), set()).add((case, gn))
    for (form, kind), cases in sorted(det_sets.items()):
        out.setdefault(form, []).append(("det", kind, frozenset(cases)))
    for (prep, det), form in CONTRACTIONS.items():
        dative = ARTICLES["def"]["dat"].items()
        cases = {("dat", gn) for gn, form in dative if form == det and gn != "pl"}
        out[form] = [("contr", prep, frozenset(cases))]
    for i, (de, _en, _pn) in enumerate(PRONOUNS):
        out.setdefault(de, []).append(("pron", i))
    for kind, table in (("aux", HABEN), ("cop", SEIN)):
        for form in sorted(set(table.values())):
            out[form] = [(kind, frozenset(p for p in PERSONS if table[p] == form))]
    for modal, row in MODAL_FORMS.items():
        table = dict(zip(PERSONS, row, strict=True))
        for form in sorted(set(row)):
            out[form] = [("modal", modal, frozenset(p for p in PERSONS if table[p] == form))]
    out["nicht"] = [("neg",)]
    out["dass"] = [("dass",)]
    out.update({p: [("prep", p)] for p in PREPS})
    out.update({c: [("conj", c)] for c in CONJS})
    out.update({a: [("adv", a)] for a in ADVERBS})
    out.update({p: [("particle", p)] for p in PARTICLES})
    return out


def _add_lemma(analyses: dict[str, list[Analysis]], forms: dict[str, list[Analysis]]) -> bool:
    """Add a lemma's forms unless one of them is already taken (keeps every token unambiguous)."""
    if any(form in analyses or len(form) < 3 for form in forms):
        return False
    analyses.update(forms)
    return True


def _german_lemmas(cfg: SynthConfig, analyses: dict[str, list[Analysis]]
                   ) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]], list[str]]:
    rng = random.Random(f"{cfg.seed}:de")
    n_nouns, n_verbs = round(0.5 * cfg.lexicon), round(0.28 * cfg.lexicon)
    n_adjs = cfg.lexicon - n_nouns - n_verbs
    n_say = max(1, round(0.08 * n_verbs))
    n_intrans = max(1, round(0.3 * n_verbs))
    kinds = ["say"] * n_say + ["intrans"] * n_intrans + ["trans"] * (n_verbs - n_say - n_intrans)
    nouns: list[tuple[str, str, str]] = []
    while len(nouns) < n_nouns:
        stem, gender, plural = _de_noun(rng)
        if _add_lemma(analyses, _de_noun_forms(len(nouns), stem, plural)):
            nouns.append((stem, gender, plural))
    verbs: list[tuple[str, str, str]] = []
    while len(verbs) < n_verbs:
        stem = _syllable(rng, DE_ONSETS, DE_VERB_CODAS, DE_NUCLEI)
        particle = rng.choice(PARTICLES) if rng.random() < 0.2 else ""
        if _add_lemma(analyses, _de_verb_forms(len(verbs), stem, particle)):
            verbs.append((stem, particle, kinds[len(verbs)]))
    adjs: list[str] = []
    while len(adjs) < n_adjs:
        stem = _syllable(rng, DE_ONSETS, DE_CODAS, DE_NUCLEI) + rng.choice(DE_ADJ_SUFFIXES)
        if _add_lemma(analyses, _de_adj_forms(len(adjs), stem)):
            adjs.append(stem)
    return nouns, verbs, adjs


def _en_s(stem: str) -> str:
    return stem + ("es" if stem.endswith(("s", "sh", "ch", "x")) else "s")


def _en_past(stem: str) -> str:
    return stem + ("d" if stem.endswith("e") else "ed")


def _en_forms(stem: str, cls: str) -> tuple[str, ...]:
    if cls == "noun":
        return stem, _en_s(stem)
    if cls == "verb":
        return stem, _en_s(stem), _en_past(stem)
    return (stem,)


def _closed_english() -> set[str]:
    words = {"the", "a", "an", "some", "any", "not", "do", "does", "did", "am", "is", "are",
             "has", "have", "had", "that", ",", ".", "?"}
    words |= {en for _de, en, _pn in PRONOUNS}
    for variants in (*PREPS.values(),):
        words |= {w for v in variants[1] for w in v.split()}
    for table in (CONJS, ADVERBS):
        words |= {w for variants in table.values() for v in variants for w in v.split()}
    for variants in MODAL_EN.values():
        for kind, head, tail in variants:
            words |= set(tail) | ({head} if kind == "aux" else set(head or ()))
    return words


def _english_variants(cfg: SynthConfig, classes: list[str]) -> list[list[str]]:
    """paraphrases English stems per lemma, made round by round so the mode never depends on it."""
    used = _closed_english()
    out: list[list[str]] = [[] for _ in classes]
    for r in range(cfg.paraphrases):
        rng = random.Random(f"{cfg.seed}:en:{r}")
        for variants, cls in zip(out, classes, strict=True):
            codas = EN_CODAS if cls != "noun" else EN_CODAS + ("", "")
            while True:
                stem = _syllable(rng, EN_ONSETS, codas, EN_NUCLEI) + rng.choice(EN_SUFFIXES[cls])
                forms = _en_forms(stem, cls)
                if len(stem) >= 3 and not used.intersection(forms):
                    used.update(forms)
                    variants.append(stem)
                    break
    return out


def _variant_counts(cfg: SynthConfig, keys: list[str]) -> dict[str, int]:
    """How many variants each entry gets: 1, or 2..paraphrases with probability multimodal_rate."""
    rng = random.Random(f"{cfg.seed}:mm")
    counts = {}
    for key in keys:
        u_multi, u_count = rng.random(), rng.random()
        n = 1
        if u_multi < cfg.multimodal_rate and cfg.paraphrases > 1:
            n = 2 + int(u_count * (cfg.paraphrases - 1))
        counts[key] = n
    return counts


@functools.cache
def _closed_variants() -> dict[str, tuple[Any, ...]]:
    table: dict[str, tuple[Any, ...]] = {f"prep:{p}": v for p, (_c, v) in PREPS.items()}
    table.update({f"conj:{c}": v for c, v in CONJS.items()})
    table.update({f"adv:{a}": v for a, v in ADVERBS.items()})
    table.update({f"modal:{m}": v for m, v in MODAL_EN.items()})
    table.update(CONSTRUCTIONS)
    return table


def _cum_weights(n: int, exponent: float) -> list[float]:
    total, cum = 0.0, []
    for k in range(n):
        total += 1.0 / (k + 1) ** exponent
        cum.append(total)
    return cum


@functools.lru_cache(maxsize=8)
def build_lexicon(cfg: SynthConfig) -> Lexicon:
    """The lexicon and closed-class tables for cfg (cached; depends on seed, lexicon, paraphrases,
    multimodal_rate only)."""
    analyses = _closed_analyses()
    de_nouns, de_verbs, de_adjs = _german_lemmas(cfg, analyses)
    classes = ["noun"] * len(de_nouns) + ["verb"] * len(de_verbs) + ["adj"] * len(de_adjs)
    english = _english_variants(cfg, classes)
    keys = ([f"n{i}" for i in range(len(de_nouns))] + [f"v{i}" for i in range(len(de_verbs))]
            + [f"a{i}" for i in range(len(de_adjs))])
    closed = _closed_variants()
    counts = _variant_counts(cfg, keys + sorted(closed))
    en = [tuple(variants[: counts[key]]) for variants, key in zip(english, keys, strict=True)]
    nouns = [Noun(s, g, p, e) for (s, g, p), e in zip(de_nouns, en, strict=False)]
    en = en[len(nouns):]
    verbs = [Verb(s, p, k, e) for (s, p, k), e in zip(de_verbs, en, strict=False)]
    adjs = [Adj(s, e) for s, e in zip(de_adjs, en[len(verbs):], strict=True)]
    nvar = {key: min(counts[key], len(closed[key])) for key in sorted(closed)}
    content = {form for n in nouns for stem in n.en for form in _en_forms(stem, "noun")}
    content |= {form for v in verbs for stem in v.en for form in _en_forms(stem, "verb")}
    content |= {stem for a in adjs for stem in a.en}
    lex = Lexicon(nouns, verbs, adjs, nvar, analyses, sorted(content))
    for kind in ("trans", "intrans", "say"):
        lex.verbs_by_kind[kind] = [i for i, v in enumerate(verbs) if v.kind == kind]
    for name, n in (("noun", len(nouns)), ("adj", len(adjs)),
                    *((kind, len(ids)) for kind, ids in lex.verbs_by_kind.items())):
        lex.cum[name] = _cum_weights(n, LEMMA_ZIPF)
    return lex


# ---------------------------------------------------------------------------------------------
# Sampling abstract sentences (source side; uses only the structure rng)
# ---------------------------------------------------------------------------------------------


def _pick(rng: random.Random, lex: Lexicon, cls: str) -> int:
    cum = lex.cum[cls]
    return rng.choices(range(len(cum)), cum_weights=cum)[0]


def _gen_np(rng: random.Random, lex: Lexicon) -> NP:
    r = rng.random()
    n_adjs = 0 if r < 0.65 else 1 if r < 0.93 else 2
    adjs = tuple(_pick(rng, lex, "adj") for _ in range(n_adjs))
    plural = rng.random() < 0.3
    definite = rng.random() < 0.6
    return NP(noun=_pick(rng, lex, "noun"), plural=plural, definite=definite, adjs=adjs)


def _gen_subj(rng: random.Random, lex: Lexicon) -> NP:
    if rng.random() < 0.25:
        return NP(pron=rng.randrange(len(PRONOUNS)))
    return _gen_np(rng, lex)


def _gen_kind(rng: random.Random, allow_say: bool) -> str:
    r = rng.random()
    if r < 0.12:
        return "cop"
    if r < 0.37:
        return "intrans"
    if r < 0.45 and allow_say:
        return "say"
    return "trans"


def _gen_clause(rng: random.Random, lex: Lexicon, layout: str, allow_say: bool,
                question: bool) -> Clause:
    subj = _gen_subj(rng, lex)
    kind = _gen_kind(rng, allow_say)
    verb = -1 if kind == "cop" else lex.verbs_by_kind[kind][_pick(rng, lex, kind)]
    r = rng.random()
    tense = "pres" if kind == "cop" or r < 0.55 else "perf" if r < 0.8 else "modal"
    modal = rng.choice(sorted(MODAL_FORMS)) if tense == "modal" else ""
    obj = _gen_np(rng, lex) if kind == "trans" else None
    pred = _pick(rng, lex, "adj") if kind == "cop" else -1
    neg = not question and rng.random() < 0.2
    if neg and obj is not None and not obj.definite:
        obj = replace(obj, neg=True)
    adv = rng.choice(sorted(ADVERBS)) if rng.random() < 0.25 else ""
    prep, pp = "", None
    if kind in ("trans", "intrans") and rng.random() < 0.3:
        prep, pp = rng.choice(sorted(PREPS)), _gen_np(rng, lex)
    topic = "subj"
    if layout == "v2" and adv and rng.random() < 0.4:
        topic = "adv"
    elif layout == "v2" and pp is not None and rng.random() < 0.3:
        topic = "pp"
    return Clause(subj, kind, verb, obj, pred, prep, pp, adv, neg, tense, modal, topic)


def _gen_chain(rng: random.Random, lex: Lexicon, role: str, conj: str, layout: str,
               budget: int) -> tuple[list[Segment], int]:
    """A clause plus, for verbs of saying, its dass-complements; budget = extra clauses allowed."""
    clause = _gen_clause(rng, lex, layout, allow_say=budget >= 1, question=False)
    segments = [Segment(role, conj, layout, clause)]
    if clause.kind == "say":
        comps, budget = _gen_chain(rng, lex, "comp", "dass", "final", budget - 1)
        segments += comps
    return segments, budget


def _gen_sentence(rng: random.Random, lex: Lexicon, max_clauses: int) -> Sentence:
    if rng.random() < 0.1:
        clause = _gen_clause(rng, lex, "v1", allow_say=False, question=True)
        return Sentence((Segment("main", "", "v1", clause),), question=True)
    budget = max_clauses - 1
    want_sub = budget >= 1 and rng.random() < 0.3
    sub_first = want_sub and rng.random() < 0.3
    main, left = _gen_chain(rng, lex, "main", "", "v1" if sub_first else "v2",
                            budget - int(want_sub))
    if not want_sub:
        return Sentence(tuple(main))
    sub, _ = _gen_chain(rng, lex, "sub", rng.choice(sorted(CONJS)), "final", left)
    return Sentence(tuple(sub + main if sub_first else main + sub))


# ---------------------------------------------------------------------------------------------
# German realisation
# ---------------------------------------------------------------------------------------------


def _de_np(lex: Lexicon, np: NP, case: str) -> list[str]:
    if np.pron >= 0:
        return [PRONOUNS[np.pron][0]]
    noun = lex.nouns[np.noun]
    gn = "pl" if np.plural else noun.gender
    kind = "neg" if np.neg else "def" if np.definite else "indef"
    det = ARTICLES[kind][case].get(gn)
    declension = "weak" if kind == "def" else "mixed" if det else "strong"
    ending = ADJ_ENDINGS[declension][case][gn]
    form = (noun.de_datpl if case == "dat" else noun.de_pl) if np.plural else noun.de
    return ([det] if det else []) + [lex.adjs[a].de + ending for a in np.adjs] + [form]


def _de_pp(lex: Lexicon, prep: str, np: NP) -> list[str]:
    case = PREPS[prep][0]
    words = _de_np(lex, np, case)
    contraction = CONTRACTIONS.get((prep, words[0]))
    if contraction and np.definite and not np.plural:
        return [contraction] + words[1:]
    return [prep] + words


def _person(np: NP) -> str:
    if np.pron >= 0:
        return PRONOUNS[np.pron][2]
    return "3pl" if np.plural else "3sg"


def _de_verbs(lex: Lexicon, cl: Clause, final: bool) -> tuple[str, list[str]]:
    """The finite verb and the clause-final (right bracket) words."""
    person = _person(cl.subj)
    if cl.kind == "cop":
        return SEIN[person], []
    verb = lex.verbs[cl.verb]
    if cl.tense == "perf":
        return HABEN[person], [verb.particle + "ge" + verb.de + "t"]
    if cl.tense == "modal":
        forms = dict(zip(PERSONS, MODAL_FORMS[cl.modal], strict=True))
        return forms[person], [verb.particle + verb.de + "en"]
    finite = verb.de + VERB_ENDINGS[person]
    if verb.particle and final:
        return verb.particle + finite, []
    return finite, [verb.particle] if verb.particle else []


def _de_clause(lex: Lexicon, cl: Clause, layout: str) -> list[str]:
    finite, bracket = _de_verbs(lex, cl, layout == "final")
    prefield: list[str] = []
    middle: list[str] = []
    subj = _de_np(lex, cl.subj, "nom")
    topic = cl.topic if layout == "v2" else ""
    if topic == "subj":
        prefield = subj
    else:
        middle += subj
    if cl.adv:
        (prefield if topic == "adv" else middle).append(cl.adv)
    if cl.obj is not None:
        middle += _de_np(lex, cl.obj, "acc")
    if cl.neg and not (cl.obj is not None and cl.obj.neg):
        middle.append("nicht")
    if cl.kind == "cop":
        middle.append(lex.adjs[cl.pred].de)
    if cl.pp is not None:
        pp = _de_pp(lex, cl.prep, cl.pp)
        if topic == "pp":
            prefield = pp
        else:
            middle += pp
    if layout == "final":
        return middle + bracket + [finite]
    return prefield + [finite] + middle + bracket


def realise_source(lex: Lexicon, sent: Sentence) -> list[str]:
    """German tokens of an abstract sentence."""
    out: list[str] = []
    for k, seg in enumerate(sent.segments):
        if k:
            out.append(",")
        if seg.conj:
            out.append(seg.conj)
        out += _de_clause(lex, seg.clause, seg.layout)
    return out + ["?" if sent.question else "."]


# ---------------------------------------------------------------------------------------------
# English realisation (choose(key, n) picks one of n variants)
# ---------------------------------------------------------------------------------------------


def _pick_variant(lex: Lexicon, key: str, choose: Choose) -> Any:
    n = lex.nvar[key]
    return _closed_variants()[key][choose(key, n) if n > 1 else 0]


def _content(variants: tuple[str, ...], key: str, choose: Choose) -> str:
    return variants[choose(key, len(variants)) if len(variants) > 1 else 0]


def _en_np(lex: Lexicon, np: NP, choose: Choose) -> list[str]:
    if np.pron >= 0:
        return [PRONOUNS[np.pron][1]]
    words = [_content(lex.adjs[a].en, f"a{a}", choose) for a in np.adjs]
    stem = _content(lex.nouns[np.noun].en, f"n{np.noun}", choose)
    words.append(_en_s(stem) if np.plural else stem)
    if np.definite:
        det = ["the"]
    elif np.plural:
        det = ["any"] if np.neg else _pick_variant(lex, "cx:pl_indef", choose).split()
    else:
        det = ["an" if words[0][0] in "aeiou" else "a"]
    return det + words


def _en_head(kind: str, head: Any, person: str, past: bool, needs_do: bool
             ) -> tuple[str, list[str]]:
    """Finite word and the words that follow it (before the tail) for one kind of verb head."""
    if kind == "aux":
        return head, []
    if kind == "be":
        return {"1sg": "am", "3sg": "is"}.get(person, "are"), []
    if kind == "have":
        return ("has" if person == "3sg" else "have"), []
    base, s3, past_form = head
    if needs_do:
        return ("did" if past else "does" if person == "3sg" else "do"), [base]
    return (past_form if past else s3 if person == "3sg" else base), []


def _en_verbs(lex: Lexicon, cl: Clause, question: bool, choose: Choose
              ) -> tuple[list[str], list[str]]:
    """English verb group split into (words before the subject, words after it)."""
    person = _person(cl.subj)
    tail: list[str] = []
    if cl.kind == "cop":
        kind, head, past = "be", None, False
    else:
        stem = _content(lex.verbs[cl.verb].en, f"v{cl.verb}", choose)
        forms = _en_forms(stem, "verb")
        kind, head, past = "lex", forms, False
        if cl.tense == "modal":
            kind, head, modal_tail = _pick_variant(lex, f"modal:{cl.modal}", choose)
            tail = [*modal_tail, stem]
        elif cl.tense == "perf" and _pick_variant(lex, "cx:perfect", choose) == "perfect":
            kind, head, tail = "have", None, [forms[2]]
        elif cl.tense == "perf":
            past = True
    finite, rest = _en_head(kind, head, person, past, cl.neg or question)
    neg = ["not"] if cl.neg else []
    if question:
        return [finite], neg + rest + tail
    return [], [finite] + neg + rest + tail


def _en_clause(lex: Lexicon, seg: Segment, question: bool, choose: Choose) -> list[str]:
    cl = seg.clause
    pre, post = _en_verbs(lex, cl, question, choose)
    body = pre + _en_np(lex, cl.subj, choose) + post
    if cl.obj is not None:
        body += _en_np(lex, cl.obj, choose)
    if cl.kind == "cop":
        body.append(_content(lex.adjs[cl.pred].en, f"a{cl.pred}", choose))
    front: list[str] = []
    if cl.pp is not None:
        pp = _pick_variant(lex, f"prep:{cl.prep}", choose).split() + _en_np(lex, cl.pp, choose)
        fronted = cl.topic == "pp" and _pick_variant(lex, "cx:pp_front", choose) == "front"
        front, body = (pp, body) if fronted else (front, body + pp)
    if cl.adv:
        adv = _pick_variant(lex, f"adv:{cl.adv}", choose).split()
        fronted = cl.topic == "adv" and _pick_variant(lex, "cx:adv_front", choose) == "front"
        front, body = (adv + front, body) if fronted else (front, body + adv)
    return front + body


def realise_target(lex: Lexicon, sent: Sentence, choose: Choose) -> list[str]:
    """English tokens of an abstract sentence; choose(key, n) selects the paraphrases."""
    out: list[str] = []
    for k, seg in enumerate(sent.segments):
        if seg.role == "main" and k:
            out.append(",")
        if seg.role == "sub":
            out += _pick_variant(lex, f"conj:{seg.conj}", choose).split()
        elif seg.role == "comp":
            out += _pick_variant(lex, "cx:that", choose).split()
        out += _en_clause(lex, seg, sent.question, choose)
    return out + ["?" if sent.question else "."]


def _mode(_key: str, _n: int) -> int:
    return 0


def _sampler(rng: random.Random, zipf: float) -> Choose:
    cache: dict[int, list[float]] = {}

    def choose(_key: str, n: int) -> int:
        if n not in cache:
            cache[n] = _cum_weights(n, zipf)
        return rng.choices(range(n), cum_weights=cache[n])[0]

    return choose


# ---------------------------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------------------------


def _add_noise(rng: random.Random, lex: Lexicon, words: list[str]) -> list[str]:
    """Drop, insert, substitute or swap one target word (never the final punctuation)."""
    body, end = words[:-1], words[-1:]
    op = rng.choice(("drop", "insert", "substitute", "swap"))
    pos = rng.randrange(len(body))
    if op == "drop" and len(body) > 2:
        del body[pos]
    elif op == "insert" or len(body) < 2:
        body.insert(pos, rng.choice(lex.en_content))
    elif op == "substitute":
        body[pos] = rng.choice(lex.en_content)
    else:
        pos = min(pos, len(body) - 2)
        body[pos], body[pos + 1] = body[pos + 1], body[pos]
    return body + end


def _split_pairs(cfg: SynthConfig, lex: Lexicon, split: str, size: int,
                 taken: set[str]) -> list[tuple[str, str]]:
    structure = random.Random(f"{cfg.seed}:{split}:structure")
    choose = _sampler(random.Random(f"{cfg.seed}:{split}:choice"), cfg.zipf)
    noise = random.Random(f"{cfg.seed}:{split}:noise")
    seen: set[str] = set()
    pairs: list[tuple[str, str]] = []
    attempts = 0
    while len(pairs) < size:
        attempts += 1
        if attempts > 100 * size + 1000:
            raise RuntimeError(f"cannot draw {size} distinct {split} sentences; enlarge lexicon")
        sent = _gen_sentence(structure, lex, cfg.max_clauses)
        src_words = realise_source(lex, sent)
        src = " ".join(src_words)
        if len(src_words) > MAX_SRC_TOKENS or src in taken or (split != "train" and src in seen):
            continue
        seen.add(src)
        trg = realise_target(lex, sent, choose)
        if len(trg) > 40:
            trg = realise_target(lex, sent, _mode)
        if split == "train" and noise.random() < cfg.noise:
            trg = _add_noise(noise, lex, trg)
        pairs.append((src, " ".join(trg)))
    return pairs


def generate(cfg: SynthConfig) -> dict[str, list[tuple[str, str]]]:
    """(de, en) pairs per split; dev and test sources are distinct and absent from train."""
    lex = build_lexicon(cfg)
    taken: set[str] = set()
    out: dict[str, list[tuple[str, str]]] = {}
    for split in ("test", "dev", "train"):  # held-out splits first, so train can avoid them
        out[split] = _split_pairs(cfg, lex, split, getattr(cfg, split), taken)
        if split != "train":
            taken.update(src for src, _ in out[split])
    return {split: out[split] for split in SPLITS}


def write_corpus(cfg: SynthConfig, outdir: Path) -> None:
    """Write outdir/{train,dev,test}.{de,en} (UTF-8, one tokenized sentence per line)."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    for split, pairs in generate(cfg).items():
        for side, lang in enumerate(("de", "en")):
            text = "".join(pair[side] + "\n" for pair in pairs)
            (outdir / f"{split}.{lang}").write_text(text, encoding="utf-8", newline="\n")


def _parse_args(argv: list[str] | None) -> tuple[SynthConfig, Path]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", type=Path, required=True)
    for f in fields(SynthConfig):
        parser.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default),
                            default=f.default, metavar=type(f.default).__name__.upper())
    args = vars(parser.parse_args(argv))
    outdir = args.pop("outdir")
    return SynthConfig(**args), outdir


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    cfg, outdir = _parse_args(argv)
    write_corpus(cfg, outdir)


if __name__ == "__main__":
    main()
