"""Corpora: strict checks that name the file and line, tokenization and cleaning, evaluation pairs in training,
TED download and extraction, paths with spaces and non-ASCII letters."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import string
import tarfile
from pathlib import Path

import pytest
import ted
from conftest import REPO, planned_jobs, run_workflow
from corpus_gate import main as gate_main
from corpus_gate import overlap_lines
from prepare_corpus import clean, normalize, tokenize
from prepare_corpus import main as prepare_main
from slkd import settings
from slkd.corpus_check import (
    CorpusError,
    check_file,
    eval_overlap,
    overlap_summary,
    read_lines,
    read_parallel,
    read_text,
    without_pairs,
)

GOOD_DE = ["ein kleiner hund .", "die katze schläft .", "wir gehen nach hause ."]
GOOD_EN = ["a small dog .", "the cat sleeps .", "we go home ."]


def write(path: Path, lines: list[str] | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(lines if isinstance(lines, bytes) else ("\n".join(lines) + "\n").encode())
    return path


# ---- unit: the checks themselves ------------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file is empty"),
        (b"eins .\n\nzwei .\n", ":2: empty line"),
        (b"eins .\nzw\xe9i .\n", ":2: not UTF-8 (byte 0xe9 at column 3)"),
        (b"eins .\n" + b"a " * 20 + b"\n", ":2: line has 20 tokens, over the limit of 10"),
    ],
)
def test_read_lines_names_file_and_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = write(tmp_path / "x.de", content)
    with pytest.raises(CorpusError) as err:
        read_lines(path, max_tokens=10)
    assert str(err.value).startswith(str(path))
    assert message in str(err.value)


@pytest.mark.unit
def test_read_parallel_rejects_mismatched_counts(tmp_path: Path) -> None:
    src = write(tmp_path / "a.de", GOOD_DE)
    trg = write(tmp_path / "a.en", GOOD_EN[:2])
    with pytest.raises(CorpusError, match=r"a\.de has 3 lines but .*a\.en has 2"):
        read_parallel(src, trg)


@pytest.mark.unit
def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="nothere.de: file not found"):
        read_lines(tmp_path / "nothere.de")


@pytest.mark.unit
def test_crlf_and_missing_final_newline_are_read(tmp_path: Path) -> None:
    path = write(tmp_path / "x.de", b"eins .\r\nzwei .")
    assert read_lines(path) == ["eins .", "zwei ."]


def reading_error(path: Path, content: bytes, **limits: int) -> str:
    write(path, content)
    with pytest.raises(CorpusError) as err:
        read_lines(path, **limits)
    return str(err.value)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("content", "message"),
    [
        # a zero-width or otherwise invisible line is empty to the eye, though not to str.strip()
        ("eins .\n\u200b\n".encode(), ":2: line has only invisible characters (U+200B)"),
        ("\u200c\u200d\n".encode(), ":1: line has only invisible characters (U+200C U+200D)"),
        ("eins .\n \u2060 \u00ad\n".encode(), ":2: line has only invisible characters (U+2060 U+00AD)"),
        ("eins .\n\u3164\u00a0\u3164\n".encode(), ":2: line has only invisible characters (U+3164 U+00A0)"),
        (b"eins .\n\x07\n", ":2: control character U+0007 (BEL) at column 1"),
        # a byte-order mark is allowed (and stripped) only at the very start of the file
        ("eins .\n\ufeffzwei .\n".encode(),
         ":2: byte-order mark (U+FEFF) at column 1; one is allowed only at the start of the file"),
        ("eins\ufeff .\n".encode(),
         ":1: byte-order mark (U+FEFF) at column 5; one is allowed only at the start of the file"),
        ("\ufeff\ufeffeins .\n".encode(),
         ":1: byte-order mark (U+FEFF) at column 1; one is allowed only at the start of the file"),
        # the column counts characters, not bytes: äöü are two bytes each
        ("äöü ".encode() + b"\xff .\n", ":1: not UTF-8 (byte 0xff at column 5)"),
        (b"eins .\ndie katze schl\xe4ft .\n", ":2: not UTF-8 (byte 0xe4 at column 15)"),
        (b"\xff\xfe" + "eins .\n".encode("utf-16-le"), ":1: UTF-16 text (byte-order mark 0xff 0xfe), not UTF-8"),
        (b"eins .\rzwei .\r", ":1: carriage return (U+000D) inside the line, at column 7 (old Mac line ends?)"),
        # one huge token: under the token limit, over the character limit
        (b"eins .\n" + b"x" * 300_000 + b"\n",
         ":2: line has 300000 characters, over the limit of 10000 (corpus.max_line_chars)"),
        (b"eins .\n" + b"a " * 20 + b"\n", ":2: line has 20 tokens, over the limit of 10 (corpus.max_line_len)"),
    ],
)
def test_invisible_bom_column_and_length_errors_name_file_and_line(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "x.de"
    assert reading_error(path, content, max_tokens=10, max_chars=10_000) == f"{path}{message}"


@pytest.mark.unit
def test_visible_text_with_a_stray_invisible_character_passes(tmp_path: Path) -> None:
    lines = ["ein\u200b kleiner hund .", "die\u00adkatze \u2060schläft .", "a\tb ."]
    assert read_lines(write(tmp_path / "x.de", lines), max_chars=100) == lines


@pytest.mark.unit
@pytest.mark.parametrize(
    ("content", "message"),
    [
        # a NUL inside a line: sacremoses would delete it, joining `ein` and `satz`
        (b"ein\x00satz .\n", ":1: control character U+0000 (NUL) at column 4 (binary data?)"),
        # a terminal colour code from a scraped page: sacremoses would delete the ESC and keep `[31m`
        (b"eins .\nder \x1b[31mrote\x1b[0m hund .\n",
         ":2: control character U+001B (ESC) at column 5 (a terminal colour code?)"),
        # the column counts characters (ä and ö are two bytes each)
        ("äöü \x07 .\n".encode(), ":1: control character U+0007 (BEL) at column 5"),
        (b"a\x0cb .\n", ":1: control character U+000C (FF) at column 2"),
        (b"a b\x1f .\n", ":1: control character U+001F (US) at column 4"),
        (b"a\x7f .\n", ":1: control character U+007F (DEL) at column 2"),
        # C1: Windows-1252 quotes decoded as Latin-1 (0x93, 0x94) and saved as UTF-8
        ("er sagt \u0093ja\u0094 .\n".encode(),
         ":1: control character U+0093 (STS) at column 9 (Windows-1252 text decoded as Latin-1?)"),
        ("a\u0085b .\n".encode(), ":1: control character U+0085 (NEL) at column 2 (Windows-1252 text decoded as"
                                  " Latin-1?)"),
        ("a\u009fb .\n".encode(), ":1: control character U+009F (APC) at column 2 (Windows-1252 text decoded as"
                                  " Latin-1?)"),
        # the carriage return keeps its own message, even before another control character
        (b"ein\x00s\ratz .\n", ":1: carriage return (U+000D) inside the line, at column 6 (old Mac line ends?)"),
    ],
)
def test_control_characters_inside_a_line_are_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "x.de"
    assert reading_error(path, content) == f"{path}{message}"


@pytest.mark.unit
def test_every_c0_and_c1_control_character_but_tab_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.de"
    refused = {}
    for code in [*range(0x20), 0x7F, *range(0x80, 0xA0)]:
        if chr(code) in "\t\n\r":
            continue
        write(path, f"a{chr(code)}b .\n".encode())
        with pytest.raises(CorpusError) as err:
            read_lines(path)
        refused[code] = str(err.value).removeprefix(f"{path}:1: control character ")
    assert len(refused) == 32 - 3 + 1 + 32
    assert refused[0x01] == "U+0001 (SOH) at column 2"
    assert refused[0x1A] == "U+001A (SUB) at column 2"
    assert refused[0x80] == "U+0080 (PAD) at column 2 (Windows-1252 text decoded as Latin-1?)"
    assert all(message.startswith(f"U+{code:04X} (") for code, message in refused.items())
    assert read_lines(write(path, b"a\tb .\n")) == ["a\tb ."]


@pytest.mark.unit
def test_the_tokenizer_and_the_normaliser_would_change_control_characters_silently() -> None:
    # why they are refused: sacremoses deletes every C0 control character (its ASCII_JUNK step), str.split()
    # takes U+001C-U+001F and U+0085 for white space
    assert tokenize(["ein\x00satz ."], "de", lowercase=False) == ["einsatz ."]
    assert tokenize(["der \x1b[31mrote hund ."], "de", lowercase=False) == ["der [ 31mrote hund ."]
    assert normalize(["ein\x1fsatz\x85 ."], lowercase=False) == ["ein satz ."]


@pytest.mark.unit
def test_prepare_refuses_a_nul_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write(tmp_path / "in.de", b"ein hund .\nein\x00satz .\n")
    trg = write(tmp_path / "in.en", b"a dog .\nan effort .\n")
    assert prepare_main(["--src-in", str(src), "--trg-in", str(trg), "--src-out", str(tmp_path / "out.de"),
                         "--trg-out", str(tmp_path / "out.en"), "--src-lang", "de", "--trg-lang", "en", "--tokenize",
                         "--report", str(tmp_path / "r.json"), "--max-line-len", "10", "--max-line-chars", "100"]) == 1
    assert capsys.readouterr().err == f"ERROR: {src}:2: control character U+0000 (NUL) at column 4 (binary data?)\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.de", "in.en"]


@pytest.mark.unit
def test_leading_bom_is_stripped_and_crlf_counted(tmp_path: Path) -> None:
    path = write(tmp_path / "x.de", "\ufeffeins .\r\nzwei .\r\ndrei .\n".encode())
    text = read_text(path)
    assert (text.lines, text.bom, text.crlf) == (["eins .", "zwei .", "drei ."], True, 2)
    plain = read_text(write(tmp_path / "y.de", ["eins ."]))
    assert (plain.bom, plain.crlf) == (False, 0)
    assert reading_error(tmp_path / "z.de", "\ufeff\n".encode()) == f"{tmp_path / 'z.de'}: file is empty"


@pytest.mark.unit
def test_prepare_report_counts_bom_and_crlf(tmp_path: Path) -> None:
    src = write(tmp_path / "in.de", "\ufeffein hund .\r\ndie katze .\r\n".encode())
    trg = write(tmp_path / "in.en", b"a dog .\nthe cat .\r\n")
    report = tmp_path / "report.json"
    assert prepare_main(["--src-in", str(src), "--trg-in", str(trg), "--src-out", str(tmp_path / "out.de"),
                         "--trg-out", str(tmp_path / "out.en"), "--src-lang", "de", "--trg-lang", "en",
                         "--report", str(report), "--max-line-len", "10", "--max-line-chars", "100"]) == 0
    assert (tmp_path / "out.de").read_bytes() == b"ein hund .\ndie katze .\n"
    assert (tmp_path / "out.en").read_bytes() == b"a dog .\nthe cat .\n"
    result = json.loads(report.read_text())
    assert (result["bom_stripped"], result["crlf_lines"]) == ([True, False], [2, 1])


@pytest.mark.unit
def test_prepare_takes_the_character_limit_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    src = write(tmp_path / "in.de", ["ein sehr langer hund ."])
    trg = write(tmp_path / "in.en", ["a dog ."])
    argv = ["--src-in", str(src), "--trg-in", str(trg), "--src-out", str(tmp_path / "o.de"), "--trg-out",
            str(tmp_path / "o.en"), "--src-lang", "de", "--trg-lang", "en", "--report", str(tmp_path / "r.json"),
            "--max-line-len", "10"]
    monkeypatch.setenv("SLKD_MAX_LINE_CHARS", "10")
    assert prepare_main(argv) == 1
    assert capsys.readouterr().err == (
        f"ERROR: {src}:1: line has 22 characters, over the limit of 10 (corpus.max_line_chars)\n"
    )
    monkeypatch.delenv("SLKD_MAX_LINE_CHARS")
    with pytest.raises(SystemExit):
        prepare_main(argv)
    assert capsys.readouterr().err.endswith("error: give --max-line-chars or set $SLKD_MAX_LINE_CHARS\n")


@pytest.mark.unit
def test_a_directory_or_a_broken_link_is_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "x.de").mkdir()
    with pytest.raises(CorpusError) as err:
        read_lines(tmp_path / "x.de")
    assert str(err.value) == f"{tmp_path / 'x.de'}: is a directory, not a file"
    (tmp_path / "y.de").symlink_to(tmp_path / "gone.de")
    with pytest.raises(CorpusError) as err:
        read_lines(tmp_path / "y.de")
    assert str(err.value) == f"{tmp_path / 'y.de'}: file not found (a symbolic link to {tmp_path / 'gone.de'},"\
        " which does not exist)"


@pytest.mark.unit
@pytest.mark.parametrize("mode", [0o200, 0o000, 0o044])
def test_unreadable_file_is_refused_by_its_mode_even_for_root(tmp_path: Path, mode: int) -> None:
    # 0o044: the group and others may read, the owner (this process, root included) may not
    path = write(tmp_path / "x.de", GOOD_DE)
    path.chmod(mode)
    for check in (check_file, read_lines):
        with pytest.raises(CorpusError) as err:
            check(path)
        assert str(err.value) == f"{path}: not readable (mode 0o{mode:03o})"
    path.chmod(0o400)
    assert read_lines(path) == GOOD_DE


@pytest.mark.unit
def test_tokenize_and_clean() -> None:
    assert tokenize(["Er sagt: \"Nein!\""], "de", lowercase=False) == ['Er sagt : " Nein ! "']
    assert tokenize(["It's Tom's."], "en", lowercase=True) == ["it 's tom 's ."]
    src, trg, dropped = clean(["a b c", "a", "a b"], ["x", "x y z w", "y"], max_len=3)
    assert (src, trg, dropped) == (["a b c", "a b"], ["x", "y"], 1)


# ---- evaluation pairs that occur in the training data ---------------------------------------------------

# train 2 = dev 1, train 5 = dev 3 (the same source as train 2, another target), train 1 and 4 = test 2; dev 2,
# test 1 and test 3 (train 3's source, another target) are not in training
OVERLAP_TRAIN = (["ein hund .", "die katze .", "wir gehen .", "ein hund .", "die katze .", "es regnet ."],
                 ["a dog .", "the cat .", "we go .", "a dog .", "a cat .", "it rains ."])
OVERLAP_EVALS = {"dev": (["die katze .", "ein vogel .", "die katze ."], ["the cat .", "a bird .", "a cat ."]),
                 "test": (["ein fisch .", "ein hund .", "wir gehen ."], ["a fish .", "a dog .", "we walk ."])}
OVERLAP_SUMMARY = {"dev": {"pairs": 2, "of": 3, "first": ["dev:1 = train:2", "dev:3 = train:5"]},
                   "test": {"pairs": 1, "of": 3, "first": ["test:2 = train:1"]}}


@pytest.mark.unit
def test_eval_overlap_finds_pairs_not_sources_and_names_the_first_training_line() -> None:
    found = eval_overlap(OVERLAP_TRAIN, OVERLAP_EVALS)
    assert found == {"dev": [(1, 2), (3, 5)], "test": [(2, 1)]}
    assert overlap_summary(found, {"dev": 3, "test": 3}) == OVERLAP_SUMMARY
    assert eval_overlap(OVERLAP_TRAIN, {"dev": (["ein vogel ."], ["a bird ."])}) == {"dev": []}
    # a pair repeated in an evaluation split is found at each of its lines; a report names the first five
    many = eval_overlap(OVERLAP_TRAIN, {"test": (["ein hund ."] * 7, ["a dog ."] * 7)})
    assert many == {"test": [(line, 1) for line in range(1, 8)]}
    assert overlap_summary(many, {"test": 7}) == {
        "test": {"pairs": 7, "of": 7, "first": [f"test:{line} = train:1" for line in range(1, 6)]}}


@pytest.mark.unit
def test_without_pairs_drops_every_copy_and_keeps_the_sides_aligned() -> None:
    pairs = {pair for sides in OVERLAP_EVALS.values() for pair in zip(*sides, strict=True)}
    assert without_pairs(*OVERLAP_TRAIN, pairs) == (["wir gehen .", "es regnet ."], ["we go .", "it rains ."],
                                                    [1, 2, 4, 5])
    assert without_pairs(*OVERLAP_TRAIN, set()) == (*OVERLAP_TRAIN, [])


@pytest.mark.unit
def test_the_gates_console_lines_on_evaluation_pairs_in_training() -> None:
    kept = {"found": OVERLAP_SUMMARY, "dropped": False, "dropped_train_pairs": 0}
    assert overlap_lines(kept, "out/data/text/base") == [
        "WARNING: 3 evaluation pairs were found in the training data: dev 2 of 3, test 1 of 3 (dev:1 = train:2,"
        " dev:3 = train:5, test:2 = train:1; lines of out/data/text/base)",
        "WARNING: they stay in the training data; corpus.drop_eval_overlap: true drops them",
    ]
    dropped = {"found": {"dev": {"pairs": 4, "of": 9, "first": ["dev:1 = train:2", "dev:2 = train:7",
                                                                "dev:3 = train:1", "dev:9 = train:3"]},
                         "test": {"pairs": 0, "of": 5, "first": []}},
               "dropped": True, "dropped_train_pairs": 6}
    assert overlap_lines(dropped, "data/text/base") == [
        "4 evaluation pairs were found in the training data: dev 4 of 9 (dev:1 = train:2, dev:2 = train:7,"
        " dev:3 = train:1, ...; lines of data/text/base; train's before the drop)",
        "they were dropped from the training data: 6 training pairs (corpus.drop_eval_overlap: true)",
    ]
    none = {"found": {"dev": {"pairs": 0, "of": 3, "first": []}}, "dropped": False, "dropped_train_pairs": 0}
    assert overlap_lines(none, "data/text/base") == []


@pytest.mark.unit
def test_the_gate_counts_and_names_evaluation_pairs_in_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--output", str(tmp_path / "checked.json")]
    for split, (src, trg) in {"train": OVERLAP_TRAIN, **OVERLAP_EVALS}.items():
        write(tmp_path / f"{split}.de", src)
        write(tmp_path / f"{split}.en", trg)
        (tmp_path / f"{split}.report.json").write_text(json.dumps({"kept": len(src)}))
        argv += ["--text", split, str(tmp_path / f"{split}.de"), str(tmp_path / f"{split}.en")]
    assert gate_main([*argv, *(str(tmp_path / f"{s}.report.json") for s in ("train", "dev", "test"))]) == 0
    assert capsys.readouterr().err == (
        "checked: train 6 pairs, dev 3 pairs, test 3 pairs\n"
        "WARNING: 3 evaluation pairs were found in the training data: dev 2 of 3, test 1 of 3 (dev:1 = train:2,"
        f" dev:3 = train:5, test:2 = train:1; lines of {tmp_path})\n"
        "WARNING: they stay in the training data; corpus.drop_eval_overlap: true drops them\n"
    )
    checked = json.loads((tmp_path / "checked.json").read_text())
    assert checked["eval_overlap"] == {"found": OVERLAP_SUMMARY, "dropped": False, "dropped_train_pairs": 0}
    assert checked["splits"] == {"train": {"kept": 6}, "dev": {"kept": 3}, "test": {"kept": 3}}


@pytest.mark.unit
def test_prepare_drops_evaluation_pairs_after_cleaning_and_reports_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a long first pair is cleaned (max_len 4) before the drop: the lines named are those of the cleaned text
    src = write(tmp_path / "in.de", ["ein sehr langer satz hier .", *OVERLAP_TRAIN[0]])
    trg = write(tmp_path / "in.en", ["a b .", *OVERLAP_TRAIN[1]])
    argv = ["--src-in", str(src), "--trg-in", str(trg), "--src-out", str(tmp_path / "out.de"), "--trg-out",
            str(tmp_path / "out.en"), "--src-lang", "de", "--trg-lang", "en", "--report", str(tmp_path / "r.json"),
            "--max-len", "4", "--max-line-len", "10", "--max-line-chars", "100"]
    for split, (eval_src, eval_trg) in OVERLAP_EVALS.items():
        argv += ["--drop-eval", split, str(write(tmp_path / f"{split}.de", eval_src)),
                 str(write(tmp_path / f"{split}.en", eval_trg))]
    assert prepare_main(argv) == 0
    assert (tmp_path / "out.de").read_text() == "wir gehen .\nes regnet .\n"
    assert (tmp_path / "out.en").read_text() == "we go .\nit rains .\n"
    report = json.loads((tmp_path / "r.json").read_text())
    assert {key: report[key] for key in ("pairs", "kept", "dropped_too_long", "dropped_eval_overlap")} == {
        "pairs": 7, "kept": 2, "dropped_too_long": 1, "dropped_eval_overlap": 4}
    assert report["eval_overlap"] == OVERLAP_SUMMARY
    # every pair an evaluation pair: nothing is left to train on
    argv[argv.index("--src-in") + 1] = str(write(tmp_path / "all.de", ["ein hund ."]))
    argv[argv.index("--trg-in") + 1] = str(write(tmp_path / "all.en", ["a dog ."]))
    capsys.readouterr()
    assert prepare_main(argv) == 1
    assert capsys.readouterr().err == (f"ERROR: {tmp_path / 'all.de'}: no pair is left after cleaning (max_len 4) and"
                                       " dropping the evaluation pairs (corpus.drop_eval_overlap)\n")


# ---- through the workflow: a local corpus with one defect at a time ------------------------------------


def local_config(root: Path) -> dict:
    for split in ("train", "dev", "test"):
        write(root / f"corpus/{split}.de", GOOD_DE)
        write(root / f"corpus/{split}.en", GOOD_EN)
    return {
        "corpus": {
            "source": "local",
            "tokenize": False,
            "max_line_len": 10,
            "local": {s: {"src": f"corpus/{s}.de", "trg": f"corpus/{s}.en"} for s in ("train", "dev", "test")},
        },
        "grid": {"num-words": [20]},
        "architectures": {"LARGE": {"num-words": 30}, "SMALL": {"num-words": 10}},
    }


@pytest.mark.workflow
@pytest.mark.parametrize(
    ("defect", "content", "message"),
    [
        ("dev.en", GOOD_EN[:2], "corpus/dev.de has 3 lines but corpus/dev.en has 2"),
        ("test.de", b"", "corpus/test.de: file is empty"),
        ("train.en", b"a small dog .\n\nwe go home .\n", "corpus/train.en:2: empty line"),
        ("train.de", b"ein kleiner hund .\ndie katze schl\xe4ft .\nwir .\n", "corpus/train.de:2: not UTF-8"),
        ("dev.de", b"ein .\nzwei .\n" + b"w " * 11 + b"\n", "corpus/dev.de:3: line has 11 tokens"),
        ("train.de", b"ein kleiner hund .\nein\x00satz .\nwir .\n",
         "ERROR: corpus/train.de:2: control character U+0000 (NUL) at column 4 (binary data?)\n"),
    ],
)
def test_bad_input_stops_before_training_naming_file_and_line(
    tmp_path: Path, defect: str, content: list[str] | bytes, message: str
) -> None:
    config = local_config(tmp_path)
    # A first, good run produces everything; then one file goes bad: the run stops naming it, and what was
    # already produced from the good files stays.
    run_workflow(tmp_path, "bpe", config=config)
    kept = tmp_path / "data/bpe/30/base/train.de"
    assert kept.is_file()
    write(tmp_path / "corpus" / defect, content)
    proc = run_workflow(tmp_path, "bpe", config=config, check=False)
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr
    assert kept.is_file() or defect.startswith("train")


@pytest.mark.workflow
@pytest.mark.parametrize(
    ("defect", "content", "message"),
    [
        ("train.en", "a small dog .\n\u200b\u200d\nwe go home .\n".encode(),
         "corpus/train.en:2: line has only invisible characters (U+200B U+200D)"),
        ("dev.de", "ein .\nzwei .\ndrei \ufeff.\n".encode(),
         "corpus/dev.de:3: byte-order mark (U+FEFF) at column 6; one is allowed only at the start of the file"),
        # corpus.max_line_chars as config.yaml sets it (10000), one token
        ("test.en", b"a .\n" + b"y" * 12_000 + b"\nc .\n",
         "corpus/test.en:2: line has 12000 characters, over the limit of 10000 (corpus.max_line_chars)"),
        ("dev.en", b"a .\nthe \x1b[31mred\x1b[0m cat .\nc .\n",
         "corpus/dev.en:2: control character U+001B (ESC) at column 5 (a terminal colour code?)"),
    ],
)
def test_invisible_lines_inner_boms_and_long_tokens_stop_the_run(
    tmp_path: Path, defect: str, content: bytes, message: str
) -> None:
    config = local_config(tmp_path)
    write(tmp_path / "corpus" / defect, content)
    proc = run_workflow(tmp_path, "corpus", config=config, check=False)
    assert proc.returncode != 0
    assert f"ERROR: {message}\n" in proc.stdout + proc.stderr
    assert not (tmp_path / "data/text/base" / defect).exists()


@pytest.mark.workflow
def test_bom_and_crlf_are_normalised_and_reported_and_the_character_limit_reruns_nothing(tmp_path: Path) -> None:
    config = local_config(tmp_path)
    write(tmp_path / "corpus/train.de", ("\ufeff" + "\n".join(GOOD_DE) + "\n").encode())
    write(tmp_path / "corpus/train.en", ("\r\n".join(GOOD_EN) + "\r\n").encode())
    run_workflow(tmp_path, "corpus", config=config)
    text = tmp_path / "data/text/base"
    assert (text / "train.de").read_bytes() == ("\n".join(GOOD_DE) + "\n").encode()
    assert (text / "train.en").read_bytes() == ("\n".join(GOOD_EN) + "\n").encode()
    report = json.loads((text / "train.report.json").read_text())
    assert (report["bom_stripped"], report["crlf_lines"]) == ([True, False], [0, 3])
    dev = json.loads((text / "dev.report.json").read_text())
    assert (dev["bom_stripped"], dev["crlf_lines"]) == ([False, False], [0, 0])
    # corpus.max_line_chars is a check: changing it replans nothing
    config["corpus"]["max_line_chars"] = 50
    proc = run_workflow(tmp_path, "-n", "corpus", config=config)
    assert "Nothing to be done" in proc.stdout + proc.stderr


@pytest.mark.workflow
def test_evaluation_pairs_in_training_are_warned_about_and_dropped_on_request(tmp_path: Path) -> None:
    config = local_config(tmp_path)
    for split, (src, trg) in {"train": OVERLAP_TRAIN, **OVERLAP_EVALS}.items():
        write(tmp_path / f"corpus/{split}.de", src)
        write(tmp_path / f"corpus/{split}.en", trg)
    text = tmp_path / "data/text/base"
    proc = run_workflow(tmp_path, "corpus", "data/text/base/checked.json", config=config)
    output = proc.stdout + proc.stderr
    # the default keeps the data: train's command is that of before the key existed
    assert ("Shell command: python -m prepare_corpus --src-in corpus/train.de --trg-in corpus/train.en --src-out"
            " data/text/base/train.de --trg-out data/text/base/train.en --src-lang de --trg-lang en --report"
            " data/text/base/train.report.json --max-len 100 --max-line-len 10  2> logs/prepare_corpus/train.log\n"
            ) in output
    warning = ("3 evaluation pairs were found in the training data: dev 2 of 3, test 1 of 3 (dev:1 = train:2,"
               " dev:3 = train:5, test:2 = train:1; lines of data/text/base")
    assert (f"\nWARNING: {warning})\nWARNING: they stay in the training data; corpus.drop_eval_overlap: true drops"
            " them\n") in output
    assert (tmp_path / "logs/check_corpus/check_corpus.log").read_text() == (
        f"checked: train 6 pairs, dev 3 pairs, test 3 pairs\nWARNING: {warning})\nWARNING: they stay in the training"
        " data; corpus.drop_eval_overlap: true drops them\n")
    checked = json.loads((text / "checked.json").read_text())
    assert checked["eval_overlap"] == {"found": OVERLAP_SUMMARY, "dropped": False, "dropped_train_pairs": 0}
    assert checked["splits"]["train"]["dropped_eval_overlap"] == 0
    assert (text / "train.de").read_text().splitlines() == OVERLAP_TRAIN[0]
    # with the key, train alone is prepared again (reading the prepared dev and test), then the gate
    config["corpus"]["drop_eval_overlap"] = True
    plan = planned_jobs(run_workflow(tmp_path, "-n", "corpus", "data/text/base/checked.json", config=config))
    assert plan == {"prepare_corpus": 1, "check_corpus": 1, "corpus": 1, "total": 3}
    proc = run_workflow(tmp_path, "corpus", "data/text/base/checked.json", config=config)
    assert (f"\n{warning}; train's before the drop)\nthey were dropped from the training data: 4 training pairs"
            " (corpus.drop_eval_overlap: true)\n") in proc.stdout + proc.stderr
    assert list(zip((text / "train.de").read_text().splitlines(), (text / "train.en").read_text().splitlines(),
                    strict=True)) == [("wir gehen .", "we go ."), ("es regnet .", "it rains .")]
    report = json.loads((text / "train.report.json").read_text())
    assert (report["pairs"], report["kept"], report["dropped_eval_overlap"]) == (6, 2, 4)
    assert json.loads((text / "checked.json").read_text())["eval_overlap"] == {
        "found": OVERLAP_SUMMARY, "dropped": True, "dropped_train_pairs": 4}


@pytest.mark.unit
def test_the_corpus_rules_quote_every_placeholder() -> None:
    # every field of every shell command in rules/corpus.smk carries :q (threads and resources would not need it)
    rules = (REPO / "rules/corpus.smk").read_text()
    commands = [block.split("\n\n")[0] for block in rules.split("    shell:\n")[1:]]
    assert len(commands) == 5
    fields = [(field, spec) for command in commands for literal in re.findall(r'"([^"]*)"', command)
              for _, field, spec, _ in string.Formatter().parse(literal) if field is not None]
    assert len(fields) == 28
    assert [field for command in commands for literal in re.findall(r'"([^"]*)"', command)
            for field in settings.unquoted_fields(literal)] == []
    assert settings.unquoted_fields("--in {input:q} --out {output} -t {threads} -g {resources.gpu}") == ["output"]


@pytest.mark.workflow
@pytest.mark.parametrize("source", ["local", "synthetic", "ted"])
def test_corpus_paths_with_spaces_and_non_ascii_letters(tmp_path: Path, source: str) -> None:
    # the clone's folder, outdir and the local files under folders with spaces and non-ASCII letters; for local,
    # with the evaluation pairs dropped (the train job then names the prepared dev and test texts too)
    root = tmp_path / "my dätä"
    config = local_config(root)
    for split, (src, trg) in {"train": OVERLAP_TRAIN, **OVERLAP_EVALS}.items():
        write(root / f"local files/{split} ä.de", src)
        write(root / f"local files/{split} ä.en", trg)
    config["corpus"]["local"] = {s: {"src": f"local files/{s} ä.de", "trg": f"local files/{s} ä.en"}
                                 for s in ("train", "dev", "test")}
    config["corpus"].update(source=source, drop_eval_overlap=True)
    config["outdir"] = "out dir/ö ü"
    if source == "synthetic":
        config["corpus"].update(synthetic={"train": 60, "dev": 10, "test": 10, "lexicon": 20}, max_line_len=100)
    elif source == "ted":
        config["corpus"]["ted"] = {"url": ted_archive(root / "down load/multitarget ted.tgz").as_uri()}
    run_workflow(root, "corpus", "out dir/ö ü/data/text/base/checked.json", config=config)
    text = root / "out dir/ö ü/data/text/base"
    checked = json.loads((text / "checked.json").read_text())
    assert checked["splits"]["train"]["kept"] == len((text / "train.de").read_text().splitlines())
    assert (root / "out dir/ö ü/logs/check_corpus/check_corpus.log").read_text().startswith("checked: train ")
    if source == "local":
        assert checked["splits"]["train"]["input"] == ["local files/train ä.de", "local files/train ä.en"]
        assert (text / "train.en").read_text() == "we go .\nit rains .\n"
        assert checked["eval_overlap"]["dropped_train_pairs"] == 4
    elif source == "synthetic":
        assert [len((text / f"{split}.en").read_text().splitlines()) for split in ("dev", "test")] == [10, 10]
    else:
        assert (text / "test.en").read_text().splitlines() == [f"{line[:-2]} test ." for line in GOOD_EN]


@pytest.mark.plan
@pytest.mark.parametrize(
    ("defect", "message"),
    [
        ("missing", "corpus.local.test.trg: corpus/test.en: file not found"),
        ("directory", "corpus.local.test.trg: corpus/test.en: is a directory, not a file"),
        ("unreadable", "corpus.local.test.trg: corpus/test.en: not readable (mode 0o200)"),
    ],
)
def test_missing_local_file_is_named_before_any_job(tmp_path: Path, defect: str, message: str) -> None:
    config = local_config(tmp_path)
    path = tmp_path / "corpus/test.en"
    path.unlink()
    if defect == "directory":
        path.mkdir()
    elif defect == "unreadable":
        write(path, GOOD_EN).chmod(0o200)
    proc = run_workflow(tmp_path, "-n", "bpe", config=config, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert f"    {message}\n" in output
    assert "Job stats:" not in output and "PermissionError" not in output


# ---- TED multitarget: a small archive with the real member layout, reached through file:// ---------------


def ted_archive(path: Path, pair: str = "de") -> Path:
    """multitarget-ted/en-XX/{tok,raw}/ted_{split}_en-XX.{tok[.clean],raw}.{lang}, like the real archive."""
    members: dict[str, list[str]] = {}
    for split, theirs in (("train", "train"), ("dev", "dev"), ("test", "test1")):
        for lang, lines in ((pair, GOOD_DE), ("en", GOOD_EN)):
            tagged = [f"{line[:-2]} {split} ." for line in lines]
            clean_ = ".clean" if split == "train" else ""
            members[f"multitarget-ted/en-{pair}/tok/ted_{theirs}_en-{pair}.tok{clean_}.{lang}"] = tagged
            members[f"multitarget-ted/en-{pair}/raw/ted_{theirs}_en-{pair}.raw.{lang}"] = ["RAW " + t for t in tagged]
    members["multitarget-ted/en-fr/tok/ted_train_en-fr.tok.clean.fr"] = ["un chien ."]
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, lines in sorted(members.items()):
            data = ("\n".join(lines) + "\n").encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def downloaded_ted(tmp_path: Path, target: str) -> tuple[Path, str, Path]:
    """A TED archive, its sha256 and a workspace that has built `target` from it (no checksum configured)."""
    archive = ted_archive(tmp_path / "multitarget-ted.tgz")
    run = tmp_path / "run"
    run_workflow(run, target, config=ted_config(archive.as_uri()))
    return archive, hashlib.sha256(archive.read_bytes()).hexdigest(), run


def ted_config(url: str, sha256: str = "") -> dict:
    return {
        "corpus": {"source": "ted", "ted": {"url": url, "sha256": sha256}},
        "grid": {"num-words": [20]},
        "architectures": {"LARGE": {"num-words": 30}, "SMALL": {"num-words": 10}},
    }


@pytest.mark.workflow
def test_ted_download_verify_extract(tmp_path: Path) -> None:
    archive = ted_archive(tmp_path / "src" / "multitarget-ted.tgz")
    sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    run_workflow(tmp_path / "run", "bpe", "stats", config=ted_config(archive.as_uri(), sha))
    text = tmp_path / "run/data/text/base"
    assert (text / "test.de").read_text().splitlines() == [f"{line[:-2]} test ." for line in GOOD_DE]
    assert (text / "train.en").read_text().splitlines()[0] == "a small dog train ."
    report = json.loads((text / "train.report.json").read_text())
    assert report["kept"] == 3 and report["dropped_too_long"] == 0
    assert (tmp_path / "run/data/bpe/30/base/dev.en").read_text().count("\n") == 3
    stats = (tmp_path / "run/results/stats/base.tsv").read_text().splitlines()
    assert stats[0].split("\t") == ["corpus", "lang", "lines", "tokens", "types"]
    assert stats[2].split("\t")[:4] == ["base", "en", "3", str(sum(len(x.split()) + 1 for x in GOOD_EN))]


@pytest.mark.workflow
def test_ted_checksum_mismatch(tmp_path: Path) -> None:
    archive = ted_archive(tmp_path / "multitarget-ted.tgz")
    sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    proc = run_workflow(tmp_path / "run", "corpus", config=ted_config(archive.as_uri(), "0" * 64), check=False)
    assert proc.returncode != 0
    assert (
        f"ERROR: {archive.as_uri()}: checksum mismatch: sha256 is {sha}, corpus.ted.sha256 expects {'0' * 64};"
        " the file is kept as data/download/multitarget-ted.tgz.sha256-mismatch (the next run downloads the"
        " archive again)\n"
    ) in proc.stdout + proc.stderr
    download = tmp_path / "run/data/download"
    assert sorted(p.name for p in download.iterdir()) == ["multitarget-ted.tgz.sha256-mismatch"]
    assert (download / "multitarget-ted.tgz.sha256-mismatch").read_bytes() == archive.read_bytes()


@pytest.mark.workflow
def test_ted_sum_added_after_the_download_reruns_nothing(tmp_path: Path) -> None:
    archive, sha, run = downloaded_ted(tmp_path, "corpus")
    proc = run_workflow(run, "-n", "bpe", config=ted_config(archive.as_uri(), sha.upper()))
    assert set(planned_jobs(proc)) == {"apply_bpe", "learn_bpe", "bpe", "total"}
    # the run checks the archive before its first job, once: the sum is cached with the archive's size and mtime
    run_workflow(run, "bpe", config=ted_config(archive.as_uri(), sha))
    local = run / "data/download/multitarget-ted.tgz"
    stat = local.stat()
    assert json.loads(ted.cache_path(local).read_text()) == {
        "sha256": sha, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


@pytest.mark.workflow
def test_ted_wrong_sum_for_an_existing_archive_keeps_it_aside(tmp_path: Path) -> None:
    archive, sha, run = downloaded_ted(tmp_path, "data/download/multitarget-ted.tgz")
    proc = run_workflow(run, "corpus", config=ted_config(archive.as_uri(), "a" * 64), check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert (
        f"\ndata/download/multitarget-ted.tgz: checksum mismatch: sha256 is {sha},"
        f" corpus.ted.sha256 expects {'a' * 64}; the file is kept as"
        " data/download/multitarget-ted.tgz.sha256-mismatch (the next run downloads the archive again)\n"
    ) in output
    assert "rule extract_ted:" not in output and not (run / "data/raw").exists()  # stopped before any job
    download = run / "data/download"
    assert sorted(p.name for p in download.iterdir()) == ["multitarget-ted.tgz.sha256-mismatch"]
    assert (download / "multitarget-ted.tgz.sha256-mismatch").read_bytes() == archive.read_bytes()
    # the next run downloads the archive again (with the right sum, this time), and keeps the mismatched file
    run_workflow(run, "corpus", config=ted_config(archive.as_uri(), sha))
    assert sorted(p.name for p in download.iterdir()) == [
        "multitarget-ted.tgz", "multitarget-ted.tgz.sha256-mismatch", "multitarget-ted.tgz.verified.json"]
    assert (run / "data/text/base/dev.en").is_file()


@pytest.mark.unit
def test_verify_archive_hashes_once_and_never_deletes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = ted_archive(tmp_path / "a.tgz")
    sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    calls: list[Path] = []
    real = ted.sha256sum
    monkeypatch.setattr(ted, "sha256sum", lambda path: calls.append(Path(path)) or real(path))
    assert ted.verify_archive(archive, "") is False
    assert ted.verify_archive(archive, sha) is True
    assert ted.verify_archive(archive, sha.upper()) is False  # cached
    os.utime(archive, ns=(0, 0))  # touched: hashed again
    assert ted.verify_archive(archive, sha) is True
    assert calls == [archive, archive]
    for kept in ("a.tgz.sha256-mismatch", "a.tgz.sha256-mismatch.1"):
        ted_archive(archive)
        with pytest.raises(ted.FetchError) as err:
            ted.verify_archive(archive, "b" * 64)
        assert str(err.value).endswith(f"expects {'b' * 64}; the file is kept as {tmp_path / kept}"
                                       " (the next run downloads the archive again)")
        assert not archive.exists() and not ted.cache_path(archive).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tgz.sha256-mismatch", "a.tgz.sha256-mismatch.1"]
    with pytest.raises(ted.FetchError) as err:
        ted.verify_archive(archive, sha)
    assert str(err.value) == f"{archive}: no such archive to verify"


@pytest.mark.workflow
def test_ted_unreachable_url(tmp_path: Path) -> None:
    url = (tmp_path / "no-such-archive.tgz").as_uri()
    proc = run_workflow(tmp_path / "run", "corpus", config=ted_config(url), check=False)
    assert proc.returncode != 0
    assert f"cannot download {url}" in proc.stdout + proc.stderr


@pytest.mark.workflow
def test_ted_other_pair_and_raw_text_is_tokenized(tmp_path: Path) -> None:
    archive = ted_archive(tmp_path / "multitarget-ted.tgz", pair="fr")
    config = ted_config(archive.as_uri())
    config["corpus"].update({"src": "fr", "tokenize": True})
    run_workflow(tmp_path / "run", "corpus", config=config)
    first = (tmp_path / "run/data/text/base/dev.fr").read_text().splitlines()[0]
    assert first == "RAW ein kleiner hund dev ."


@pytest.mark.unit
def test_ted_cli_takes_the_sum_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = ted_archive(tmp_path / "src.tgz")
    sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    out = tmp_path / "dl/multitarget-ted.tgz"
    monkeypatch.setenv("SLKD_TED_SHA256", "c" * 64)
    assert ted.main(["download", "--url", archive.as_uri(), "--out", str(out)]) == 1
    assert capsys.readouterr().err == (
        f"ERROR: {archive.as_uri()}: checksum mismatch: sha256 is {sha}, corpus.ted.sha256 expects {'c' * 64};"
        f" the file is kept as {out}.sha256-mismatch (the next run downloads the archive again)\n"
    )
    monkeypatch.setenv("SLKD_TED_SHA256", sha)
    assert ted.main(["download", "--url", archive.as_uri(), "--out", str(out)]) == 0
    assert json.loads(ted.cache_path(out).read_text())["sha256"] == sha
    assert ted.main(["verify", "--archive", str(out)]) == 0
    assert ted.main(["verify", "--archive", str(out), "--sha256", "d" * 64]) == 1
    assert f"the file is kept as {out}.sha256-mismatch.1 " in capsys.readouterr().err
