"""The backends as the Makefile reads them: `python -m slkd.backends make` prints, per backend of the registry,
its environment's folder, pins, Sockeye package, entry point and interpreter key as Make variables (BACKENDS: their
names; NAME_VENV, NAME_REQUIREMENTS, NAME_PACKAGE, NAME_ENTRY, NAME_PYTHON_KEY; GPU_BACKEND, GPU_ENV and
GPU_REQUIREMENTS for the backend with a GPU build of its own). Only the standard library is
needed: `make` runs it with the system's Python before any environment exists."""

from __future__ import annotations

import sys
from pathlib import Path

from slkd import backends

REPO = Path(__file__).resolve().parents[3]


def make_variables() -> list[str]:
    """The Make variable definitions of the registry's backends."""
    lines = [f"BACKENDS := {' '.join(backends.BACKENDS)}"]
    for name, module in backends.BACKENDS.items():
        lines += [f"{name}_VENV := {module.VENV}", f"{name}_REQUIREMENTS := {module.REQUIREMENTS}",
                  f"{name}_PACKAGE := {module.PACKAGE}", f"{name}_ENTRY := {module.ENTRY.relative_to(REPO)}",
                  f"{name}_PYTHON_KEY := {module.PYTHON_KEY}"]
        if getattr(module, "GPU_VENV", None):  # a GPU build of its own (`make setup-gpu`)
            lines += [f"GPU_BACKEND := {name}", f"GPU_ENV := {module.GPU_VENV}",
                      f"GPU_REQUIREMENTS := {module.GPU_REQUIREMENTS}"]
    return lines


if __name__ == "__main__":
    if sys.argv[1:] != ["make"]:
        sys.exit("usage: python -m slkd.backends make")
    print("\n".join(make_variables()))
