"""What a run could decide with fewer trials or fewer test sentences: the claims' verdicts recomputed from a
finished run's own translations on subsets, to size a configuration's trials and test set (the demo's).

    .venv/bin/python bench/claims_power.py OUTDIR [--configfile config/demo.yaml] [--sentences 125 250 500]

For the two main claims (kd beats baseline; base+kd is at least as good as kd, non-inferiority at claims.margin)
of claims.architecture with and without dropout, each row gives the verdict, the effect and its interval
(scripts/slkd/verdict.py, the claims rule's own statistics and settings) on the first t trials and the first n test
sentences. Fewer trials cost proportionally fewer trainings; fewer sentences, proportionally less test decoding.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
from claims import load_translations  # noqa: E402
from slkd import verdict as vd  # noqa: E402
from slkd.design import claim_settings, dropout_label, table_metric  # noqa: E402
from slkd.layout import fill, paths  # noqa: E402
from slkd.scoring import metric  # noqa: E402
from slkd.settings import load_config  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outdir", help="a finished run's outdir (its claims' students translated the test set)")
    parser.add_argument("--configfile", default=str(REPO / "config/demo.yaml"), help="the run's configuration")
    parser.add_argument("--sentences", type=int, nargs="+", default=[125, 250, 500],
                        help="test-set prefixes to try (the whole test set when larger)")
    args = parser.parse_args(argv)
    config = load_config(REPO, args.configfile)
    claims, settings = config["claims"], claim_settings(config)
    name = table_metric(config)
    scorer = metric(name, config["evaluation"]["bleu_tokenize"])
    layout = paths(str(Path(args.outdir).resolve()))
    pattern = layout.student_test_detok if name == "bleu_detok" else layout.student_test_hyp
    hyps = sorted(str(p) for p in Path("/").glob(fill(pattern, architecture=claims["architecture"],
                                                      dataset="*", dropout="*", checkpoints="*",
                                                      trial="*").lstrip("/")))
    reference = fill(layout.detok_text if name == "bleu_detok" else layout.text, corpus="base", split="test",
                     lang=config["corpus"]["trg"])
    stats = load_translations(hyps, reference, scorer, name)
    rows = ["| claim | scope | trials | sentences | verdict | effect [95 % CI] |", "|---|---|---|---|---|---|"]
    for system, reference_set, margin in ((claims["kd"], claims["baseline"], 0.0),
                                          (claims["combined"], claims["kd"], settings["margin"])):
        for dropout in (True, False):
            key = (claims["architecture"], dropout_label(dropout))
            ours, theirs = stats[(*key, system)], stats[(*key, reference_set)]
            common = sorted(set(ours) & set(theirs))
            for t in range(1, len(common) + 1):
                for n in args.sentences:
                    pairs = [(ours[trial][:n], theirs[trial][:n]) for trial in common[:t]]
                    estimate = vd.paired_effect(scorer, pairs, settings["samples"], settings["seed"],
                                                settings["confidence"])
                    claim = f"{system} {'>=' if margin else '>'} {reference_set}"
                    rows.append(f"| {claim} | {claims['architecture']} {'with' if dropout else 'without'} dropout"
                                f" | {t} | {estimate.sentences} | {vd.decide(estimate, margin)} |"
                                f" {estimate.effect:+.2f} [{estimate.low:+.2f}, {estimate.high:+.2f}] |")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
