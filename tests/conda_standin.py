"""A stand-in for the `conda` command, for the tests of the conda route on machines without conda (this project's
and CI's: conda is on neither PyPI nor Debian). It answers what Snakemake asks of conda (`conda info --json`,
`conda --version`, the channel priority), and `conda env create --file F --prefix P` makes P a link to the
environment that `make setup` built from the same pins (tests/test_project.py keeps envs/*.yaml and
envs/requirements-*.txt equal), chosen by the file's `name:`. Snakemake then activates P (`source
<root>/bin/activate P`) and runs the environment's post-deploy script in it as with real conda.

    install(root, {"slkd-sockeye": ".venv-sockeye", ...}) -> root/bin, to put first on PATH
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

import yaml

VERSION = "24.11.3"  # at least Snakemake's minimum (24.7.1)


def install(root: Path, envs: dict[str, Path]) -> Path:
    """Write root/bin/conda (this module, with the name -> environment map) and root/bin/activate; root/bin."""
    bin_dir = root / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    (root / "envs.json").write_text(json.dumps({name: str(path) for name, path in envs.items()}))
    conda = bin_dir / "conda"
    conda.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} {shlex.quote(__file__)}"
                     f" {shlex.quote(str(root))} \"$@\"\n")
    conda.chmod(0o755)
    (bin_dir / "activate").write_text('export CONDA_PREFIX="$1"\nexport PATH="$1/bin:$PATH"\n')
    return bin_dir


def main(argv: list[str]) -> int:
    root, args = Path(argv[0]), argv[1:]
    with open(root / "calls.log", "a", encoding="utf-8") as log:
        log.write(shlex.join(args) + "\n")
    if args == ["info", "--json"]:
        print(json.dumps({"conda_prefix": str(root), "platform": "linux-64", "envs_dirs": [str(root / "envs")]}))
    elif args == ["--version"]:
        print(f"conda {VERSION}")
    elif args == ["config", "--get", "channel_priority", "--json"]:
        print(json.dumps({"get": {"channel_priority": "strict"}}))
    elif args[:2] == ["env", "create"] and "--file" in args and "--prefix" in args:
        spec = yaml.safe_load(Path(args[args.index("--file") + 1]).read_text(encoding="utf-8"))
        envs = json.loads((root / "envs.json").read_text())
        if spec.get("name") not in envs:
            print(f"conda stand-in: no environment for name {spec.get('name')!r}", file=sys.stderr)
            return 1
        os.symlink(envs[spec["name"]], args[args.index("--prefix") + 1], target_is_directory=True)
    elif args[:1] == ["clean"]:  # the package cache of a real conda; the stand-in keeps none
        pass
    else:
        print(f"conda stand-in: not supported: conda {shlex.join(args)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
