"""The trainer backends, one module each, with the same small interface (see sockeye1.py):

- NAME, PYTHON_ENV (the environment variable through which the rules pass the backend's interpreter),
  PYTHON_KEY (its configuration key), SETUP (what builds that interpreter)
- command(python, verb): the argv prefix of `train` or `translate` (or of the entry's `--check-flags`)
- device_args(device): the flags that put a job on the CPU or on the GPU that SLURM assigned
- env(threads, device, kernels): the environment of a trainer process (kernels `portable`: PORTABLE, the settings
  that give the same bits on every x86-64 processor; `native`: the libraries' own choice)
- translate_args(): extra sockeye.translate flags
- gpu_refusal(): why this backend cannot run on the visible GPUs (None when it can, or when nothing is known)
- PARAMETERS: the regex of the trainer's log line that gives the number of parameters

scripts/sockeye_jobs.py picks one by name (the architecture's `backend`, slkd_config.BACKEND_KEYS).
"""

from __future__ import annotations

from types import ModuleType

from trainers import sockeye1, sockeye3

BACKENDS: dict[str, ModuleType] = {sockeye1.NAME: sockeye1, sockeye3.NAME: sockeye3}


def get(name: str) -> ModuleType:
    """The backend module called `name`; a ValueError naming the known ones otherwise."""
    try:
        return BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown trainer backend {name!r} (known: {', '.join(BACKENDS)})") from None
