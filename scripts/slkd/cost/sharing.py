"""GPU sharing in the estimate: the GPU jobs' hours when several of them share one GPU (SLURM's `shard` GRES,
profiles/slurm's `gres: "shard:1"`). A shared GPU's hours are counted once: N jobs on one GPU, each `slowdown`
times slower than alone, take slowdown / N of the GPU-hours that they take each on a GPU of its own.

The slowdown is the configuration's assumption (cost.sharing.slowdown), except for the backend that the GPU check
measures, where its trainings that ran at once (bench/gpu-results.json: each model's rate and the trainings that
overlapped it, `concurrent_trainings`) give it: the rates of its least and most concurrent trainings, each scaled
to the reference architecture by weights per token, and the slowdown taken as linear in the number of processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slkd import backends
from slkd.cost.rates import GPU_CHECKED, Rates, gpu_check_arch, gpu_check_entries, not_gpu_check_results, scale

DEFAULTS = {"processes": 4, "slowdown": 2.0}
CLOSE = 0.5  # trainings whose concurrency is within this of the least (most) concurrent's count with them


@dataclass(frozen=True)
class Slowdown:
    """A shared job's time over its time alone, and where that comes from."""

    factor: float
    measured: bool
    source: str


@dataclass(frozen=True)
class Sharing:
    processes: int
    slowdowns: dict[str, Slowdown]  # by backend

    def slowdown(self, trainer: str) -> Slowdown:
        return self.slowdowns[trainer]


def measured_slowdown(path: Path | None, processes: int, rates: Rates) -> Slowdown | None:
    """The GPU check's slowdown for `processes` sharing a GPU, from its trainings' rates at their concurrency;
    None without results, or where its trainings did not run at two clearly different concurrencies."""
    if path is None or not path.is_file() or GPU_CHECKED not in rates.specs:
        return None
    reference, fixed = rates.references[GPU_CHECKED], rates.specs[GPU_CHECKED]["gpu"].fixed_share
    points = []  # (concurrency, the reference's rate that this training implies)
    try:
        data, entries = gpu_check_entries(path)
        for entry in entries:
            rate, concurrent = entry.get("train_tokens_per_second"), entry.get("concurrent_trainings")
            if rate and concurrent:
                points.append((float(concurrent), float(rate) * scale(gpu_check_arch(entry), reference, fixed)))
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise not_gpu_check_results(path, error) from None
    if not points:
        return None
    low, high = min(c for c, _ in points), max(c for c, _ in points)
    if high - low < 1:
        return None
    alone = [r for c, r in points if c - low <= CLOSE]
    shared = [r for c, r in points if high - c <= CLOSE]
    low_c = sum(c for c, _ in points if c - low <= CLOSE) / len(alone)
    high_c = sum(c for c, _ in points if high - c <= CLOSE) / len(shared)
    at_high = (sum(alone) / len(alone)) / (sum(shared) / len(shared))
    factor = max(1.0, 1 + (at_high - 1) * (processes - 1) / (high_c - low_c))
    return Slowdown(factor, True, f"measured: GPU check {path.name} ({data.get('date', '?')}, {data.get('gpu', '?')}):"
                    f" {len(shared)} trainings at {high_c:.1f} at once ran {at_high:.2f}x slower per process than"
                    f" {len(alone)} at {low_c:.1f} (scaled to the reference), taken as linear in the processes")


def sharing(config: dict[str, Any], rates: Rates) -> Sharing:
    """The configuration's GPU sharing (cost.sharing; defaults where it has none) with each backend's slowdown."""
    settings = {**DEFAULTS, **(config["cost"].get("sharing") or {})}
    processes = int(settings["processes"])
    assumed = Slowdown(float(settings["slowdown"]), False, "assumed: config cost.sharing.slowdown")
    slowdowns = {trainer: assumed for trainer in backends.BACKENDS}
    if GPU_CHECKED in slowdowns:
        slowdowns[GPU_CHECKED] = measured_slowdown(rates.gpu_results, processes, rates) or assumed
    return Sharing(processes, slowdowns)


def shared_gpu_seconds(gpu_seconds: float, slowdown: float, processes: int) -> float:
    """A GPU job's GPU-seconds on a shared GPU: its time there (slowdown x alone), a share of the GPU's."""
    return gpu_seconds * slowdown / processes
