# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight rules for the tenants list (PRIVATE to this collection)."""

from __future__ import annotations

from .formats import DNS_LABEL, WINDOW, duplicates, is_dns_label, is_window, named

# The tenant name becomes a namespace and prefixes LiteLLM ids and key aliases
# such as <tenant>-default: keep room under the 63-character label limit.
MAX_TENANT_NAME = 40
RESERVED = ("default", "kube-system", "kube-public", "kube-node-lease")


def check(cfg, err):
    tenants = named(cfg, "tenants")
    model_names = {m.get("name") for _path, m in named(cfg, "models")}
    names = [t.get("name") for _path, t in tenants]
    for name in duplicates(names):
        err("tenants[%d].name" % names.index(name, names.index(name) + 1), name, "unique tenant names")
    fleet = sum(p.get("gpus_per_node", 0) * p.get("max_nodes", 0) for _path, p in named(cfg, "gpu_pools"))
    for i, tenant in tenants:
        path = "tenants[%d]" % i
        name = tenant.get("name")
        if name is not None and (not is_dns_label(name, MAX_TENANT_NAME) or name in RESERVED):
            err(path + ".name", name, "%s, at most %d characters, not a system namespace" % (DNS_LABEL, MAX_TENANT_NAME))
        for j, model in enumerate(tenant.get("models") or []):
            if model not in model_names:
                err("%s.models[%d]" % (path, j), model, "a model name from models: %s" % ", ".join(sorted(map(str, model_names))))
        budget = tenant.get("budget") or {}
        if isinstance(budget.get("max_usd"), (int, float)) and budget["max_usd"] < 0:
            err(path + ".budget.max_usd", budget["max_usd"], "a budget >= 0 (USD)")
        if "window" in budget and not is_window(budget["window"]):
            err(path + ".budget.window", budget["window"], WINDOW)
        for key in ("rpm_limit", "tpm_limit"):
            if isinstance(tenant.get(key), int) and tenant[key] < 1:
                err("%s.%s" % (path, key), tenant[key], "an integer >= 1 (omit it for no limit)")
        gpus = (tenant.get("gpu_queue") or {}).get("gpus")
        if isinstance(gpus, int) and (gpus < 0 or gpus > fleet):
            err(path + ".gpu_queue.gpus", gpus, "0 to %d (the GPUs in gpu_pools at max_nodes)" % fleet)
        _keys(err, path, tenant)


def _keys(err, path, tenant):
    keys = [k for k in tenant.get("keys") or [] if isinstance(k, dict)]
    key_names = [k.get("name") for k in keys]
    for name in duplicates(key_names):
        err("%s.keys[%d].name" % (path, key_names.index(name, key_names.index(name) + 1)), name, "unique key names per tenant")
    for j, key in enumerate(keys):
        if "name" in key and not is_dns_label(key["name"], 20):
            err("%s.keys[%d].name" % (path, j), key["name"], DNS_LABEL + ", at most 20 characters")
        for k, model in enumerate(key.get("models") or []):
            if model not in (tenant.get("models") or []):
                err("%s.keys[%d].models[%d]" % (path, j, k), model, "one of the tenant's models")
        if isinstance(key.get("max_usd"), (int, float)) and key["max_usd"] < 0:
            err("%s.keys[%d].max_usd" % (path, j), key["max_usd"], "a budget >= 0 (USD)")
