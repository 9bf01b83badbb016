"""Project entry point to Sockeye 1.18.106 (run it with the Sockeye interpreter).

Usage::

    python scripts/sockeye_entry.py train ARGS...      # same as python -m sockeye.train ARGS
    python scripts/sockeye_entry.py translate ARGS...  # same as python -m sockeye.translate ARGS
    python scripts/sockeye_entry.py score ARGS...      # same as python -m sockeye.score ARGS
    python scripts/sockeye_entry.py --check            # print versions, exit non-zero if unusable
    python scripts/sockeye_entry.py --check-flags < REQUEST.json  # flags against sockeye.train's parser

``--check-flags`` (scripts/slkd/sockeye_flags.py; the workflow's start-up check sends the request) parses the
configuration's training flags with sockeye.train's own parser; it trains nothing.

``--check`` also runs ``ldd`` on MXNet's ``libmxnet.so`` and fails when a library it links is not found
(the CUDA wheel, mxnet-cu117, needs CUDA 11 libraries that it does not bundle: `make setup-gpu` installs
them from PyPI's nvidia-*-cu11 packages and envs/sockeye-gpu-python puts them on the loader's path).
``libcuda.so.1`` is exempt: it comes with the GPU driver, on the GPU nodes only.

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
import importlib.util
import re
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

EXPECTED = {"sockeye": "1.18.106", "mxnet": "1.9.", "numpy": "1.23.", "sacrebleu": "1."}
DRIVER_LIBRARIES = {"libcuda.so.1"}  # installed with the NVIDIA driver on GPU nodes, never from PyPI
COMMANDS = {"train": "sockeye.train", "translate": "sockeye.translate", "score": "sockeye.score"}


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


def installed_version(package: str) -> str | None:
    """The installed version of `package`; for mxnet also its CUDA builds (mxnet-cu117, ...)."""
    names = [package]
    if package == "mxnet":
        names += sorted({d.metadata["Name"] for d in importlib.metadata.distributions()
                         if re.fullmatch(r"mxnet-cu\d+", (d.metadata["Name"] or "").lower())})
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def missing_libraries(ldd_output: str) -> list[str]:
    """The libraries that `ldd` reports `not found`, less those that come with the GPU driver."""
    missing = re.findall(r"^\s*(\S+) => not found", ldd_output, re.M)
    return [name for name in missing if name not in DRIVER_LIBRARIES]


def libmxnet() -> Path | None:
    """MXNet's shared library, found without importing mxnet."""
    spec = importlib.util.find_spec("mxnet")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "libmxnet.so"
    return path if path.exists() else None


def check() -> int:
    """Import mxnet and sockeye, print versions; return 0 if they are the expected ones."""
    problems = []
    versions = {}
    for package, prefix in EXPECTED.items():
        version = installed_version(package)
        if version is None:
            problems.append(f"{package} is not installed")
            continue
        versions[package] = version
        if not versions[package].startswith(prefix):
            problems.append(f"{package} {versions[package]} found, {prefix}* expected")
    library = libmxnet()
    if library is not None:
        ldd = subprocess.run(["ldd", str(library)], capture_output=True, text=True)
        for name in missing_libraries(ldd.stdout):
            problems.append(f"{library.name} needs {name}, which the loader does not find")
    try:
        for module in COMMANDS.values():  # sockeye.train first: it starts its forkserver before mxnet loads
            importlib.import_module(module)
        import mxnet
        import sockeye

        print(f"sockeye {sockeye.__version__}")
        cuda = mxnet.runtime.Features().is_enabled("CUDA")
        print(f"mxnet {mxnet.__version__} (CUDA build: {'yes' if cuda else 'no'})")
        print(f"numpy {versions.get('numpy', '?')}")
        print(f"sacrebleu {versions.get('sacrebleu', '?')}")
        print(f"patched modules {patch_sockeye()}")
    except Exception as exc:  # any import failure makes the environment unusable...
        if any(name in str(exc) for name in DRIVER_LIBRARIES):  # ...but a CUDA build on a node without a GPU
            print(f"mxnet (CUDA build) not imported: {exc}; the GPU driver's library comes with GPU nodes:"
                  " run this check there to import it")
        else:
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


def check_flags() -> int:
    """``--check-flags``: the request on stdin against Sockeye 1.18's parser (scripts/slkd/sockeye_flags.py)."""
    from slkd import sockeye_flags

    return sockeye_flags.serve(EXPECTED["sockeye"], DRIVER_LIBRARIES)


def dispatch(argv: list[str] | None, check: Callable[[], int], run: Callable[[str, list[str]], None],
             usage: str, check_flags: Callable[[], int]) -> int:
    """``--check``, ``--check-flags`` or a command of COMMANDS (``train ARGS``, ...) of an entry point (this one,
    scripts/sockeye3_entry.py)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--check"]:
        return check()
    if argv[:1] == ["--check-flags"]:
        return check_flags()
    if not argv or argv[0] not in COMMANDS:
        print(usage, file=sys.stderr)
        return 2
    run(argv[0], argv[1:])
    return 0


def main(argv: list[str] | None = None) -> int:
    """Dispatch ``--check``, ``--check-flags`` or a command (COMMANDS)."""
    return dispatch(argv, check, run, __doc__ or "", check_flags)


if __name__ == "__main__":
    sys.exit(main())
