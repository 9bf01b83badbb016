"""Trainer flags against Sockeye's own parser, run by a Sockeye interpreter (the `--check-flags` mode of
scripts/sockeye_entry.py and scripts/sockeye3_entry.py; the workflow's start-up check, scripts/slkd/trainer_check.py,
calls it). It builds sockeye.train's argparse parser (sockeye.arguments.ConfigArgumentParser with
add_train_cli_args, as sockeye.train's main does) and parses each flag after dummy data arguments: a flag that
the parser does not know, or a value that it rejects (type, choices), is a problem that names the flag's
configuration key. Nothing is trained. Standard library only, besides Sockeye itself.

Request (stdin, JSON): ``{"checks": [{"key": "sockeye_train.num-layers", "argv": ["--num-layers", "1"]}, ...]}``
Reply (the last line of stdout, JSON): ``{"sockeye": VERSION, "environment": PROBLEM, "skipped": NOTE,
"flags": [PROBLEM, ...]}``, where `environment` says why the interpreter is unusable (it cannot import Sockeye,
or has another version) and `skipped` why the flags could not be checked on this host (null when they were).
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import re
import sys
from collections.abc import Iterable
from typing import Any

# Sockeye's data arguments must name existing regular files (its regular_file type): this file stands in
DUMMY_FILE = __file__
DUMMY_DATA = ["--source", DUMMY_FILE, "--target", DUMMY_FILE, "--validation-source", DUMMY_FILE,
              "--validation-target", DUMMY_FILE, "--output", "flag-check"]


class Rejected(Exception):
    """The parser's error (or exit): raised instead of printing usage and exiting."""


def raising(parser_class: type[argparse.ArgumentParser]) -> type[argparse.ArgumentParser]:
    """A subclass of `parser_class` that raises Rejected where argparse would print usage and exit."""

    class Parser(parser_class):  # type: ignore[misc, valid-type]
        def error(self, message: str) -> Any:
            raise Rejected(message)

        def exit(self, status: int = 0, message: str | None = None) -> Any:
            raise Rejected(message or f"it would exit (status {status}) without training")

    return Parser


def train_parser() -> argparse.ArgumentParser:
    """sockeye.train's own parser (as its main builds it), raising Rejected instead of exiting."""
    from sockeye import arguments

    parser = raising(arguments.ConfigArgumentParser)(prog="sockeye.train")
    arguments.add_train_cli_args(parser)
    return parser


def long_options(parser: argparse.ArgumentParser) -> list[str]:
    return [s for action in parser._actions for s in action.option_strings if s.startswith("--")]


def rejections(parser: argparse.ArgumentParser, checks: Iterable[dict[str, Any]], tool: str,
               data: list[str] = DUMMY_DATA) -> list[str]:
    """A message per flag that `parser` does not know or whose value it rejects; `tool` names the parser in
    them (e.g. "Sockeye 1.18.106's sockeye.train")."""
    problems = []
    options = long_options(parser)
    for check in checks:
        key, argv = check["key"], list(check["argv"])
        flag = argv[0]
        try:
            with contextlib.redirect_stdout(sys.stderr):  # --help would print: keep stdout for the reply
                _args, rest = parser.parse_known_args([*data, *argv])
        except Rejected as err:
            reason = re.sub(r"^argument [^:]+: ", "", str(err).strip())
            problems.append(f"{key}: {' '.join(argv)} is rejected by {tool}: {reason}")
            continue
        if flag in rest:
            close = difflib.get_close_matches(flag, options, n=1, cutoff=0.8)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(f"{key}: {flag} is not a flag of {tool}{hint}")
        elif rest:
            problems.append(f"{key}: {flag} takes no value in {tool} (true gives the bare flag), but"
                            f" {' '.join(rest)} follows it")
    return problems


def check(request: dict[str, Any], expected: str, driver_libraries: Iterable[str] = ()) -> dict[str, Any]:
    """The reply to a request: import Sockeye, compare its version with `expected`, parse the flags. An import
    that fails only for want of a GPU driver library (`driver_libraries`, on a host without a GPU) skips the
    flags rather than failing."""
    reply: dict[str, Any] = {"sockeye": None, "environment": None, "skipped": None, "flags": []}
    try:
        with contextlib.redirect_stdout(sys.stderr):
            import sockeye  # light: the version first, then the parser (which imports MXNet or PyTorch)

            version = reply["sockeye"] = str(getattr(sockeye, "__version__", "?"))
            if version != expected:
                reply["environment"] = f"has Sockeye {version}, not {expected}"
                return reply
            parser = train_parser()
    except Exception as exc:  # any import failure makes the interpreter unusable for training...
        reason = f"{type(exc).__name__}: {exc}"
        driver = [name for name in driver_libraries if name in str(exc)]
        if driver:  # ...except a CUDA build on a host without the GPU driver: the GPU nodes have it
            reply["skipped"] = (f"cannot import sockeye here ({reason}); {driver[0]} comes with the GPU driver,"
                                " on the GPU nodes")
        else:
            reply["environment"] = f"cannot import sockeye ({reason})"
        return reply
    reply["flags"] = rejections(parser, request.get("checks", []), f"Sockeye {version}'s sockeye.train")
    return reply


def serve(expected: str, driver_libraries: Iterable[str] = ()) -> int:
    """Read a request on stdin, print the reply as the last line of stdout."""
    reply = check(json.loads(sys.stdin.read() or "{}"), expected, driver_libraries)
    sys.stdout.flush()
    print(json.dumps(reply), flush=True)
    return 0
