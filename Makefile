# The two commands a fresh machine needs (see README):
#   make lab    build and start the lab, converge site.yml on it, onboard tenants,
#               send a chat completion with a tenant key, run a short bench
#   make test   set up and run the whole test suite (what CI runs)
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help lab test lint unit docs lab-down

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

lab: ## main job on the lab inventory (the embedded default)
	@scripts/main.sh

test: ## the whole test suite, set-up included (== .ci/run)
	@scripts/test.sh

lint: ## static checks only
	@scripts/test.sh -m lint

unit: ## unit tests only (no lab, no services)
	@scripts/test.sh tests/unit

docs: ## regenerate docs/config-model.md and docs/roles.md
	@"$$(scripts/venv.sh)/bin/python" scripts/gen_docs.py

lab-down: ## stop the lab and everything the main job started
	@scripts/main.sh down
