# aiinfra — everything a fresh machine needs goes through these targets (Python 3.11 + make).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
UV     := $(VENV)/bin/uv
ENV    ?= dev
STAMP  := $(VENV)/.installed

.PHONY: setup preview test typecheck lint unit integration lock clean

# A venv with the pinned dependencies (requirements*.txt are the lock), bytecode precompiled
# (this machine sets PYTHONDONTWRITEBYTECODE), and this repo installed editable.
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(UV) pip install --quiet --python $(PY) --compile-bytecode -r requirements-dev.txt
	$(UV) pip install --quiet --python $(PY) --no-deps -e .
	touch $@

setup: $(STAMP)

## Offline preview of one environment: resource tree, policies, cost.  make preview ENV=prd
preview: $(STAMP)
	$(PY) -m stacks.preview $(ENV)

## Type check against the azure-native SDK's types, lint and format check (ruff), then the whole test suite: the
## unit tests (in this process, under a minute) and the integration tests (programs in their own processes, the CLI,
## the pack over gRPC, the wheel in a fresh venv, pyright on a user's program, the pipelines' scripts, the benchmark).
test: typecheck lint unit integration

typecheck: $(STAMP)
	$(VENV)/bin/pyright

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Both cores (pytest-xdist). `pytest` alone still runs everything in one process.
unit: $(STAMP)
	$(PY) -m pytest -q -n 2 -m "not integration"

integration: $(STAMP)
	$(PY) -m pytest -q -n 2 -m integration

## Regenerate the architecture diagram of prd (docs/architecture-prd.md, Mermaid GitHub renders); a test fails when
## the committed one is stale.
.PHONY: diagram
diagram: $(STAMP)
	$(PY) -m stacks.preview prd --quiet --no-policies --diagram docs/architecture-prd.md > /dev/null

## Regenerate README.md's generated sections (environment costs, dev idle, prd diagram, policy table).
.PHONY: readme
readme: $(STAMP)
	$(PY) -m tools.readme

## Measure the preview (dev/test/prd with policies, against a flat baseline, growing to 50 workspaces, the policy
## pack alone; times and peak memory) and write docs/benchmarks.md with the machine it ran on. A few minutes.
.PHONY: bench
bench: $(STAMP)
	$(PY) -m bench.benchmark --out docs/benchmarks.md

## Re-pin dependencies after editing pyproject.toml.
lock: $(STAMP)
	$(UV) pip compile pyproject.toml -q --no-header --annotation-style line -o requirements.txt
	$(UV) pip compile pyproject.toml --group dev -q --no-header --annotation-style line -o requirements-dev.txt

## Fill the args tables of docs/components/*.md from the args models; a test fails when a page is stale.
.PHONY: docs
docs: $(STAMP)
	$(PY) -m tools.component_docs

clean:
	rm -rf $(VENV) .pytest_cache
