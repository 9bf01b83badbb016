"""Paired bootstrap resampling (sacrebleu's own, `--paired-bs`) of one student against its baseline.

    python significance.py --hyp SYSTEM --baseline-hyp BASELINE --ref TEST.trg --output P.json [--metric bleu]
                           [--tokenize none] [--samples 1000] [--seed 12345] [--model NAME --baseline-model NAME]

Both students share architecture, dropout, budget and trial (seed) and differ only in their training data. They
are compared on the metric that the tables show (config `evaluation.metric`, `--metric`): `bleu`, the paper's
tokenized BLEU, and `chrf`, on their BPE test translations de-BPE'd as in evaluate.py against the tokenized
reference; `bleu_detok`, sacrebleu's default BLEU (13a), on their detokenized translations (evaluate.py's
`--detok-output`) against the detokenized reference (scripts/detok.py). sacrebleu resamples the test set
`--samples` times and reports a two-sided p-value for "the difference is due to chance".
The output names the metric, both models and the system student's coordinates (as evaluate.py's run files do);
FORMAT numbers its fields (SIGNIFICANCE_FIELDS).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from slkd.design import METRICS
from slkd.scoring import metric, model_fields, read_references, read_translations

FORMAT = 3  # bump with any change of SIGNIFICANCE_FIELDS or of their meaning (tests/test_stages.py pins it)
SIGNIFICANCE_FIELDS = ("format", "model", "student", "baseline_model", "system", "baseline", "metric", "score",
                       "baseline_score", "difference", "p_value", "ci95", "samples", "signature")


def paired_bootstrap(
    system: list[str], baseline: list[str], refs: list[str], tokenize: str = "none", samples: int = 1000,
    seed: int = 12345, metric_name: str = "bleu",
) -> dict[str, Any]:
    """The metric's score of both systems, the difference and sacrebleu's paired bootstrap p-value, with its
    signature."""
    if not len(system) == len(baseline) == len(refs):
        raise ValueError(f"line counts differ: system {len(system)}, baseline {len(baseline)}, references"
                         f" {len(refs)}")
    scorer = metric(metric_name, tokenize)
    os.environ["SACREBLEU_SEED"] = str(seed)  # PairedTest reads its seed from the environment
    from sacrebleu.significance import PairedTest

    signatures, scores = PairedTest([("baseline", baseline), ("system", system)], {metric_name: scorer}, [refs],
                                    test_type="bs", n_samples=samples)()
    (name, signature), = signatures.items()
    base_result, system_result = scores[name]
    # sacrebleu counts resampled differences strictly above the observed one, so two identical outputs (every
    # difference 0) would get its smallest p-value; identical translations cannot differ by chance: p = 1
    p_value = 1.0 if system == baseline else float(system_result.p_value)
    return {
        "metric": metric_name,
        "score": round(system_result.score, 2),
        "baseline_score": round(base_result.score, 2),
        "difference": round(system_result.score - base_result.score, 2),
        "p_value": p_value,
        "ci95": round(float(system_result.ci), 2),
        "samples": samples,
        "signature": str(signature),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hyp", required=True, help="the system's test translations: BPE (detokenized for"
                        " bleu_detok)")
    parser.add_argument("--baseline-hyp", required=True, help="the baseline's, same sentences")
    parser.add_argument("--metric", choices=METRICS, default="bleu", help="the metric compared (evaluation.metric)")
    parser.add_argument("--ref", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--tokenize", default="none")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--model", default="", help="the system's model name (student/SMALL/kd/...)")
    parser.add_argument("--baseline-model", default="", help="the baseline's")
    args = parser.parse_args(argv)
    try:
        result = paired_bootstrap(read_translations(args.hyp, args.metric),
                                  read_translations(args.baseline_hyp, args.metric), read_references(args.ref),
                                  args.tokenize, args.samples, args.seed, args.metric)
    except ValueError as exc:
        print(f"ERROR: {args.hyp} vs {args.baseline_hyp} on {args.ref}: {exc}", file=sys.stderr)
        return 1
    result = {"format": FORMAT, **model_fields(args.model), "baseline_model": args.baseline_model,
              "system": args.hyp, "baseline": args.baseline_hyp, **result}
    print(json.dumps(result), file=sys.stderr)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
