"""Reading parallel text strictly: every problem is an error that names the file and, where there is one, the line.

Bad input must stop a run before any training, with a message a person can act on. The checks: a missing
file, an empty file, bytes that are not UTF-8, empty lines, lines longer than a limit, and sides whose line
counts differ.
"""

from __future__ import annotations

from pathlib import Path


class CorpusError(ValueError):
    """A problem with a corpus file; the message starts with `path` or `path:line`."""


def read_lines(path: str | Path, max_tokens: int | None = None) -> list[str]:
    """The lines of a UTF-8 text file without their line ends; CorpusError on any problem."""
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"{path}: file not found")
    data = path.read_bytes()
    if not data.strip():
        raise CorpusError(f"{path}: file is empty")
    raw_lines = data.split(b"\n")
    if raw_lines[-1] == b"":
        raw_lines.pop()
    lines = []
    for number, raw in enumerate(raw_lines, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise CorpusError(
                f"{path}:{number}: not UTF-8 (byte 0x{raw[err.start]:02x} at column {err.start + 1})"
            ) from None
        line = line.rstrip("\r")
        if not line.strip():
            raise CorpusError(f"{path}:{number}: empty line")
        if max_tokens is not None and len(line.split()) > max_tokens:
            raise CorpusError(
                f"{path}:{number}: line has {len(line.split())} tokens, over the limit of {max_tokens}"
                " (corpus.max_line_len)"
            )
        lines.append(line)
    return lines


def read_parallel(
    src: str | Path, trg: str | Path, max_tokens: int | None = None
) -> tuple[list[str], list[str]]:
    """Both sides of a parallel corpus; CorpusError when either is bad or their line counts differ."""
    src_lines = read_lines(src, max_tokens)
    trg_lines = read_lines(trg, max_tokens)
    if len(src_lines) != len(trg_lines):
        raise CorpusError(
            f"{src} has {len(src_lines)} lines but {trg} has {len(trg_lines)}: the sides are not parallel"
        )
    return src_lines, trg_lines


def count_lines(path: str | Path) -> int:
    """Number of lines of a text file (a last line without its line end counts)."""
    data = Path(path).read_bytes()
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def write_lines(path: str | Path, lines: list[str]) -> None:
    """Write lines with `\\n` line ends, creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for line in lines:
            out.write(line + "\n")
