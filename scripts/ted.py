"""The TED multitarget corpus (Duh, 2018), the paper's data: download once, verify, extract one pair.

The archive (`multitarget-ted.tgz`) holds one folder per English pair, `en-XX/`, with `raw/` and `tok/` text:
`tok/ted_train_en-de.tok.clean.de`, `tok/ted_dev_en-de.tok.de`, `tok/ted_test1_en-de.tok.de`, and likewise
`raw/ted_train_en-de.raw.de`. Members are found by name wherever the archive nests them.

    python ted.py download --url URL [--sha256 HEX] --out FILE
    python ted.py extract --archive FILE --src de --trg en --kind tok --split train=train ... --outdir DIR
"""

from __future__ import annotations

import argparse
import hashlib
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


def download(url: str, out: str | Path, sha256: str = "", timeout: float = 60.0) -> None:
    """Download url (http, https or file) to out atomically; FetchError if unreachable or the checksum differs."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(partial, "wb") as handle:
            shutil.copyfileobj(response, handle, 1 << 20)
    except (urllib.error.URLError, OSError, ValueError) as err:
        partial.unlink(missing_ok=True)
        raise FetchError(f"cannot download {url}: {getattr(err, 'reason', err)}") from None
    if sha256:
        actual = sha256sum(partial)
        if actual.lower() != sha256.lower():
            partial.unlink()
            raise FetchError(
                f"{url}: checksum mismatch: sha256 is {actual}, corpus.ted.sha256 expects {sha256.lower()}"
            )
    partial.replace(out)


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
    get.add_argument("--sha256", default="")
    get.add_argument("--out", required=True)
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
        else:
            splits = dict(item.split("=", 1) for item in args.split)
            extract(args.archive, args.src, args.trg, args.kind, splits, args.outdir)
    except FetchError as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
