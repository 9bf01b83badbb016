#!/usr/bin/env bash
# Run by Snakemake (--sdm conda) right after it creates envs/sockeye3.yaml's environment.
set -euo pipefail
"$CONDA_PREFIX/bin/python" -m pip install --no-deps sockeye==3.1.34
