"""Project entry point to Sockeye 3.1.34 on PyTorch (run it with the Sockeye 3 interpreter, .venv-sockeye3).

Usage::

    python scripts/sockeye3_entry.py train ARGS...      # same as python -m sockeye.train ARGS
    python scripts/sockeye3_entry.py translate ARGS...  # same as python -m sockeye.translate ARGS
    python scripts/sockeye3_entry.py score ARGS...      # same as python -m sockeye.score ARGS
    python scripts/sockeye3_entry.py --check            # print versions and devices, exit non-zero if unusable
    python scripts/sockeye3_entry.py --check-flags < REQUEST.json  # flags against sockeye.train's parser

Sockeye 3.1.34 pins torch 1.13 and is installed beside a current torch with ``--no-deps``
(envs/requirements-sockeye3.txt); ``--check`` says which torch and CUDA it found and which GPUs torch sees,
with their compute capability.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import sys

from slkd import torch_portable
from sockeye_entry import COMMANDS, dispatch

EXPECTED = {"sockeye": "3.1.34", "torch": "2.", "sacrebleu": "2."}


def check() -> int:
    """Import torch and sockeye, print versions and devices; return 0 if they are the expected ones."""
    problems = []
    for package, prefix in EXPECTED.items():
        try:
            version = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            problems.append(f"{package} is not installed")
            continue
        print(f"{package} {version}")
        if not version.startswith(prefix):
            problems.append(f"{package} {version} found, {prefix}* expected")
    try:
        for module in COMMANDS.values():
            importlib.import_module(module)
        import torch

        print(f"torch CUDA build: {torch.version.cuda or 'none'}; GPUs visible: {torch.cuda.device_count()}")
        for i in range(torch.cuda.device_count()):
            major, minor = torch.cuda.get_device_capability(i)
            print(f"  cuda:{i} {torch.cuda.get_device_name(i)} (compute capability {major}.{minor})")
    except Exception as exc:  # any import failure makes the environment unusable
        problems.append(f"import failed: {exc!r}")
    for problem in problems:
        print(f"sockeye3_entry --check: {problem}", file=sys.stderr)
    return 1 if problems else 0


def check_flags() -> int:
    """``--check-flags``: the request on stdin against Sockeye 3's parser (scripts/slkd/sockeye_flags.py)."""
    from slkd import sockeye_flags

    return sockeye_flags.serve(EXPECTED["sockeye"])


def run(command: str, args: list[str]) -> None:
    """Run Sockeye's ``command`` (train or translate) main with command-line ``args``; with portable CPU kernels
    ($SLKD_CPU_KERNELS, scripts/slkd/backends/sockeye3.py), torch's sqrt correctly rounded first (torch_portable)."""
    if os.environ.get(torch_portable.ENV) == "portable":
        torch_portable.install()
    module = importlib.import_module(COMMANDS[command])
    sys.argv = [COMMANDS[command], *args]
    module.main()


def main(argv: list[str] | None = None) -> int:
    """Dispatch ``--check``, ``--check-flags``, ``train`` or ``translate``."""
    return dispatch(argv, check, run, __doc__ or "", check_flags)


if __name__ == "__main__":
    sys.exit(main())
