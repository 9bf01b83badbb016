"""Result files read by what they say: each run file (scripts/evaluate.py) and each paired bootstrap result
(scripts/significance.py) names its student's coordinates, so the table and figure scripts key them by those,
never by a spelling of the layout or the order of their arguments.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

STUDENT_FIELDS = ("architecture", "dataset", "dropout", "checkpoints", "trial")


class ResultFileError(ValueError):
    """A run or significance file that cannot be keyed (unreadable, no student coordinates, given twice)."""


def read_result(path: str | Path) -> dict[str, Any]:
    """A run file (scripts/evaluate.py) or a paired bootstrap result (scripts/significance.py), checked to name
    its student's coordinates."""
    try:
        result = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultFileError(f"{path}: not a readable result file ({exc})") from exc
    if not isinstance(result, dict) or not isinstance(result.get("student"), dict):
        raise ResultFileError(f"{path}: names no student (written by an older evaluate.py or significance.py:"
                              " run the workflow again, which rewrites it)")
    return result


def key_results(paths: list[str | Path], fields: tuple[str, ...]) -> dict[tuple[Any, ...], tuple[str, dict]]:
    """{(the student's `fields`...): (path, result)} of result files, each keyed by the coordinates it names."""
    keyed: dict[tuple[Any, ...], tuple[str, dict]] = {}
    for path in paths:
        result = read_result(path)
        key = tuple(result["student"][f] for f in fields)
        if key in keyed:
            raise ResultFileError(f"{path} and {keyed[key][0]} are both {dict(zip(fields, key, strict=True))}")
        keyed[key] = (str(path), result)
    return keyed


# The metrics a table can show (slkd.design.METRICS): their name in a header and their description in a caption
LABEL = {"bleu": "BLEU", "bleu_detok": "BLEU (detok.)", "chrf": "chrF"}


DESCRIPTION = {"bleu": "tokenized test BLEU", "bleu_detok": "detokenized test BLEU", "chrf": "test chrF"}


def p_text(p_values: list[float | None]) -> str:
    return ";".join("" if p is None else f"{p:.4f}" for p in p_values)
