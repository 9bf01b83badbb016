"""Throughputs: the configuration's assumed rates per backend and device, scaled to an architecture by its
weights per token; rates measured in the logs and benchmark files of runs under outdir, and by the GPU check
(bench/gpu-results.json), replace them where they apply.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slkd import backends, formats, layout, settings
from slkd.corpus_check import count_lines
from slkd.cost.plan import REPO, SLURM_PROFILE, STUDENT_LOGS
from slkd.cost.sizes import (
    transformer,
)
from slkd.cost.usage import usage_files
from slkd.formats import flag_value


# ---- Models of each backend (slkd.backends) --------------------------------------------------------------------
def backend(arch: dict[str, Any]) -> str:
    """The trainer backend of an architecture (its `backend`) or of a model's flags (training_flags.model_flags
    leaves `backend` out): the backend that owns them (backends.of_flags)."""
    return backends.of_flags(arch)


def weights_per_token(arch: dict[str, Any]) -> int:
    """Multiply-adds per target token of a model of the architecture's backend (its weights_per_token)."""
    return backends.get(backend(arch)).weights_per_token(arch)


def parameters(arch: dict[str, Any], source_vocab: int | None = None, target_vocab: int | None = None) -> int:
    """The parameter count that Sockeye logs for a model of the architecture's backend (give a Transformer the
    model's flags, training_flags.model_flags: max-seq-len sizes its positional embeddings)."""
    return backends.get(backend(arch)).parameters(arch, source_vocab, target_vocab)


def arch_key(arch: dict[str, Any]) -> str:
    """The CSV's `architecture`: the backend's readable name of the shape (bpe500-e256-l1-lstm-h256,
    s3-bpe300-l1-m32-a2-ff64)."""
    return backends.get(backend(arch)).arch_name(arch)


@dataclass(frozen=True)
class Device:
    """Throughputs of the reference architecture on one device, and how they scale."""

    name: str
    train_tokens_per_second: float
    decode_sentences_per_second: float
    fixed_share: float
    startup_seconds: float
    note: str


def scale(arch: dict[str, Any], reference: dict[str, Any], fixed_share: float) -> float:
    """Time per token (or sentence) of `arch` relative to the reference architecture's."""
    return fixed_share + (1 - fixed_share) * weights_per_token(arch) / weights_per_token(reference)


# ---- Measured throughputs ------------------------------------------------------------------------------------
def command_arch(command: list[str], trainer: str = backends.DEFAULT_BACKEND) -> dict[str, Any] | None:
    """The architecture flags of a sockeye.train command line of backend `trainer`, or None if one is missing or
    not a number."""
    return backends.get(trainer).command_arch(command)


def model_arch(log: Path) -> dict[str, Any] | None:
    """The architecture of the model whose training log this is (None: no command, or flags missing)."""
    command = formats.command(log)
    return command_arch(command, formats.log_backend(log)) if command else None


@dataclass
class Measured:
    """Measured throughputs by (device, architecture key): training tokens/s, decoding sentences/s."""

    train: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    decode: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    archs: dict[str, dict[str, Any]] = field(default_factory=dict)


def training_speed(log: Path) -> tuple[str, dict[str, Any], float] | None:
    """(device, architecture, target tokens per second) of one Sockeye training log (1.18's or 3's):
    batch-size x the median Updates/sec of its checkpoints (less the first when there are three or more: it
    holds the start-up). The device: `--use-cpu` or not (1.18's --device-ids, 3's --device-id)."""
    command = formats.command(log)
    if not command:
        return None
    arch, batch = command_arch(command, formats.log_backend(log)), flag_value(command, "--batch-size")
    rates = formats.checkpoint_rates(log.read_text(encoding="utf-8", errors="replace"))
    if arch is None or batch is None or not rates or flag_value(command, "--batch-type") not in (None, "word"):
        return None
    rates = rates[1:] if len(rates) >= 3 else rates
    device = "cpu" if "--use-cpu" in command else "gpu"
    return device, arch, int(batch) * statistics.median(rates)


def decoding_job(benchmark: Path, log: Path, root: Path) -> tuple[str, Path, int, float] | None:
    """(device, model folder, input lines, wall seconds) of one decoding job from its benchmark file and its log
    (whose first line is the command: --models, --input, --use-cpu or a GPU), or None. An ensemble's decoding
    (several --models: teacher.ensemble) counts each line once per model: the rate is one model's."""
    if not (benchmark.is_file() and log.is_file()):
        return None
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    command = lines[0].split() if lines else []
    source, model = flag_value(command, "--input"), flag_value(command, "--models")
    if not source or not model or not (root / source).is_file():
        return None
    try:
        seconds = float(benchmark.read_text(encoding="utf-8").splitlines()[1].split("\t")[0])
    except (IndexError, ValueError):
        return None
    folders = list(itertools.takewhile(lambda arg: not arg.startswith("--"), command[command.index("--models") + 1:]))
    return ("cpu" if "--use-cpu" in command else "gpu", root / model, count_lines(root / source) * len(folders),
            seconds)


def measure(config: dict[str, Any], startup: dict[str, dict[str, float]], root: Path = Path(".")) -> Measured:
    """Throughputs of the jobs that already ran under outdir (Sockeye 1.18's and 3's). `startup`: decoding
    start-up seconds by backend and device ({"sockeye1": {"gpu": 30, "cpu": 6}, "sockeye3": {...}})."""
    paths = layout.paths(config["outdir"])
    measured = Measured()
    models = root / paths.models
    for log in sorted([*models.glob("teacher/*/log"), *models.glob(STUDENT_LOGS)]):
        speed = training_speed(log)
        if speed:
            device, arch, tokens = speed
            measured.archs[arch_key(arch)] = arch
            measured.train[(device, arch_key(arch))].append(tokens)
    benchmarks, logs = root / paths.benchmarks, root / paths.logs
    pairs = [(b, logs / "distill" / f"{b.stem}.log") for b in sorted((benchmarks / "distill").glob("*.tsv"))]
    pairs += [(b, logs / "translate_test" / b.relative_to(benchmarks / "translate_test").with_suffix(".log"))
              for b in sorted((benchmarks / "translate_test").rglob("*.tsv"))]
    for benchmark, log in pairs:
        job = decoding_job(benchmark, log, root)
        if job is None or not (job[1] / "log").is_file():
            continue
        device, model, lines, seconds = job
        arch = model_arch(model / "log")
        if arch is None:
            continue
        wait = float(startup[backend(arch)][device])
        if seconds >= 2 * wait:
            measured.archs[arch_key(arch)] = arch
            measured.decode[(device, arch_key(arch))].append(lines / (seconds - wait))
    return measured


# The backend whose models the GPU check (bench/gpu) measures: its cost section's gpu_measured names the results
GPU_CHECKED = next(name for name, module in backends.BACKENDS.items() if module.GPU_CHECKED)


def gpu_results_path(config: dict[str, Any]) -> Path | None:
    """cost.<GPU_CHECKED>.gpu_measured (a relative path is taken from the repository, where bench/ is), or None."""
    value = (config["cost"].get(GPU_CHECKED) or {}).get("gpu_measured")
    if not value:
        return None
    path = Path(value)
    return path if path.is_absolute() else REPO / path


def measurement_files(config: dict[str, Any], root: Path = Path(".")) -> list[Path]:
    """The files `measure` reads (so that the rule can redo the estimate when they change)."""
    paths = layout.paths(config["outdir"])
    models, benchmarks = root / paths.models, root / paths.benchmarks
    return sorted([*models.glob("teacher/*/log"), *models.glob(STUDENT_LOGS),
                   *(benchmarks / "distill").glob("*.tsv"), *(benchmarks / "translate_test").rglob("*.tsv")])


def measurement_stamp(config: dict[str, Any], root: Path = Path(".")) -> str:
    """A digest of the measurement files' names, sizes and times (and of the GPU check's results file, the GPU
    samples and the SLURM efficiency reports): it changes when finished jobs add some."""
    stamp = hashlib.sha1()
    gpu = gpu_results_path(config)
    for path in [*measurement_files(config, root), *([gpu] if gpu and gpu.is_file() else []),
                 *usage_files(config, SLURM_PROFILE, root)]:
        stat = path.stat()
        stamp.update(f"{path}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
    return stamp.hexdigest()


# ---- GPU check results (bench/gpu-results.json) --------------------------------------------------------------
@dataclass(frozen=True)
class GpuCheck:
    """A Transformer's throughputs measured on a GPU by the GPU check (None: not measured), and what it ran on."""

    path: Path
    model: str
    arch: dict[str, Any]
    train_tokens_per_second: float | None
    decode_sentences_per_second: float | None
    parameters: int | None
    about: str  # date, GPU, compute capability, torch, CUDA, precision
    concurrent: float | None = None  # trainings that shared the GPU with this one, on average (itself included)

    @property
    def label(self) -> str:
        return f"GPU check {self.path.name} ({self.about})"


def gpu_check_entries(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A GPU check results file (bench/gpu-results.json, tools/gpu_bench.py) and its entries of GPU_CHECKED models
    whose training ran on CUDA (`device`; entries that ran elsewhere are left out)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return data, [m for m in data.get("models", []) if m.get("backend", GPU_CHECKED) == GPU_CHECKED
                  and str(m.get("device") or "cuda").startswith("cuda")]


def gpu_check_arch(entry: dict[str, Any]) -> dict[str, Any]:
    """The architecture of a GPU check entry as the estimate reads it (its backend set, its flags checked)."""
    arch = {**{k: v for k, v in entry["architecture"].items() if k != "backend"}, "backend": GPU_CHECKED}
    transformer(arch)
    return arch


def not_gpu_check_results(path: Path, error: Exception) -> settings.ConfigError:
    return settings.ConfigError(f"cost.{GPU_CHECKED}.gpu_measured: {path} is not a GPU check results file"
                                f" ({error!r})")


def gpu_check(path: Path | None) -> GpuCheck | None:
    """The reference entry of a GPU check results file (gpu_check_entries): model teacher/de-en, else the first
    entry. None when the file or such an entry is missing, or it measured nothing."""
    if path is None or not path.is_file():
        return None
    try:
        data, entries = gpu_check_entries(path)
        if not entries:
            return None
        entry = next((m for m in entries if m.get("model") == "teacher/de-en"), entries[0])
        arch = gpu_check_arch(entry)
        about = ", ".join(str(part) for part in (
            data.get("date"), data.get("gpu"), data.get("compute_capability") and f"sm {data['compute_capability']}",
            data.get("torch") and f"torch {data['torch']}", data.get("cuda") and f"CUDA {data['cuda']}",
            entry.get("precision") or data.get("dtype")) if part)
        train, decode = entry.get("train_tokens_per_second"), entry.get("decode_sentences_per_second")
        if not train and not decode:
            return None
        return GpuCheck(path, entry.get("model", "?"), arch, float(train) if train else None,
                        float(decode) if decode else None, entry.get("parameters"), about,
                        entry.get("concurrent_trainings"))
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise not_gpu_check_results(path, error) from None


# ---- Rates ---------------------------------------------------------------------------------------------------
def no_rates(trainer: str) -> str:
    return f"cost.{trainer}: the configuration has {trainer} models but no throughputs for them"


def cost_section(config: dict[str, Any], trainer: str) -> tuple[dict[str, Any], str]:
    """The `cost` keys (reference, gpu, cpu) of a backend and their name: cost (Sockeye 1.18, the paper's) or
    cost.sockeye3."""
    key = backends.get(trainer).COST_KEY
    if key is None:
        return config["cost"], "cost"
    if key not in config["cost"]:
        raise settings.ConfigError(no_rates(trainer))
    return config["cost"][key], f"cost.{key}"


class Rates:
    """Throughput of an architecture on a device: measured for that architecture, else measured for others of
    its backend and scaled, else (Sockeye 3 on the GPU) the GPU check's scaled, else the configuration's
    assumption scaled."""

    def __init__(self, config: dict[str, Any], measured: Measured | None) -> None:
        self.references: dict[str, dict[str, Any]] = {}
        self.specs: dict[str, dict[str, Device]] = {}
        self.sections: dict[str, str] = {}
        for trainer in backends.BACKENDS:
            if backends.get(trainer).COST_KEY not in (None, *config["cost"]):
                continue
            section, name = cost_section(config, trainer)
            reference = section["reference"]
            self.references[trainer] = {**reference, "backend": trainer} if trainer != backends.DEFAULT_BACKEND \
                else reference
            self.specs[trainer] = {device: Device(device, **section[device]) for device in ("gpu", "cpu")}
            self.sections[trainer] = name
        self.gpu_results = gpu_results_path(config)
        self.gpu_check = gpu_check(self.gpu_results) if GPU_CHECKED in self.specs else None
        if self.gpu_check:  # the GPU check's model, scaled to the reference, replaces the assumed GPU rates
            spec, check = self.specs[GPU_CHECKED]["gpu"], self.gpu_check
            factor = scale(check.arch, self.references[GPU_CHECKED], spec.fixed_share)
            kinds = [kind for kind, value in (("training", check.train_tokens_per_second),
                                              ("decoding", check.decode_sentences_per_second)) if value]
            self.specs[GPU_CHECKED]["gpu"] = Device(
                "gpu", check.train_tokens_per_second * factor if check.train_tokens_per_second
                else spec.train_tokens_per_second,
                check.decode_sentences_per_second * factor if check.decode_sentences_per_second
                else spec.decode_sentences_per_second, spec.fixed_share, spec.startup_seconds,
                f"{' and '.join(kinds)} measured: {check.label}, model {check.model} (`{arch_key(check.arch)}`)"
                + ("" if arch_key(check.arch) == arch_key(self.references[GPU_CHECKED])
                   else ", scaled to the reference")
                + f"; {'fixed_share' if len(kinds) == 2 else 'the rest'} and start-up still assumed ({spec.note})")
        self.measured = measured or Measured()

    @property
    def reference(self) -> dict[str, Any]:
        """The Sockeye 1.18 reference architecture (config cost.reference)."""
        return self.references[backends.DEFAULT_BACKEND]

    @property
    def devices(self) -> dict[str, Device]:
        """The Sockeye 1.18 throughputs by device (config cost.gpu, cost.cpu)."""
        return self.specs[backends.DEFAULT_BACKEND]

    def device(self, arch: dict[str, Any], device: str) -> Device:
        """The throughputs of an architecture's backend on a device."""
        trainer = backend(arch)
        if trainer not in self.specs:
            raise settings.ConfigError(no_rates(trainer))
        return self.specs[trainer][device]

    def _rate(self, kind: str, device: str, arch: dict[str, Any]) -> tuple[float, str]:
        trainer = backend(arch)
        spec, reference = self.device(arch, device), self.references[trainer]
        table = self.measured.train if kind == "train" else self.measured.decode
        own = table.get((device, arch_key(arch)))
        if own:
            return statistics.median(own), f"measured ({len(own)} run{'s' if len(own) > 1 else ''})"
        others = [(key, value) for (dev, key), values in table.items()
                  if dev == device and backend(self.measured.archs[key]) == trainer for value in values]
        if others:
            rate = statistics.median(
                value * scale(self.measured.archs[key], reference, spec.fixed_share) for key, value in others)
            return (rate / scale(arch, reference, spec.fixed_share),
                    f"measured on other architectures ({len(others)} runs), scaled")
        assumed = spec.train_tokens_per_second if kind == "train" else spec.decode_sentences_per_second
        check = self.gpu_check
        if trainer == GPU_CHECKED and device == "gpu" and check and (
                check.train_tokens_per_second if kind == "train" else check.decode_sentences_per_second):
            return assumed / scale(arch, reference, spec.fixed_share), check.label + (
                "" if arch_key(arch) == arch_key(check.arch) else ", scaled")
        return assumed / scale(arch, reference, spec.fixed_share), f"config {self.sections[trainer]}.{device}" + (
            "" if arch_key(arch) == arch_key(reference) else ", scaled")

    def train(self, device: str, arch: dict[str, Any]) -> tuple[float, str]:
        """Target tokens per second of training."""
        return self._rate("train", device, arch)

    def decode(self, device: str, arch: dict[str, Any]) -> tuple[float, str]:
        """Sentences per second of beam search."""
        return self._rate("decode", device, arch)


