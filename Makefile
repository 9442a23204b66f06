# kubepci — PCI container-orchestration guidance, Section 1 (Authentication),
# audited on a live Kubernetes cluster.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CONFIG ?= kind-configs/compliant.yaml
OUT ?= out

.PHONY: help venv lint unit cluster-tests test k8s cluster-up cluster-down audit evidence bench clean

help:
	@echo "make audit         bring up the local compliant cluster and write its evidence to $(OUT)/"
	@echo "make test          lint + unit tests + the suite proven on both local clusters"
	@echo "make k8s           build Kubernetes, etcd and containerd from the Go module proxy (cached)"
	@echo "make cluster-up    CONFIG=kind-configs/<profile>.yaml: bring up a local cluster"
	@echo "make cluster-down  remove the local cluster"
	@echo "make bench         scale benchmark against the local cluster"

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

unit: venv
	$(VENV)/bin/pytest tests/unit -q

k8s:
	harness/build-k8s.sh

cluster-up: venv k8s
	$(PY) -m harness.cluster_up $(CONFIG)

cluster-down: venv
	$(PY) -m harness.cluster_down

cluster-tests: venv k8s
	$(VENV)/bin/pytest tests/cluster -q

test: lint unit cluster-tests

clean:
	rm -rf $(OUT) .pytest_cache
