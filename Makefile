# Every target sets itself up on a fresh machine: `make demo` and `make test` create .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The one place torch is pinned. 2.13.0 is the CPU build the package index here holds; a looser
# requirement makes pip fetch a newer CUDA build of several GB. It is installed before anything
# that depends on torch, so later requirements it satisfies install nothing more.
TORCH_PIN := torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast bench lint format results clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "$(TORCH_PIN)"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/radiogenomics demo

# --dist loadscope: each module's tests on one worker, so a module-scoped fixture (a trained
# study, the local Ray cluster) is built once, not once per worker. (xdist_group marks would be
# finer, but pytest 9 ignores the node id suffix xdist 3.8 groups them by.)
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadscope

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadscope -m "not slow"

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

results: $(STAMP)
	$(BIN)/python scripts/make_results.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts

format: $(STAMP)
	$(BIN)/ruff check --fix src tests benchmarks scripts
	$(BIN)/ruff format src tests benchmarks scripts

# What the targets build, and caches; not runs/, which holds the studies' outputs and the cache
# `make results` renders docs/results.md from (hours of computing): delete those by hand.
clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build dist src/*.egg-info
	find src tests benchmarks scripts -name __pycache__ -type d -prune -exec rm -rf {} +
