"""Which GPUs a job sees, and whether MXNet 1.9.1 (the paper's trainer, Sockeye 1.18) can run on them.

    python -m slkd.gpu_check            the visible GPUs as JSON lines; exit 0
    python -m slkd.gpu_check mxnet      MXNet's verdict on them: its refusal (exit 1) or "ok" (exit 0)

MXNet 1.9.1's CUDA wheels carry kernels for compute capability 5.0 to 8.6 and no PTX, so on a newer GPU (the
H100 and H200 are 9.0) every training would fail inside MXNet. The trainer jobs ask before Sockeye 1.18 starts
(scripts/train_model.py, scripts/translate.py), and so does the workflow before any job on a local run (rules/
common.smk). The GPUs come from `nvidia-smi --query-gpu` (MXNet itself is not needed), restricted to
CUDA_VISIBLE_DEVICES (indices or UUIDs) when it is set, as SLURM sets it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Protocol, TypeVar

MXNET_MAX_COMPUTE_CAPABILITY = (8, 6)
QUERY = "index,uuid,name,compute_cap,driver_version,memory.total"


@dataclass(frozen=True)
class Gpu:
    index: int
    uuid: str
    name: str
    compute_capability: str
    driver: str
    memory: str

    @property
    def capability(self) -> tuple[int, int]:
        major, _, minor = self.compute_capability.partition(".")
        return int(major), int(minor or 0)


def parse_query(text: str) -> list[Gpu]:
    """The rows of `nvidia-smi --query-gpu=QUERY --format=csv,noheader`."""
    gpus = []
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = [f.strip() for f in line.split(",")]
        if len(fields) != 6 or not fields[0].isdigit():
            raise ValueError(f"unexpected nvidia-smi line: {line!r}")
        gpus.append(Gpu(int(fields[0]), *fields[1:]))
    return gpus


class Identified(Protocol):
    """What `visible` needs of a GPU: nvidia-smi's index and UUID (a Gpu; a sample row of slkd/gpu_monitor.py)."""

    @property
    def index(self) -> int: ...

    @property
    def uuid(self) -> str: ...


G = TypeVar("G", bound=Identified)


def visible(gpus: Sequence[G], cuda_visible_devices: str | None) -> list[G]:
    """The GPUs a process sees under CUDA_VISIBLE_DEVICES (None: all; entries are indices or UUIDs), in its order."""
    if cuda_visible_devices is None:
        return list(gpus)
    chosen = []
    for entry in filter(None, (e.strip() for e in cuda_visible_devices.split(","))):
        match = [g for g in gpus if str(g.index) == entry or g.uuid == entry or g.uuid.startswith(entry)]
        if not match:
            break  # CUDA stops at the first invalid entry
        chosen.append(match[0])
    return chosen


def visible_gpus(env: Mapping[str, str] | None = None) -> list[Gpu] | None:
    """The GPUs this process sees, or None when nvidia-smi is absent or fails (nothing can be said)."""
    env = os.environ if env is None else env
    smi = shutil.which("nvidia-smi", path=env.get("PATH"))
    if smi is None:
        return None
    proc = subprocess.run([smi, f"--query-gpu={QUERY}", "--format=csv,noheader,nounits"], capture_output=True,
                          text=True, timeout=60)
    if proc.returncode != 0:
        return None
    return visible(parse_query(proc.stdout), env.get("CUDA_VISIBLE_DEVICES"))


def mxnet_refusal(gpus: list[Gpu]) -> str | None:
    """Why Sockeye 1.18 (MXNet 1.9.1) cannot run on these GPUs, or None when it can; the backend it suggests
    instead is the one whose models the GPU check measures (slkd.backends: GPU_CHECKED)."""
    from slkd import backends  # here: the backends import this module

    instead = next(name for name, module in backends.BACKENDS.items() if module.GPU_CHECKED)
    newer = [g for g in gpus if g.capability > MXNET_MAX_COMPUTE_CAPABILITY]
    if not newer:
        return None
    names = "; ".join(f"GPU {g.index} {g.name} (compute capability {g.compute_capability})" for g in newer)
    return (f"{names}: MXNet 1.9.1 (the paper's trainer, Sockeye 1.18) has CUDA kernels for compute capability"
            " 5.0-8.6 only and no PTX, so its trainings would fail on this GPU. Train these models with the"
            f" Transformer backend (an architecture with `backend: {instead}`, docs/methods.md \"Transformers\"), or"
            " send the Sockeye 1.18 jobs to older GPUs (V100, A100, RTX 30/40) with the SLURM profile's `gpu_model` or"
            " `constraint` (profiles/slurm/config.yaml, set-resources).")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    gpus = visible_gpus()
    if argv[:1] == ["mxnet"]:
        refusal = mxnet_refusal(gpus or [])
        print(refusal or "ok: " + (", ".join(f"{g.name} ({g.compute_capability})" for g in gpus or []) or "no GPU"))
        return 1 if refusal else 0
    for gpu in gpus or []:
        print(json.dumps({**asdict(gpu), "capability": list(gpu.capability)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
