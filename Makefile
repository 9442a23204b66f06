# kubepci — PCI container-orchestration guidance, Section 1 (Authentication),
# audited on a live Kubernetes cluster.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CONFIG ?= kind-configs/compliant.yaml
OUT ?= out

.PHONY: help venv deps lint unit cluster-tests test k8s cluster-up cluster-down audit evidence bench mutation clean
.PHONY: kind-image kind-tests

help:
	@echo "make audit         bring up the local compliant cluster and write its evidence to $(OUT)/"
	@echo "make test          lint + unit tests + the suite proven on both local clusters"
	@echo "make k8s           build Kubernetes, etcd and containerd from the Go module proxy (cached)"
	@echo "make cluster-up    CONFIG=kind-configs/<profile>.yaml: bring up a local cluster"
	@echo "make cluster-down  remove the local cluster"
	@echo "make kind-image    build kind's node image here (PROVIDER=kind cluster-up builds it too)"
	@echo "make kind-tests    each kind profile in turn: kind create, cluster tests, delete"
	@echo "make bench         scale benchmark against the local cluster"
	@echo "make mutation      mutation testing of kubepci/analysis: tests/mutation/RESULTS.md"

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy kubepci tests_pci
	$(VENV)/bin/lint-imports

# The unit tier alone must cover the judging rules and the checks (coverage run, not
# pytest-cov: the kubepci plugin imports the analysis modules before pytest-cov starts).
unit: venv
	$(VENV)/bin/coverage run --source=kubepci/analysis,tests_pci -m pytest tests/unit -q
	$(VENV)/bin/coverage report --fail-under=95 --skip-covered

k8s:
	harness/build-k8s.sh

# PROVIDER=harness (default): kubeadm on this host, no Docker. PROVIDER=kind: `kind create
# cluster --config $(CONFIG)` on Docker, with the same fixtures (harness/kind_cluster.py).
PROVIDER ?= harness
# A kind cluster from a node image of kind's own (KIND_NODE_IMAGE) needs no `make k8s`.
cluster-up: venv $(if $(and $(filter kind,$(PROVIDER)),$(KIND_NODE_IMAGE)),,k8s)
	@if [ "$(PROVIDER)" = kind ]; then $(PY) -m harness.kind_cluster up $(CONFIG); \
	elif [ "$(PROVIDER)" = harness ]; then $(PY) -m harness.cluster_up $(CONFIG); \
	else echo "PROVIDER must be harness or kind, not $(PROVIDER)" >&2; exit 4; fi

# Either provider's cluster, whichever is recorded as up.
cluster-down: venv
	$(PY) -m harness.cluster_down

# kind's node image, built here from Debian packages and the binaries of `make k8s`
# (harness/kind_image.py; cached, a warm run is a no-op). Installs docker.io if needed.
kind-image: venv k8s
	$(PY) -m harness.kind_image

# Each kind profile in turn: create it with kind, prove the suite on it, delete it.
# Part of `make test`, after the harness profiles. Restores nothing: bring the harness cluster back
# yourself if you need it.
KIND_PROFILES ?= noncompliant compliant multinode
KIND_TESTS ?= tests/cluster/test_kind_verdicts.py tests/cluster/test_kind_multinode.py
kind-tests: venv kind-image
	@rc=0; for profile in $(KIND_PROFILES); do \
	  echo "=== kind: cluster tests on the $$profile profile ==="; \
	  $(PY) -m harness.kind_cluster up kind-configs/$$profile.yaml || { rc=1; break; }; \
	  $(VENV)/bin/pytest $(KIND_TESTS) -p no:cacheprovider -q -rfE || rc=1; \
	done; $(PY) -m harness.kind_cluster down || rc=1; exit $$rc

# Browser for the report-rendering test; the harness installs its own packages.
deps:
	@command -v chromium >/dev/null || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }

# Every profile in turn: bring it up from its kind config, prove the suite on it, then
# take it down. A profile that cannot be brought up fails the run (no skipping).
PROFILES ?= noncompliant compliant
cluster-tests: venv k8s deps
	@rc=0; for profile in $(PROFILES); do \
	  echo "=== cluster tests on the $$profile profile ==="; \
	  $(PY) -m harness.cluster_up kind-configs/$$profile.yaml || { rc=1; break; }; \
	  $(VENV)/bin/pytest tests/cluster -p no:cacheprovider -q -rfE || rc=1; \
	done; $(PY) -m harness.cluster_down || rc=1; exit $$rc

test: lint unit cluster-tests kind-tests

# The main job: audit the local compliant cluster (brought up, or reused if it is already
# the one up) and keep the evidence for an assessor: $(OUT)/report.html, $(OUT)/junit.xml
# and $(OUT)/evidence/ (results.json, the raw exports judged from, manifest.json with
# SHA-256). With KUBECONFIG=PATH it audits that cluster instead.
audit: venv
	@set -o pipefail; kc="$${KUBECONFIG:-}"; local_args=""; \
	if [ -z "$$kc" ]; then \
	  state=$$HOME/.cache/kubepci/clusters/current.env; \
	  if [ "$$(sed -n 's/^PROFILE=//p' "$$state" 2>/dev/null)" != compliant ]; then \
	    { harness/build-k8s.sh >/dev/null && \
	      $(PY) -m harness.cluster_up kind-configs/compliant.yaml; } || exit $$?; \
	  fi; \
	  kc=$$(sed -n 's/^KUBECONFIG=//p' "$$state"); local_args="--node-root /"; \
	fi; \
	mkdir -p $(OUT); rm -rf $(OUT)/report.html $(OUT)/junit.xml $(OUT)/evidence; \
	$(VENV)/bin/kubepci -p no:cacheprovider --kubeconfig="$$kc" $$local_args -n auto \
	  --html=$(OUT)/report.html --self-contained-html --junitxml=$(OUT)/junit.xml \
	  --evidence-dir=$(OUT)/evidence; rc=$$?; \
	echo "evidence: $(OUT)/report.html $(OUT)/junit.xml $(OUT)/evidence/ (exit $$rc)"; exit $$rc

evidence: audit

# Scale benchmark against the local cluster (the compliant one is brought up if none is):
# SIZES="1000 5000 10000" pod counts, other kinds in proportion (SIZES=none: axes only);
# NODES=1000 fake nodes on loopback and SERVICES=1000 Services with endpoints (0: skip an
# axis), each against a curl sweep of the same probes; writes bench/RESULTS.md.
bench: venv deps
	@$(PY) -c 'import sys; from harness import cluster_state; \
	  sys.exit(0 if cluster_state.read().get("KUBECONFIG") else 1)' || \
	  { $(MAKE) --no-print-directory k8s && $(PY) -m harness.cluster_up kind-configs/compliant.yaml; }
	$(PY) -m bench --sizes "$(or $(SIZES),1000 5000 10000)" \
	  --nodes "$(or $(NODES),1000)" --services "$(or $(SERVICES),1000)"

# Mutation testing of kubepci/analysis and the verdict mapping against the unit tier
# (mutmut, [tool.mutmut] in pyproject.toml; not part of `make test`): writes
# tests/mutation/RESULTS.md. MODULES="authorizer flags" runs those only; a run resumes
# (killed mutants of unchanged modules are kept), MUTATION_ARGS=--rerun runs all again.
mutation: venv
	$(PY) -m tests.mutation --jobs $(or $(MUTATION_JOBS),2) $(MUTATION_ARGS) $(MODULES)

# The release artifacts in dist/: an sdist, and a wheel built from that sdist (so the sdist
# is proven complete). The CI examples install a pinned archive of the repository instead.
.PHONY: dist
dist: venv
	$(PY) -m build --outdir dist .

clean:
	rm -rf $(OUT) .pytest_cache
