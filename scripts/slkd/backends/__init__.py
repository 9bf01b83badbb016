"""The trainer backends, one module each, and their registry. Everything about one backend is declared in its
module (see sockeye1.py); the workflow, the cost estimate, the Makefile and the tests read it from here.

A backend module has:
- NAME; KEYS: its configuration keys (`python`: the interpreter, `train`: the flags of every training,
  `without_dropout`: the flags that replace them without dropout); PYTHON_KEY
- PYTHON_ENV: the environment variable through which the rules pass its interpreter to the jobs
- ENV_FILE (its conda environment), REQUIREMENTS (its pip pins), VENV (where `make setup` builds it), PACKAGE (the
  Sockeye installed with --no-deps on top), SETUP (what builds its interpreter), ENTRY (its entry point);
  `python -m slkd.backends make` writes them as the Makefile's variables
- SOCKEYE, TITLE: how messages and reports name it; GPU_CHECKED: whether the GPU check (bench/gpu) measures it
- COST_KEY: its throughputs' section under `cost` (None: `cost` itself); LOG_VERSION: the major version its
  training log names; PARAMETERS: the regex of its log line that gives the number of parameters
- CHECKPOINT_FLAG: its updates-per-checkpoint flag; REFUSED_ENSEMBLE_MODES: {teacher.ensemble_mode: why not}
- owns(flags): whether an architecture's flags without `backend` are its models'
- check_flag_sets(config, flag_sets): ConfigError for flags that this Sockeye would misread (flag rules)
- weights_per_token(flags), parameters(flags, source_vocab, target_vocab): its models' size (slkd.cost.sizes)
- command(python, verb): the argv prefix of `train` or `translate` (or of the entry's `--check-flags`)
- device_args(device): the flags that put a job on the CPU or on the GPU that SLURM assigned
- env(threads, device, kernels): the environment of a trainer process (kernels `portable`: PORTABLE, the settings
  that give the same bits on every x86-64 processor; `native`: the libraries' own choice)
- translate_args(): extra sockeye.translate flags
- gpu_refusal(): why this backend cannot run on the visible GPUs (None when it can, or when nothing is known)

A new backend is one module and one line in MODULES (tests/test_backends.py adds a stand-in that way).
"""

from __future__ import annotations

import copy
import importlib
import json
import os
from pathlib import Path
from types import ModuleType
from typing import Any

from slkd.settings import ConfigError

# The backends' modules under slkd/backends/, one line each; the first is the default: an architecture without
# `backend` is the paper's, Sockeye 1.18's RNNs
MODULES = (
    "sockeye1",
    "sockeye3",
)
BACKENDS: dict[str, ModuleType] = {
    module.NAME: module for module in (importlib.import_module(f"slkd.backends.{name}") for name in MODULES)}
DEFAULT_BACKEND = next(iter(BACKENDS))
# The rules whose jobs run a trainer (training or decoding): the GPU rules of profiles/slurm
TRAINER_RULES = ("train_teacher", "train_student", "distill", "score_part", "translate_test", "translate_dev")
# The CPU kernels of trainer jobs (config compute.cpu_kernels), the default first: `portable` pins every math
# library of every trainer stack to code that gives the same bits on any x86-64 processor with AVX2 (each
# backend's PORTABLE); `native` lets each library pick the fastest code for the processor.
CPU_KERNELS = ("portable", "native")


def get(name: str) -> ModuleType:
    """The backend module called `name`; a ValueError naming the known ones otherwise."""
    try:
        return BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown trainer backend {name!r} (known: {', '.join(BACKENDS)})") from None


def keys() -> dict[str, dict[str, str]]:
    """{backend: its configuration keys (KEYS)}, in BACKENDS order."""
    return {name: module.KEYS for name, module in BACKENDS.items()}


def env_files() -> dict[str, str]:
    """{backend: its conda environment file}: the rules that run its trainer are planned in it under --sdm conda,
    and its `python` is the trainer (the backend's `python` key is then not read)."""
    return {name: module.ENV_FILE for name, module in BACKENDS.items()}


def of_flags(flags: dict[str, Any]) -> str:
    """The backend of an architecture (its `backend`) or of a model's flags without one: the first that owns them."""
    if "backend" in flags:
        return str(flags["backend"])
    return next((name for name, module in BACKENDS.items() if module.owns(flags)), DEFAULT_BACKEND)


# SLURM's GPU sharing: a job that holds shards of a GPU (the `shard` GRES, `gres: "shard:N"` in profiles/slurm)
# finds their count in this variable and its GPU's index in CUDA_VISIBLE_DEVICES; its `gpu` resource is 0
SHARDS_ENV = "SLURM_SHARDS_ON_NODE"


def sockeye_device(setting: str, gpus: Any, shards: Any = 0) -> str:
    """`gpu` or `cpu` for one job: the compute.device setting, where `auto` means the GPU exactly when the job
    holds at least one (its `gpu` resource, a count; SLURM then exports that device as CUDA_VISIBLE_DEVICES) or a
    share of one (`shards`: SLURM's $SLURM_SHARDS_ON_NODE in the job, SHARDS_ENV)."""
    if setting in ("cpu", "gpu"):
        return setting
    if setting != "auto":
        raise ConfigError(f"compute.device: {setting!r} is not one of auto, cpu, gpu")
    counts = []
    for name, value in (("resource gpu", gpus), (f"${SHARDS_ENV}", shards)):
        try:
            counts.append(int(value or 0))
        except (TypeError, ValueError):
            raise ConfigError(f"{name}: {value!r} is not a number of GPUs") from None
    return "gpu" if any(count > 0 for count in counts) else "cpu"


def schema(base: dict[str, Any]) -> dict[str, Any]:
    """The configuration schema for the registry's backends: `base` (schemas/config.schema.yaml, which documents
    the backends it names) with every other registered backend added: a name that an architecture's `backend` may
    take (its architectures are validated as the default backend's are) and its configuration keys (KEYS), which
    only a configuration that uses it must give (slkd.checks)."""
    extended = copy.deepcopy(base)
    arch = extended["$defs"]["architecture"]
    known = arch["properties"]["backend"]["enum"]
    extra = [name for name in BACKENDS if name not in known]
    if not extra:
        return extended
    known += extra
    otherwise = arch["else"]["properties"]
    otherwise["backend"] = {"enum": [otherwise["backend"]["const"], *extra]}
    for name in extra:
        keys = BACKENDS[name].KEYS
        extended["properties"][keys["python"]] = {"type": "string", "minLength": 1,
                                                  "description": f"interpreter of the {name} environment"}
        for role in ("train", "without_dropout"):
            extended["properties"][keys[role]] = {"$ref": "#/$defs/flags", "description": f"{name}'s {role} flags"}
    return extended


def schema_file(path: str | Path, derived: str | Path) -> str:
    """The schema file to validate against: `derived`, the schema of `path` for the registry's backends (`schema`) as
    JSON, written when it does not hold that already. Snakemake reads a JSON schema at once where YAML takes it
    a tenth of a second, on every run. `path` itself where `derived` cannot be written and the registry adds nothing."""
    import yaml  # see slkd.settings: the registry itself needs only the standard library

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser where PyYAML has it: the same schema
    base = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=loader)
    extended = schema(base)
    text = json.dumps(extended, indent=1)
    derived = Path(derived)
    partial = derived.with_name(f"{derived.name}.{os.getpid()}")  # runs side by side never read half a file
    try:
        if not derived.is_file() or derived.read_text(encoding="utf-8") != text:
            derived.parent.mkdir(parents=True, exist_ok=True)
            partial.write_text(text, encoding="utf-8")
            os.replace(partial, derived)
    except OSError:  # a read-only or full disk
        partial.unlink(missing_ok=True)
        if extended != base:
            raise
        return str(path)
    return str(derived.resolve())
