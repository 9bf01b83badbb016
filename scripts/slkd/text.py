"""Text as the workflow handles it between the steps: BPE subwords joined again, Moses detokenization."""

from __future__ import annotations

import re

_JOINT = re.compile(r"@@( |$)")


def debpe_line(line: str) -> str:
    """Join subwords: `ver@@ stehen` → `verstehen`."""
    return _JOINT.sub("", line)


def detokenize(lines: list[str], lang: str) -> list[str]:
    """Moses-detokenized lines (sacremoses, `lang` the text's language); an empty line stays empty."""
    from sacremoses import MosesDetokenizer

    detokenizer = MosesDetokenizer(lang=lang)
    return [detokenizer.detokenize(line.split(), return_str=True) for line in lines]
