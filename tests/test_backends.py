"""The trainer backends' registry (scripts/slkd/backends/): what each backend module declares, that the workflow
reads every backend fact from there (no backend's name, configuration key or environment variable is spelled
anywhere else in it), and a stand-in third backend that one module and one registry line make plannable."""

from __future__ import annotations

import ast
import io
import json
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest
import yaml
from conftest import REPO, SNAKEMAKE, TINY, copy_clone
from slkd import backends

INTERFACE = ("NAME", "SOCKEYE", "TITLE", "KEYS", "PYTHON_KEY", "PYTHON_ENV", "ENV_FILE", "REQUIREMENTS", "VENV",
             "PACKAGE", "ENTRY", "SETUP", "COST_KEY", "GPU_CHECKED", "LOG_VERSION", "PARAMETERS", "CHECKPOINT_FLAG",
             "REFUSED_ENSEMBLE_MODES", "PORTABLE")
FUNCTIONS = ("owns", "check_flag_sets", "weights_per_token", "parameters", "arch_name", "command_arch", "command",
             "device_args", "env", "translate_args", "gpu_refusal")


def spellings() -> set[str]:
    """Every backend's name, configuration keys and environment variable."""
    return {word for name, module in backends.BACKENDS.items()
            for word in (name, *module.KEYS.values(), module.PYTHON_ENV)}


@pytest.mark.unit
def test_every_backend_declares_the_interface() -> None:
    assert list(backends.BACKENDS) == ["sockeye1", "sockeye3"] and backends.DEFAULT_BACKEND == "sockeye1"
    for name, module in backends.BACKENDS.items():
        assert module.NAME == name and set(module.KEYS) == {"python", "train", "without_dropout"}
        assert module.PYTHON_KEY == module.KEYS["python"]
        missing = [a for a in INTERFACE if not hasattr(module, a)] + [f for f in FUNCTIONS
                                                                     if not callable(getattr(module, f, None))]
        assert not missing, f"{name} lacks {missing}"
        assert (REPO / module.ENV_FILE).is_file() and (REPO / module.REQUIREMENTS).is_file() and module.ENTRY.is_file()
    for attribute in ("PYTHON_ENV", "VENV", "ENV_FILE", "LOG_VERSION", "CHECKPOINT_FLAG"):
        values = [getattr(m, attribute) for m in backends.BACKENDS.values()]
        assert len(set(values)) == len(values), attribute
    keys = [key for module in backends.BACKENDS.values() for key in module.KEYS.values()]
    assert len(set(keys)) == len(keys)
    assert [n for n, m in backends.BACKENDS.items() if m.GPU_CHECKED] == ["sockeye3"]
    # an architecture's flags belong to the backend that owns them: Sockeye 1.18's RNNs have a cell type
    assert backends.of_flags({"rnn-cell-type": "lstm"}) == "sockeye1"
    assert backends.of_flags({"transformer-model-size": 8}) == "sockeye3"
    assert backends.of_flags({"backend": "sockeye3", "rnn-cell-type": "lstm"}) == "sockeye3"


@pytest.mark.unit
def test_the_schema_documents_the_registry() -> None:
    """The schema file names every registered backend and each one's keys (so it needs no extension)."""
    schema = yaml.safe_load((REPO / "schemas/config.schema.yaml").read_text(encoding="utf-8"))
    assert schema["$defs"]["architecture"]["properties"]["backend"]["enum"] == list(backends.BACKENDS)
    for module in backends.BACKENDS.values():
        assert set(module.KEYS.values()) <= set(schema["properties"]) & set(schema["required"])
    assert backends.schema(schema) == schema


@pytest.mark.unit
def test_the_makefile_builds_each_backend_from_the_registry(tmp_path: Path) -> None:
    """`make setup` builds one environment per registered backend, from what its module declares."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "scripts")}
    printed = subprocess.run([sys.executable, "-m", "slkd.backends", "make"], env=env, capture_output=True,
                             text=True, check=True).stdout
    variables = dict(line.split(" := ", 1) for line in printed.splitlines())
    assert variables["BACKENDS"] == "sockeye1 sockeye3"
    for name, module in backends.BACKENDS.items():
        assert (variables[f"{name}_VENV"], variables[f"{name}_PACKAGE"], variables[f"{name}_PYTHON_KEY"]) == (
            module.VENV, module.PACKAGE, module.PYTHON_KEY)
        assert REPO / variables[f"{name}_ENTRY"] == module.ENTRY
    # the recipes that `make setup` would run from scratch: each backend's environment, built from its module
    dry = subprocess.run(["make", "-n", "-B", "setup", f"BACKENDS_MK={tmp_path / 'backends.mk'}"], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    for module in backends.BACKENDS.values():
        python = f"{module.VENV}/bin/python"
        assert f"{python} -m pip install --quiet -r {module.REQUIREMENTS}\n" in dry
        assert f"{python} -m pip install --quiet --no-deps {module.PACKAGE}\n" in dry
        assert f"{python} {module.ENTRY.relative_to(REPO)} --check\n" in dry


def code_strings(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string in a Python file's code: its docstrings and comments left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)
                  and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)}
    return [(node.lineno, node.value) for node in ast.walk(tree) if isinstance(node, ast.Constant)
            and isinstance(node.value, str) and id(node) not in docstrings]


def code_lines(path: Path) -> list[tuple[int, str]]:
    """(line, text) of a Snakemake or Make file without its comments and (Snakemake) its docstrings."""
    text = path.read_text(encoding="utf-8")
    if path.name != "Makefile":  # Snakemake: Python's tokens, less comments and the rules' docstrings
        kept: list[tuple[int, str]] = []
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.STRING and not token.string.startswith(('"""', "'''")):
                kept.append((token.start[0], token.string))
            elif token.type == tokenize.NAME:
                kept.append((token.start[0], token.string))
        return kept
    return [(i, line.split("#", 1)[0]) for i, line in enumerate(text.splitlines(), 1)]


@pytest.mark.unit
def test_no_backend_is_spelled_outside_its_module() -> None:
    """The workflow (Snakefile, rules, scripts, tools, Makefile) reads every backend's name, configuration keys
    and environment variable from the registry: none is spelled in its code (comments and docstrings aside)
    outside the backend's own module and the registry. Configuration (config.yaml, config/, the schema, the
    profiles), the environment files and the tests may spell them."""
    words = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, sorted(spellings(), key=len, reverse=True)))
                       + r")(?![\w-])")
    own = REPO / "scripts" / "slkd" / "backends"
    entries = {module.ENTRY for module in backends.BACKENDS.values()}  # each backend's entry point is its own
    python = [p for folder in ("scripts", "tools") for p in sorted((REPO / folder).rglob("*.py"))
              if own not in p.parents and p not in entries]
    others = [REPO / "Snakefile", REPO / "Makefile", *sorted((REPO / "rules").rglob("*.smk"))]
    found = [f"{path.relative_to(REPO)}:{line}: {match}"
             for path, texts in [*((p, code_strings(p)) for p in python), *((p, code_lines(p)) for p in others)]
             for line, text in texts for match in words.findall(text)]
    assert not found, "\n".join(found)
    assert len(python) > 40 and len(others) > 15  # the check reads the workflow, not an empty list


STANDIN = '''"""A stand-in trainer backend (tests/test_backends.py): Sockeye 1.18 under other names."""

from slkd.backends.sockeye1 import *  # noqa: F403
from slkd.backends.sockeye1 import KEYS as _KEYS

NAME = "standin"
TITLE = "Stand-in RNNs"
KEYS = {"python": "standin_python", "train": "standin_train", "without_dropout": "standin_no_dropout"}
PYTHON_KEY = KEYS["python"]
PYTHON_ENV = "SLKD_STANDIN_PYTHON"
assert _KEYS != KEYS
'''


@pytest.mark.plan
def test_a_third_backend_is_one_module_and_one_registry_line(tmp_path: Path) -> None:
    """A copy of the clone with a stand-in backend (one module, one line in the registry's MODULES) plans a
    student of a `backend: standin` architecture: its training and decoding run through the stand-in (the jobs'
    --backend, its interpreter in its own environment variable), its flags come from its own keys, and the
    configuration's other models are planned as without it."""
    clone = copy_clone(tmp_path / "clone")
    (clone / "scripts/slkd/backends/standin.py").write_text(STANDIN, encoding="utf-8")
    registry = clone / "scripts/slkd/backends/__init__.py"
    text = registry.read_text(encoding="utf-8")
    assert text.count('    "sockeye3",\n') == 1
    registry.write_text(text.replace('    "sockeye3",\n', '    "sockeye3",\n    "standin",\n'), "utf-8")
    tiny = yaml.safe_load(TINY.read_text(encoding="utf-8"))
    extra = {
        "architectures": {"S-SMALL": {**tiny["architectures"]["SMALL"], "backend": "standin"}},
        "standin_python": "/opt/standin/bin/python",
        "standin_train": {**tiny["sockeye_train"], "checkpoint-frequency": 10},
        "standin_no_dropout": {"rnn-dropout-inputs": "0:0"},
        "tables": {"table1": {**tiny["tables"]["table1"],
                              "columns": [*tiny["tables"]["table1"]["columns"],
                                          {"architecture": "S-SMALL", "dropout": False}]}},
    }
    (tmp_path / "standin.yaml").write_text(yaml.safe_dump(extra), encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    cmd = [str(SNAKEMAKE), "-n", "-p", "--snakefile", str(clone / "Snakefile"), "--directory", str(work),
           "--configfile", str(TINY), str(tmp_path / "standin.yaml"), "--cores", "2", "table1", "cost"]
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    student = "student/S-SMALL/baseline/nodropout/ckpt2/trial1"
    jobs = re.split(r"\n\s*rule ", proc.stdout)  # a dry run lists a model's group job's rules indented
    train = [b for b in jobs if b.startswith("train_student:") and f"{student}.done" in b]
    assert len(train) == 1
    command = train[0].split("Shell command: ", 1)[1].splitlines()[0]
    assert command.startswith("python -m train_model --backend standin --device auto --gpus 0")
    flags = json.loads(re.search(r"--flags '([^']*)'", command).group(1))
    assert flags["checkpoint-frequency"] == 10 and flags["max-updates"] == 2 * 10  # the stand-in's own train keys
    assert flags["rnn-dropout-inputs"] == "0:0" and flags["seed"] == 1
    decode = [b for b in jobs if b.startswith("translate_test:") and student in b]
    assert len(decode) == 1 and "python -m translate --backend standin" in decode[0]
    # the other students are Sockeye 1.18's, planned as without the stand-in
    assert "--backend sockeye1" in next(b for b in jobs if b.startswith("train_student:")
                                        and "student/SMALL/kd/dropout" in b)
    # a configuration that uses the stand-in without its keys is refused, naming them
    del extra["standin_python"]
    (tmp_path / "standin.yaml").write_text(yaml.safe_dump(extra), encoding="utf-8")
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "standin_python: required when a model uses backend standin" in proc.stdout + proc.stderr
