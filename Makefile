# azml2aks — every target creates .venv and installs what it needs first.
#   make demo    the whole product on this machine (local backend)
#   make test    the offline test suite
#   make bench   benchmarks (ratios measured side by side; never part of the tests)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIPELINE ?= examples/wine-classification/pipeline.yaml

.PHONY: venv test lint bench demo demo-down clean train register package deploy infra doctor attach

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

test: venv
	$(BIN)/python -m pytest -q

lint: venv
	$(BIN)/ruff check azml2aks tests bench examples scripts
	$(BIN)/lint-imports

bench: venv
	$(BIN)/python -m bench

demo: venv
	$(BIN)/python examples/demo.py

demo-down: venv
	$(BIN)/azml2aks local down $(PIPELINE) --backend local --workdir $(dir $(PIPELINE)).azml2aks-demo

# One stage at a time (PIPELINE=... BACKEND=azure to point elsewhere).
BACKEND ?= local
train register package deploy: venv
	$(BIN)/azml2aks $@ $(PIPELINE) --backend $(BACKEND)

# The AKS side (Azure only): `make infra ENV=dev` applies infra/dev.yaml (INFRA=plan only shows
# the changes); `make doctor|attach PIPELINE=...` preflight and attach that pipeline's cluster.
ENV   ?= dev
INFRA ?= up
infra: venv
	$(BIN)/azml2aks infra $(INFRA) infra/$(ENV).yaml

doctor attach: venv
	$(BIN)/azml2aks $@ $(PIPELINE) --backend azure

clean:
	rm -rf build .pytest_cache examples/*/.azml2aks examples/*/build
