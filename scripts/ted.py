"""The TED multitarget corpus (Duh, 2018), the paper's data: download once, verify, extract one pair.

The archive (`multitarget-ted.tgz`) holds one folder per English pair, `en-XX/`, with `raw/` and `tok/` text:
`tok/ted_train_en-de.tok.clean.de`, `tok/ted_dev_en-de.tok.de`, `tok/ted_test1_en-de.tok.de`, and likewise
`raw/ted_train_en-de.raw.de`. Members are found by name wherever the archive nests them.

    python ted.py download --url URL [--sha256 HEX] --out FILE
    python ted.py verify --archive FILE [--sha256 HEX]
    python ted.py extract --archive FILE --src de --trg en --kind tok --split train=train ... --outdir DIR

The checksum (corpus.ted.sha256) is a check on the archive, not an input of the download: the workflow passes
it as $SLKD_TED_SHA256 (rules/common.smk), so neither the command nor the parameters that Snakemake records
hold it, and adding or changing it reruns nothing. A fresh download is checked before it takes the archive's
name; an archive that exists already is checked against the configured sum before any job of a run
(common.smk's `onstart`; not in dry runs, nor when there is nothing to do, since then nothing reads it). The
last sum that matched is cached beside the archive (`<archive>.verified.json`: sha256, size, mtime), so an
unchanged archive is hashed once, not at every run. A file that does not match is never deleted: it is
renamed to `<archive>.sha256-mismatch` (`.1`, `.2`, ... when that exists), and the message names both sums
and that file; the next run downloads the archive again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import sys
import tarfile
import urllib.error
import urllib.request
from pathlib import Path


class FetchError(RuntimeError):
    """A download or extraction problem; the message names the URL or file."""


def sha256sum(path: str | Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


SHA256_VAR = "SLKD_TED_SHA256"  # corpus.ted.sha256, set by rules/common.smk


def cache_path(archive: str | Path) -> Path:
    """Where the last matching sum of an archive is kept, with the size and mtime it had then."""
    archive = Path(archive)
    return archive.with_name(archive.name + ".verified.json")


def _stamp(path: Path, sha256: str) -> dict[str, object]:
    st = path.stat()
    return {"sha256": sha256.lower(), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _remember(archive: Path, sha256: str) -> None:
    """Cache that `sha256` matched the archive at its current size and mtime."""
    cache_path(archive).write_text(json.dumps(_stamp(archive, sha256)) + "\n", encoding="utf-8")


def keep_aside(path: Path, archive: Path) -> Path:
    """Rename path to `<archive>.sha256-mismatch` (or `.1`, `.2`, ... after it): never overwrite, never delete."""
    target = archive.with_name(archive.name + ".sha256-mismatch")
    number = 0
    while target.exists():
        number += 1
        target = archive.with_name(f"{archive.name}.sha256-mismatch.{number}")
    path.replace(target)
    return target


def _check(path: Path, archive: Path, sha256: str, what: str) -> None:
    """FetchError naming both sums and where the file was kept, when path's sha256 is not `sha256`."""
    actual = sha256sum(path)
    if actual != sha256.lower():
        cache_path(archive).unlink(missing_ok=True)
        kept = keep_aside(path, archive)
        raise FetchError(
            f"{what}: checksum mismatch: sha256 is {actual}, corpus.ted.sha256 expects {sha256.lower()};"
            f" the file is kept as {kept} (the next run downloads the archive again)"
        )


def verify_archive(archive: str | Path, sha256: str) -> bool:
    """Check an existing archive against sha256, unless the cache says that this sum matched the archive at
    its current size and mtime; True when it was hashed. FetchError (the file kept aside) on a mismatch."""
    archive = Path(archive)
    if not sha256:
        return False
    if not archive.is_file():
        raise FetchError(f"{archive}: no such archive to verify")
    cache = cache_path(archive)
    try:
        if json.loads(cache.read_text(encoding="utf-8")) == _stamp(archive, sha256):
            return False
    except (OSError, ValueError):
        pass
    _check(archive, archive, sha256, str(archive))
    _remember(archive, sha256)
    return True


def download(url: str, out: str | Path, sha256: str = "", timeout: float = 60.0) -> None:
    """Download url (http, https or file) to out atomically; FetchError if unreachable or the checksum differs
    (the download is then kept as `<out>.sha256-mismatch`)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(partial, "wb") as handle:
            shutil.copyfileobj(response, handle, 1 << 20)
    except (urllib.error.URLError, OSError, ValueError) as err:
        partial.unlink(missing_ok=True)
        raise FetchError(f"cannot download {url}: {getattr(err, 'reason', err)}") from None
    cache_path(out).unlink(missing_ok=True)
    if sha256:
        _check(partial, out, sha256, url)
    partial.replace(out)
    if sha256:
        _remember(out, sha256)


def member_pattern(split: str, lang: str, pair_lang: str, kind: str) -> re.Pattern[str]:
    """Name of one file of the archive: `.../en-XX/KIND/ted_SPLIT_en-XX.KIND[.clean].LANG`."""
    pair = f"en-{pair_lang}"
    return re.compile(
        rf"(^|/){re.escape(pair)}/{kind}/ted_{re.escape(split)}_{re.escape(pair)}\.{kind}(\.clean)?\.{lang}$"
    )


def extract(archive: str | Path, src: str, trg: str, kind: str, splits: dict[str, str], outdir: str | Path) -> None:
    """Write outdir/{split}.{lang} for each split (our name → the corpus's name) and both languages."""
    other = trg if src == "en" else src
    wanted = {
        (ours, lang): member_pattern(theirs, lang, other, kind)
        for ours, theirs in splits.items()
        for lang in (src, trg)
    }
    found: dict[tuple[str, str], tarfile.TarInfo] = {}
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                for key, pattern in wanted.items():
                    # prefer the cleaned variant (train) when both exist
                    if pattern.search(member.name) and (key not in found or ".clean." in member.name):
                        found[key] = member
                        handle = tar.extractfile(member)
                        assert handle is not None
                        with open(outdir / f"{key[0]}.{key[1]}", "wb") as out:
                            shutil.copyfileobj(handle, out)
    except (tarfile.TarError, OSError, EOFError) as err:
        raise FetchError(f"{archive}: not a readable tar archive ({err})") from None
    missing = [f"{pattern.pattern}" for key, pattern in wanted.items() if key not in found]
    if missing:
        raise FetchError(f"{archive}: no member matches " + "; ".join(missing))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    get = sub.add_parser("download")
    get.add_argument("--url", required=True)
    get.add_argument("--sha256", default=os.environ.get(SHA256_VAR, ""), help=f"default: ${SHA256_VAR}")
    get.add_argument("--out", required=True)
    ver = sub.add_parser("verify")
    ver.add_argument("--archive", required=True)
    ver.add_argument("--sha256", default=os.environ.get(SHA256_VAR, ""), help=f"default: ${SHA256_VAR}")
    ext = sub.add_parser("extract")
    ext.add_argument("--archive", required=True)
    ext.add_argument("--src", required=True)
    ext.add_argument("--trg", required=True)
    ext.add_argument("--kind", choices=["tok", "raw"], default="tok")
    ext.add_argument("--split", action="append", default=[], metavar="OURS=THEIRS")
    ext.add_argument("--outdir", required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "download":
            download(args.url, args.out, args.sha256)
        elif args.command == "verify":
            verify_archive(args.archive, args.sha256)
        else:
            splits = dict(item.split("=", 1) for item in args.split)
            extract(args.archive, args.src, args.trg, args.kind, splits, args.outdir)
    except FetchError as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
