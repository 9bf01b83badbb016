"""Reading parallel text strictly: every problem is an error that names the file and, where there is one, the line.

Bad input must stop a run before any training, with a message a person can act on. The checks, in order:

* the path: missing, a directory, not a regular file, or not readable (`check_file`; also run at planning
  time on local corpora). Readability is judged from the mode bits of the class that applies (owner, group,
  others) as well as by opening the file, so that a file without read permission is refused even for root,
  who could open it;
* the file: empty; UTF-16 (its byte-order mark); a UTF-8 byte-order mark at the start is stripped and
  reported (`TextFile.bom`), one anywhere else is an error;
* each line: bytes that are not UTF-8 (the column counts characters), a carriage return inside the line,
  any other control character but the tab (C0 U+0000-U+001F, DEL U+007F, C1 U+0080-U+009F: a NUL, a terminal
  colour code; a tokenizer would drop one without a word, joining the words beside it), an empty line, a line
  of only invisible characters (format characters, spaces, fillers such as U+200B, U+00AD, U+2060, U+3164),
  more than `max_tokens` whitespace tokens (corpus.max_line_len) or more than `max_chars` characters
  (corpus.max_line_chars);
* both sides: line counts that differ.

CRLF line ends are normalised to LF and counted (`TextFile.crlf`); a last line without its line end is read.

Evaluation pairs that occur in the training data are not an error: `eval_overlap` finds them (the same source
and the same target line, on the prepared text), `overlap_summary` counts and names them for the reports.
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path

BOM = "\ufeff"
UTF8_BOM = BOM.encode("utf-8")
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Letters and symbols that render as nothing (Hangul fillers, the blank Braille pattern, the combining
# grapheme joiner); every character of categories Cc, Cf, Zs, Zl, Zp is invisible as well.
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})
INVISIBLE_EXTRA = frozenset("\u034f\u115f\u1160\u2800\u3164\uffa0")
# Control characters that are never text: C0 but the tab (and the carriage return, which has its own message),
# DEL and C1. Their names (ISO 6429), and a hint where the cause is a likely one.
CONTROL = re.compile("[\x00-\x08\x0a-\x0c\x0e-\x1f\x7f-\x9f]")
CONTROL_NAMES = {
    **dict(enumerate("NUL SOH STX ETX EOT ENQ ACK BEL BS HT LF VT FF CR SO SI DLE DC1 DC2 DC3 DC4 NAK SYN ETB CAN"
                     " EM SUB ESC FS GS RS US".split())),
    0x7F: "DEL",
    **dict(enumerate("PAD HOP BPH NBH IND NEL SSA ESA HTS HTJ VTS PLD PLU RI SS2 SS3 DCS PU1 PU2 STS CCH MW SPA EPA"
                     " SOS SGCI SCI CSI ST OSC PM APC".split(), start=0x80)),
}
CONTROL_HINTS = {0x00: "binary data?", 0x1B: "a terminal colour code?"}
C1_HINT = "Windows-1252 text decoded as Latin-1?"  # its curly quotes and dashes (0x80-0x9F) become C1 controls


class CorpusError(ValueError):
    """A problem with a corpus file; the message starts with `path` or `path:line`."""


@dataclass(frozen=True)
class TextFile:
    """A checked text file: its lines (without line ends), whether a leading BOM was stripped, CRLF count."""

    path: Path
    lines: list[str]
    bom: bool = False
    crlf: int = 0


def unreadable(path: str | Path, st: os.stat_result | None = None) -> str | None:
    """Why the mode bits refuse reading path to this process (None when they allow it): no read bit at all,
    or none for the class that applies (owner, group, others). Root is judged by its class too."""
    st = st or os.stat(path)
    mode = stat.S_IMODE(st.st_mode)
    uid = os.geteuid()
    if uid == st.st_uid:
        bit = stat.S_IRUSR
    elif st.st_gid == os.getegid() or st.st_gid in os.getgroups():
        bit = stat.S_IRGRP
    else:
        bit = stat.S_IROTH
    if not mode & 0o444 or not mode & bit:
        return f"not readable (mode 0o{mode:03o})"
    return None


def check_file(path: str | Path) -> None:
    """CorpusError unless path is a regular file that this process may read."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            raise CorpusError(f"{path}: file not found (a symbolic link to {os.readlink(path)}, which does not"
                              " exist)") from None
        raise CorpusError(f"{path}: file not found") from None
    except OSError as err:
        raise CorpusError(f"{path}: cannot be read ({err.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        raise CorpusError(f"{path}: is a directory, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise CorpusError(f"{path}: not a regular file")
    reason = unreadable(path, st)
    if reason:
        raise CorpusError(f"{path}: {reason}")


def invisible_only(line: str) -> list[str]:
    """The distinct code points (U+XXXX, in order, ASCII white space left out) of a line whose every character
    is invisible; [] when some character is visible."""
    points: list[str] = []
    for char in line:
        if char not in INVISIBLE_EXTRA and unicodedata.category(char) not in INVISIBLE_CATEGORIES:
            return []
        code = f"U+{ord(char):04X}"
        if char not in " \t" and code not in points:
            points.append(code)
    return points


def blank(line: str) -> bool:
    """Whether a line is empty to the eye: white space or invisible characters only (what check_line refuses)."""
    return not line.strip() or bool(invisible_only(line))


def control_character(char: str, column: int) -> str:
    """What check_line says of a control character at a column: its code point, name and a hint where there is
    one, e.g. `control character U+0000 (NUL) at column 4 (binary data?)`."""
    code = ord(char)
    hint = CONTROL_HINTS.get(code) or (C1_HINT if 0x80 <= code <= 0x9F else None)
    return f"control character U+{code:04X} ({CONTROL_NAMES[code]}) at column {column}" + (f" ({hint})" if hint else "")


def check_line(path: Path, number: int, line: str, max_tokens: int | None, max_chars: int | None) -> None:
    """CorpusError naming path:number for a line that is not a sentence (see the module's list)."""
    where = f"{path}:{number}"
    if "\r" in line:
        raise CorpusError(f"{where}: carriage return (U+000D) inside the line, at column {line.index(chr(13)) + 1}"
                          " (old Mac line ends?)")
    control = CONTROL.search(line)
    if control:
        raise CorpusError(f"{where}: {control_character(control.group(), control.start() + 1)}")
    if BOM in line:
        raise CorpusError(f"{where}: byte-order mark (U+FEFF) at column {line.index(BOM) + 1}; one is allowed only"
                          " at the start of the file")
    if not line.strip():
        raise CorpusError(f"{where}: empty line")
    points = invisible_only(line)
    if points:
        raise CorpusError(f"{where}: line has only invisible characters ({' '.join(points)})")
    if max_tokens is not None and len(line.split()) > max_tokens:
        raise CorpusError(
            f"{where}: line has {len(line.split())} tokens, over the limit of {max_tokens} (corpus.max_line_len)"
        )
    if max_chars is not None and len(line) > max_chars:
        raise CorpusError(
            f"{where}: line has {len(line)} characters, over the limit of {max_chars} (corpus.max_line_chars)"
        )


def read_text(path: str | Path, max_tokens: int | None = None, max_chars: int | None = None) -> TextFile:
    """A UTF-8 text file checked line by line; CorpusError on any problem."""
    path = Path(path)
    check_file(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise CorpusError(f"{path}: cannot be read ({err.strerror})") from None
    if data.startswith(UTF16_BOMS):
        raise CorpusError(f"{path}:1: UTF-16 text (byte-order mark 0x{data[0]:02x} 0x{data[1]:02x}), not UTF-8")
    bom = data.startswith(UTF8_BOM)
    if bom:
        data = data[len(UTF8_BOM):]
    if not data.strip():
        raise CorpusError(f"{path}: file is empty")
    raw_lines = data.split(b"\n")
    if raw_lines[-1] == b"":
        raw_lines.pop()
    lines = []
    crlf = 0
    for number, raw in enumerate(raw_lines, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            column = len(raw[: err.start].decode("utf-8")) + 1
            raise CorpusError(f"{path}:{number}: not UTF-8 (byte 0x{raw[err.start]:02x} at column {column})") from None
        if line.endswith("\r"):
            line = line.rstrip("\r")
            crlf += 1
        check_line(path, number, line, max_tokens, max_chars)
        lines.append(line)
    return TextFile(path, lines, bom, crlf)


def read_lines(path: str | Path, max_tokens: int | None = None, max_chars: int | None = None) -> list[str]:
    """The lines of a UTF-8 text file without their line ends; CorpusError on any problem."""
    return read_text(path, max_tokens, max_chars).lines


def read_pair(
    src: str | Path, trg: str | Path, max_tokens: int | None = None, max_chars: int | None = None
) -> tuple[TextFile, TextFile]:
    """Both sides of a parallel corpus, checked; CorpusError when either is bad or their line counts differ."""
    src_file = read_text(src, max_tokens, max_chars)
    trg_file = read_text(trg, max_tokens, max_chars)
    if len(src_file.lines) != len(trg_file.lines):
        raise CorpusError(
            f"{src} has {len(src_file.lines)} lines but {trg} has {len(trg_file.lines)}: the sides are not parallel"
        )
    return src_file, trg_file


def read_parallel(
    src: str | Path, trg: str | Path, max_tokens: int | None = None, max_chars: int | None = None
) -> tuple[list[str], list[str]]:
    """The lines of both sides of a parallel corpus (see read_pair)."""
    src_file, trg_file = read_pair(src, trg, max_tokens, max_chars)
    return src_file.lines, trg_file.lines


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


# ---- Evaluation pairs that occur in the training data ------------------------------------------------------
Pair = tuple[str, str]
# How many overlapping pairs a report names per split (`dev:12 = train:345`); all of them are counted.
OVERLAP_EXAMPLES = 5


def eval_overlap(
    train: tuple[list[str], list[str]], evals: dict[str, tuple[list[str], list[str]]]
) -> dict[str, list[tuple[int, int]]]:
    """Per evaluation split (in the order of `evals`), its pairs that occur in the training data: (its line, the
    first training line with the same source and the same target), 1-based, in the order of the split's lines.
    A pair repeated in the split is found at each of its lines."""
    first: dict[Pair, int] = {}
    for number, pair in enumerate(zip(*train, strict=True), start=1):
        first.setdefault(pair, number)
    return {
        split: [(number, first[pair]) for number, pair in enumerate(zip(*sides, strict=True), start=1)
                if pair in first]
        for split, sides in evals.items()
    }


def without_pairs(
    src: list[str], trg: list[str], pairs: set[Pair]
) -> tuple[list[str], list[str], list[int]]:
    """Both sides less every line whose pair is in `pairs`; the kept sides and the removed lines (1-based)."""
    removed = [number for number, pair in enumerate(zip(src, trg, strict=True), start=1) if pair in pairs]
    gone = set(removed)
    kept = [pair for number, pair in enumerate(zip(src, trg, strict=True), start=1) if number not in gone]
    return [s for s, _ in kept], [t for _, t in kept], removed


def overlap_summary(found: dict[str, list[tuple[int, int]]], sizes: dict[str, int]) -> dict[str, dict[str, object]]:
    """eval_overlap's result as a report has it: per split, the pairs found in training, the split's size and the
    first OVERLAP_EXAMPLES of them as `dev:12 = train:345`."""
    return {
        split: {"pairs": len(lines), "of": sizes[split],
                "first": [f"{split}:{line} = train:{train}" for line, train in lines[:OVERLAP_EXAMPLES]]}
        for split, lines in found.items()
    }


def overlap_report(
    train: tuple[list[str], list[str]], evals: dict[str, tuple[list[str], list[str]]]
) -> dict[str, dict[str, object]]:
    """The evaluation pairs that occur in the training data, as a report has them: eval_overlap's finds, each
    split's size taken from its own lines (overlap_summary)."""
    return overlap_summary(eval_overlap(train, evals), {split: len(sides[0]) for split, sides in evals.items()})
