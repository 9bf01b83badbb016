# slkd-workflow: two commands do everything on a fresh machine.
#   make demo   set up, then run the workflow's main job on the embedded synthetic corpus
#   make test   set up, then run the test suite
#   make test-fast   the same, less the tests that run workflow jobs or Sockeye or need SLURM (pytest.ini's tiers)
# Set-up is idempotent: environments are (re)built only when their requirement files change.

PYTHON      ?= python3
VENV        := .venv
WF_PY       := $(VENV)/bin/python
SNAKEMAKE   := $(VENV)/bin/snakemake
# `make demo` uses every core of the machine: as many jobs side by side, one trainer thread each (config/demo.yaml
# compute.threads: at the demo's sizes MXNet keeps about one core busy per job, and the demo has dozens of
# independent students to fill the others). `make demo CORES=2` reproduces the measured runs (docs/demo/notes.md).
CORES       ?= $(shell nproc 2>/dev/null || echo 2)
PYTEST_ARGS ?=

export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup demo demo-readme config-reference test test-fast lint dag clean-demo setup-gpu gpu-wheels

# The trainer backends' environments, as their modules declare them (scripts/slkd/backends/): BACKENDS and, per
# backend, <name>_VENV, _REQUIREMENTS, _PACKAGE (Sockeye, installed with --no-deps: its own pins no longer
# install), _ENTRY (its entry point, whose --check must pass) and _PYTHON_KEY (its interpreter's configuration key)
BACKENDS_MK := .snakemake/backends.mk
$(BACKENDS_MK): $(wildcard scripts/slkd/backends/*.py)
	mkdir -p $(@D)
	PYTHONPATH=scripts $(PYTHON) -m slkd.backends make > $@
include $(BACKENDS_MK)
backend_python = $($(1)_VENV)/bin/python

setup: $(VENV)/.installed $(foreach b,$(BACKENDS),$($(b)_VENV)/.installed)

$(VENV)/.installed: envs/requirements-workflow.txt
	test -x $(WF_PY) || $(PYTHON) -m venv $(VENV)
	$(WF_PY) -m pip install --quiet --upgrade pip
	$(WF_PY) -m pip install --quiet -r envs/requirements-workflow.txt
	touch $@

define backend_env
$($(1)_VENV)/.installed: $($(1)_REQUIREMENTS)
	test -x $(call backend_python,$(1)) || $(PYTHON) -m venv $($(1)_VENV)
	$(call backend_python,$(1)) -m pip install --quiet --upgrade pip
	$(call backend_python,$(1)) -m pip install --quiet -r $($(1)_REQUIREMENTS)
	$(call backend_python,$(1)) -m pip install --quiet --no-deps $($(1)_PACKAGE)
	$(call backend_python,$(1)) $($(1)_ENTRY) --check
	touch $$@
endef
$(foreach b,$(BACKENDS),$(eval $(call backend_env,$(b))))

# GPU nodes only (not part of `make test`: the wheels are several GB). MXNet 1.9.1's CUDA 11.7 build and the
# CUDA libraries it links; `--check` fails if ldd finds any of them missing. Then run with
#   --config sockeye_python=$(GPU_ENV)/bin/sockeye-python
setup-gpu: $(GPU_ENV)/.installed

# (GPU_ENV, GPU_REQUIREMENTS and GPU_BACKEND come from the backend that declares a GPU build: its GPU_VENV.)
$(GPU_ENV)/.installed: $(GPU_REQUIREMENTS) envs/sockeye-gpu-python
	test -x $(GPU_ENV)/bin/python || $(PYTHON) -m venv $(GPU_ENV)
	$(GPU_ENV)/bin/python -m pip install --quiet --upgrade pip
	$(GPU_ENV)/bin/python -m pip install --quiet -r $(GPU_REQUIREMENTS)
	$(GPU_ENV)/bin/python -m pip install --quiet --no-deps $($(GPU_BACKEND)_PACKAGE)
	install -m 755 envs/sockeye-gpu-python $(GPU_ENV)/bin/sockeye-python
	$(GPU_ENV)/bin/sockeye-python $($(GPU_BACKEND)_ENTRY) --check
	touch $@

DEMO_ARGS = --configfile config/demo.yaml \
	--config $(foreach b,$(BACKENDS),$($(b)_PYTHON_KEY)="$(CURDIR)/$(call backend_python,$(b))")

demo: setup
	$(SNAKEMAKE) --profile profiles/local $(DEMO_ARGS) --cores $(CORES) demo
	$(SNAKEMAKE) $(DEMO_ARGS) --report demo/results/report.html demo
	@echo; cat demo/results/table2.md; echo; cat demo/results/table3.md; echo; cat demo/results/claims.md
	@echo; $(WF_PY) tools/demo_readme.py compare || true
	@echo; echo "Figures: demo/results/figures/  Report: demo/results/report.html"

# The README's demo results from the last `make demo`: its tables, claims and figures copied to docs/demo/ (with
# its time, cores and curves in docs/demo/run.json), and the README's section rewritten from them
# (tools/demo_readme.py; tests/test_demo_readme.py fails when the two differ).
demo-readme: setup
	$(WF_PY) tools/demo_readme.py collect
	$(WF_PY) tools/demo_readme.py render

# docs/configuration.md, the configuration reference, written from schemas/config.schema.yaml and config.yaml's
# values (tools/config_reference.py; `--check` only compares, tests/test_docs.py fails when they differ).
config-reference: setup
	$(WF_PY) tools/config_reference.py

# The demo's rule graph and job DAG as SVG (needs Graphviz's dot); the paper's: add CONFIG= (empty).
CONFIG ?= --configfile config/demo.yaml
dag: setup
	@command -v dot >/dev/null || { echo "make dag needs Graphviz's dot (Debian: apt-get install graphviz)" >&2; exit 1; }
	mkdir -p demo
	$(SNAKEMAKE) $(CONFIG) --rulegraph demo | dot -Tsvg > demo/rulegraph.svg
	$(SNAKEMAKE) $(CONFIG) --dag demo | dot -Tsvg > demo/dag.svg
	@echo "demo/rulegraph.svg demo/dag.svg"

clean-demo:
	rm -rf demo

test: setup
	$(WF_PY) -m pytest $(PYTEST_ARGS)

# The edit loop's tiers (pytest.ini): pure Python and Snakemake's plans, no job and no Sockeye run.
test-fast: setup
	$(WF_PY) -m pytest -m "unit or plan" $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check scripts tests bench tools
	$(SNAKEMAKE) --lint --configfile config/demo.yaml

# The GPU check's wheels (bench/GPU.md): Python 3.12 wheels for the offline GPU node, into bench/gpu-wheels/.
gpu-wheels:
	bash bench/gpu-wheels.sh
