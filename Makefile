# The two commands a fresh machine needs (see README):
#   make lab    build and start the lab, converge site.yml on it, onboard tenants,
#               send a chat completion with a tenant key, run a short bench
#   make test   set up and run the whole test suite (what CI runs)
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help lab test lint unit docs changelog fork lab-down gke gke-down hetzner hetzner-down byo byo-down

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-13s %s\n", $$1, $$2}'

lab: ## main job on the lab inventory (the embedded default)
	@scripts/main.sh

test: ## the whole test suite, set-up included (== .ci/run); TIER=full adds every lab controller
	@LLM_PLATFORM_TEST_TIER=$(or $(TIER),core) scripts/test.sh

lint: ## static checks only
	@scripts/test.sh -m lint

unit: ## unit tests only (no lab, no services)
	@scripts/test.sh tests/unit

docs: ## regenerate docs/config-model.md and docs/roles.md
	@"$$(scripts/venv.sh)/bin/python" scripts/gen_docs.py

changelog: ## regenerate CHANGELOG.rst and changelogs/changelog.yaml from changelogs/fragments
	@"$$(scripts/venv.sh)/bin/python" scripts/changelog.py

fork: ## point the fork at its repository: make fork REPO=https://github.com/<org>/<repo>.git
	@"$$(scripts/venv.sh)/bin/python" scripts/fork.py "$(REPO)"

lab-down: ## stop the lab and everything the main job started
	@scripts/main.sh down

# Real clouds (docs/quickstart-gke.md, docs/quickstart-hetzner.md). INVENTORY=<dir> for your own
# inventory; the *-down targets ask for the cluster name (or CONFIRM=<cluster_name>).
gke: ## GKE: converge site.yml on inventories/gke (cluster, platform, tenants)
	@scripts/cloud.sh up gke

gke-down: ## GKE: ordered teardown of everything that bills, then an audit
	@scripts/cloud.sh down gke

hetzner: ## Hetzner: converge site.yml on inventories/hetzner (hcloud + k3s, platform, tenants)
	@scripts/cloud.sh up hetzner

hetzner-down: ## Hetzner: ordered teardown (hcloud servers; k3s off the GPU workers)
	@scripts/cloud.sh down hetzner

byo: ## your own cluster: doctor, then converge site.yml on inventories/byo
	@scripts/cloud.sh up byo

byo-down: ## your own cluster: remove only what the platform labelled
	@scripts/cloud.sh down byo
