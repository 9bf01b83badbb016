"""Project entry point to Sockeye 1.18.106 (run it with the Sockeye interpreter).

Usage::

    python scripts/sockeye_entry.py train ARGS...      # same as python -m sockeye.train ARGS
    python scripts/sockeye_entry.py translate ARGS...  # same as python -m sockeye.translate ARGS
    python scripts/sockeye_entry.py --check            # print versions, exit non-zero if unusable

Sockeye 1.18.106 predates numpy 1.23, so before running it this module patches, at run time
and only inside Sockeye's own modules (the installed package is never edited):

* ``np.load`` gets ``allow_pickle=True``: resuming a training reads the data iterator state
  (``training_state/data.state``, object arrays saved with ``np.save``); numpy >= 1.16.3
  refuses that with "Object arrays cannot be loaded when allow_pickle=False".
* ``np.asscalar`` (removed in numpy 1.23; used by ``sockeye.evaluate``) is provided.

The patch replaces the ``np`` name in each ``sockeye.*`` module by a proxy of numpy; the
global ``numpy`` module stays untouched. Nothing heavy is imported at module level: Sockeye
starts a multiprocessing forkserver (for its checkpoint decoder) that must exist before
mxnet is imported, and that forkserver re-imports this file.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
import types
from typing import Any

EXPECTED = {"sockeye": "1.18.106", "mxnet": "1.9.", "numpy": "1.23.", "sacrebleu": "1."}
COMMANDS = {"train": "sockeye.train", "translate": "sockeye.translate"}


class _NumpyForSockeye(types.ModuleType):
    """Stand-in for ``numpy`` inside Sockeye's modules: numpy plus the fixes above."""

    def __init__(self, numpy: types.ModuleType) -> None:
        super().__init__("numpy")
        self._numpy = numpy

    def __getattr__(self, name: str) -> Any:
        return getattr(self._numpy, name)

    def load(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("allow_pickle", True)
        return self._numpy.load(*args, **kwargs)

    def asscalar(self, a: Any) -> Any:
        return self._numpy.asarray(a).item()


def patch_sockeye() -> int:
    """Point the ``np`` of every loaded ``sockeye.*`` module at the patched numpy.

    Returns the number of modules patched.
    """
    import numpy

    proxy = _NumpyForSockeye(numpy)
    patched = 0
    for name, module in list(sys.modules.items()):
        if (name == "sockeye" or name.startswith("sockeye.")) and getattr(module, "np", None) is numpy:
            module.np = proxy
            patched += 1
    return patched


def check() -> int:
    """Import mxnet and sockeye, print versions; return 0 if they are the expected ones."""
    problems = []
    versions = {}
    for package, prefix in EXPECTED.items():
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            problems.append(f"{package} is not installed")
            continue
        if not versions[package].startswith(prefix):
            problems.append(f"{package} {versions[package]} found, {prefix}* expected")
    try:
        for module in COMMANDS.values():  # sockeye.train first: it starts its forkserver before mxnet loads
            importlib.import_module(module)
        import mxnet
        import sockeye

        print(f"sockeye {sockeye.__version__}")
        print(f"mxnet {mxnet.__version__}")
        print(f"numpy {versions.get('numpy', '?')}")
        print(f"sacrebleu {versions.get('sacrebleu', '?')}")
        print(f"patched modules {patch_sockeye()}")
    except Exception as exc:  # any import failure makes the environment unusable
        problems.append(f"import failed: {exc!r}")
    for problem in problems:
        print(f"sockeye_entry --check: {problem}", file=sys.stderr)
    return 1 if problems else 0


def run(command: str, args: list[str]) -> None:
    """Run Sockeye's ``command`` (train or translate) main with command-line ``args``."""
    module = importlib.import_module(COMMANDS[command])  # sockeye.train starts its forkserver first
    patch_sockeye()
    sys.argv = [COMMANDS[command], *args]
    module.main()


def main(argv: list[str] | None = None) -> int:
    """Dispatch ``--check``, ``train`` or ``translate``."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--check"]:
        return check()
    if not argv or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    run(argv[0], argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
