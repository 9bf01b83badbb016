"""The fingerprint of a run: what must come out the same on every machine, in a form that says what drifted.

    python -m fingerprint OUTDIR [--output FINGERPRINT.json]     # print (or write) it
    python -m fingerprint OUTDIR --check FINGERPRINT.json        # exit 1 naming every difference

It holds the sha256 of every file of distillation (each direction's folder, slkd.layout.paths().distill_dir:
the teachers' n-best translations and every part gathered from them, not the parts' reports nor Sockeye's logs
beside its outputs, which name folders and times) and the rows of the tables and claims the run wrote
(results/table1.csv, table3.csv, claims.csv: every number as written). With portable CPU kernels
(compute.cpu_kernels) a run of the same configuration gives the same fingerprint on any x86-64 processor with
AVX2; tests/test_fingerprint.py holds the tiny configurations' fingerprints to that.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))  # the library: slkd
from slkd.layout import fill, paths  # noqa: E402

TABLES = ("table1", "table3", "claims")
REPORT = Path(paths(".").distill_report).name  # report.json: names folders and times


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fingerprint(outdir: str | Path) -> dict[str, Any]:
    """{"distilled": {relative path: sha256}, "tables": {name: [row, ...]}} of the run under `outdir`."""
    outdir = Path(outdir).resolve()
    layout = paths(str(outdir))
    folders = sorted(Path("/").glob(fill(layout.distill_dir, direction="*").lstrip("/")))
    distilled = {path.relative_to(outdir).as_posix(): _sha256(path) for folder in folders
                 for path in sorted(folder.rglob("*")) if path.is_file() and path.name != REPORT
                 and path.suffix != ".log"}
    tables = {}
    for name in TABLES:
        path = Path(fill(layout.table, table=name, ext="csv"))
        if path.is_file():
            with open(path, encoding="utf-8", newline="") as handle:
                tables[name] = [dict(row) for row in csv.DictReader(handle)]
    return {"distilled": distilled, "tables": tables}


def differences(expected: dict[str, Any], actual: dict[str, Any], extra_files: bool = True) -> list[str]:
    """What differs, one line each: a distilled file's digest, a table's row (by its first column), a file or a
    table that only one side has (with extra_files False, a distilled file that only `actual` has is not one:
    a run may have built more parts than the expected fingerprint's)."""
    lines = []
    for path in sorted(set(expected["distilled"]) | set(actual["distilled"])):
        want, got = expected["distilled"].get(path), actual["distilled"].get(path)
        if want is None and not extra_files:
            continue
        if want != got:
            lines.append(f"{path}: " + ("missing" if got is None else "not expected" if want is None else
                                        f"sha256 {got[:12]}..., expected {want[:12]}..."))
    for name in sorted(set(expected["tables"]) | set(actual["tables"])):
        want, got = expected["tables"].get(name), actual["tables"].get(name)
        if want is None or got is None:
            lines.append(f"results/{name}.csv: {'missing' if got is None else 'not expected'}")
            continue
        if len(want) != len(got):
            lines.append(f"results/{name}.csv: {len(got)} rows, expected {len(want)}")
        for i, (row, expected_row) in enumerate(zip(got, want, strict=False), start=2):
            changed = [f"{key} {row.get(key)!r} (expected {value!r})" for key, value in expected_row.items()
                       if row.get(key) != value]
            if changed:
                lines.append(f"results/{name}.csv:{i} ({next(iter(row.values()), '')}): {'; '.join(changed)}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outdir", help="the run's outdir (config outdir)")
    parser.add_argument("--output", help="write the fingerprint here (default: print it)")
    parser.add_argument("--check", help="compare with this fingerprint file instead")
    args = parser.parse_args(argv)
    actual = fingerprint(args.outdir)
    if not actual["distilled"] and not actual["tables"]:
        print(f"ERROR: {args.outdir}: no distilled corpora and no tables: not a run's outdir", file=sys.stderr)
        return 2
    if args.check:
        lines = differences(json.loads(Path(args.check).read_text(encoding="utf-8")), actual)
        for line in lines:
            print(line)
        print(f"{args.outdir}: {'differs from' if lines else 'the same as'} {args.check}"
              f"{f' ({len(lines)} differences)' if lines else ''}", file=sys.stderr)
        return 1 if lines else 0
    text = json.dumps(actual, indent=1, sort_keys=True) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
