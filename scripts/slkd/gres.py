"""SLURM's generic resources (GRES) as a Snakemake `gres` resource or profile gives them: "gpu:1", "shard:2",
"gpu:a100:1", several joined by commas. A job that holds `shard` GRES shares a GPU with others (SLURM's GPU
sharing: docs/slurm.md#sharing-a-gpu)."""

from __future__ import annotations

from typing import Any


def count(gres: Any, name: str) -> int:
    """How many of GRES `name` a `gres` value asks for (0 for none or an empty value; a bare name is 1)."""
    total = 0
    for item in str(gres or "").split(","):
        parts = item.strip().split(":")
        if parts[0] != name:
            continue
        last = parts[-1] if len(parts) > 1 else "1"
        digits = last.rstrip("TGMK")
        total += int(digits) if digits.isdigit() else 1
    return total


def shards(gres: Any) -> int:
    """The GPU shards a `gres` value asks for."""
    return count(gres, "shard")
