"""Corpora: strict checks that name the file and line, tokenization and cleaning, TED download and extraction."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from conftest import run_workflow
from corpus_check import CorpusError, read_lines, read_parallel
from prepare_corpus import clean, tokenize

GOOD_DE = ["ein kleiner hund .", "die katze schläft .", "wir gehen nach hause ."]
GOOD_EN = ["a small dog .", "the cat sleeps .", "we go home ."]


def write(path: Path, lines: list[str] | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(lines if isinstance(lines, bytes) else ("\n".join(lines) + "\n").encode())
    return path


# ---- unit: the checks themselves ------------------------------------------------------------------------


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


def test_read_parallel_rejects_mismatched_counts(tmp_path: Path) -> None:
    src = write(tmp_path / "a.de", GOOD_DE)
    trg = write(tmp_path / "a.en", GOOD_EN[:2])
    with pytest.raises(CorpusError, match=r"a\.de has 3 lines but .*a\.en has 2"):
        read_parallel(src, trg)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="nothere.de: file not found"):
        read_lines(tmp_path / "nothere.de")


def test_crlf_and_missing_final_newline_are_read(tmp_path: Path) -> None:
    path = write(tmp_path / "x.de", b"eins .\r\nzwei .")
    assert read_lines(path) == ["eins .", "zwei ."]


def test_tokenize_and_clean() -> None:
    assert tokenize(["Er sagt: \"Nein!\""], "de", lowercase=False) == ['Er sagt : " Nein ! "']
    assert tokenize(["It's Tom's."], "en", lowercase=True) == ["it 's tom 's ."]
    src, trg, dropped = clean(["a b c", "a", "a b"], ["x", "x y z w", "y"], max_len=3)
    assert (src, trg, dropped) == (["a b c", "a b"], ["x", "y"], 1)


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


@pytest.mark.parametrize(
    ("defect", "content", "message"),
    [
        ("dev.en", GOOD_EN[:2], "corpus/dev.de has 3 lines but corpus/dev.en has 2"),
        ("test.de", b"", "corpus/test.de: file is empty"),
        ("train.en", b"a small dog .\n\nwe go home .\n", "corpus/train.en:2: empty line"),
        ("train.de", b"ein kleiner hund .\ndie katze schl\xe4ft .\nwir .\n", "corpus/train.de:2: not UTF-8"),
        ("dev.de", b"ein .\nzwei .\n" + b"w " * 11 + b"\n", "corpus/dev.de:3: line has 11 tokens"),
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


def test_missing_local_file_is_named_before_any_job(tmp_path: Path) -> None:
    config = local_config(tmp_path)
    (tmp_path / "corpus/test.en").unlink()
    proc = run_workflow(tmp_path, "-n", "bpe", config=config, check=False)
    assert proc.returncode != 0
    assert "corpus/test.en" in proc.stdout + proc.stderr


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


def ted_config(url: str, sha256: str = "") -> dict:
    return {
        "corpus": {"source": "ted", "ted": {"url": url, "sha256": sha256}},
        "grid": {"num-words": [20]},
        "architectures": {"LARGE": {"num-words": 30}, "SMALL": {"num-words": 10}},
    }


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


def test_ted_checksum_mismatch(tmp_path: Path) -> None:
    archive = ted_archive(tmp_path / "multitarget-ted.tgz")
    proc = run_workflow(tmp_path / "run", "corpus", config=ted_config(archive.as_uri(), "0" * 64), check=False)
    assert proc.returncode != 0
    assert "checksum mismatch" in proc.stdout + proc.stderr
    assert not (tmp_path / "run/data/download/multitarget-ted.tgz").exists()


def test_ted_unreachable_url(tmp_path: Path) -> None:
    url = (tmp_path / "no-such-archive.tgz").as_uri()
    proc = run_workflow(tmp_path / "run", "corpus", config=ted_config(url), check=False)
    assert proc.returncode != 0
    assert f"cannot download {url}" in proc.stdout + proc.stderr


def test_ted_other_pair_and_raw_text_is_tokenized(tmp_path: Path) -> None:
    archive = ted_archive(tmp_path / "multitarget-ted.tgz", pair="fr")
    config = ted_config(archive.as_uri())
    config["corpus"].update({"src": "fr", "tokenize": True})
    run_workflow(tmp_path / "run", "corpus", config=config)
    first = (tmp_path / "run/data/text/base/dev.fr").read_text().splitlines()[0]
    assert first == "RAW ein kleiner hund dev ."
