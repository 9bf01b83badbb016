#!/usr/bin/env bash
# The wheels that bench/gpu and bench/gpu-tatoeba install offline on the GPU node (Python 3.12, x86_64, torch
# preinstalled there): the workflow (Snakemake 9.27.1 and its dependencies, sacrebleu, subword-nmt, jsonschema,
# pyyaml, and sacremoses, which Moses-tokenizes config/gpu-tatoeba.yaml's raw text) and Sockeye 3.1.34 without its
# dependencies (its torch 1.13 pin is ignored; the node's torch serves it) plus numpy and portalocker, which torch
# does not bring. No pandas/matplotlib (table3 does not need them; scripts/tables.py imports neither; Figure 1 in
# bench/gpu-tatoeba uses the node's own), no executor plugins (the local executor is built in), no pytest.
#
#   bash bench/gpu-wheels.sh [DIR]        default DIR: bench/gpu-wheels (gitignored; the device run carries it)
#
# Then trimmed: pulp (Snakemake's ILP scheduler, ~17 MB with its bundled CBC solver) is replaced by nothing:
# bench/gpu runs `--scheduler greedy`, and Snakemake imports pulp only for the ILP scheduler.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-bench/gpu-wheels}
PY=${PYTHON:-python3}
mkdir -p "$DIR"
common=(--only-binary=:all: --python-version 3.12 --implementation cp --abi cp312
        --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64
        --platform any -d "$DIR" --quiet)
# pure-Python dependencies that PyPI has as source only: built into py3-none-any wheels here
SDIST_ONLY=(connection_pool==0.0.3)
"$PY" -m pip wheel --no-deps --quiet -w "$DIR" "${SDIST_ONLY[@]}"
"$PY" -m pip download "${common[@]}" --find-links "$DIR" \
    snakemake==9.27.1 sacrebleu==2.6.0 subword-nmt==0.3.8 jsonschema==4.26.0 pyyaml==6.0.4 \
    numpy==2.4.6 portalocker==2.10.1 sacremoses==0.2.0
"$PY" -m pip download "${common[@]}" --no-deps sockeye==3.1.34
rm -f "$DIR"/pulp-*.whl "$DIR"/PuLP-*.whl  # bench/gpu installs the folder with --no-deps
du -sh "$DIR"
ls "$DIR" | wc -l
