# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight rules for the tenants list (PRIVATE to this collection). Each rule id is
documented in config_model.yml."""

from __future__ import annotations

from .formats import DNS_LABEL, WINDOW, duplicates, is_dns_label, is_int, is_num, is_window, names_of, physical_gpus
from .registry import rule
from .view import INVALID, P, skip_unknown

# The tenant name becomes a namespace and prefixes LiteLLM ids and key aliases
# such as <tenant>-default: keep room under the 63-character label limit.
MAX_TENANT_NAME = 40
MAX_KEY_NAME = 20
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
# Namespaces the platform itself deploys into (gitops/app-of-apps/templates/apps-*.yaml).
PLATFORM_NAMESPACES = (
    "argocd",
    "external-secrets",
    "kueue-system",
    "keda",
    "monitoring",
    "gpu-operator",
    "gke-managed-system",
    "kserve",
    "serving",
    "inference",
    "agentgateway-system",
    "cnpg-system",
    "litellm",
)


@rule("tenants.names")
def tenant_names(cfg, err):
    for path, tenant in cfg.items("tenants"):
        name = tenant.get("name")
        if isinstance(name, str) and not is_dns_label(name, MAX_TENANT_NAME):
            err(
                path("name"),
                name,
                "%s, at most %d characters (it names a namespace and prefixes LiteLLM ids)" % (DNS_LABEL, MAX_TENANT_NAME),
            )
    values = [t.get("name") if isinstance(t, dict) else INVALID for t in cfg.get("tenants") or []]
    for value, index in duplicates(values):
        err(P("tenants", index, "name"), value, "unique tenant names")


@rule("tenants.namespace_collision", each="tenants")
def namespace_collision(cfg, path, tenant, err):
    name = tenant.get("name")
    if not isinstance(name, str):
        return
    taken = {n: "a Kubernetes system namespace" for n in SYSTEM_NAMESPACES}
    taken.update({n: "a namespace the platform deploys into" for n in PLATFORM_NAMESPACES})
    for var, default in (("secret_kubernetes_namespace", "platform-secrets"), ("bench_job_namespace", "bench")):
        value = cfg.get(var, default)
        if isinstance(value, str):
            taken[value] = "the namespace of %s" % var
    if name in taken:
        err(path("name"), name, "a name that is not %s (%s): the tenant's namespace and key Secrets would land in it" % (taken[name], name))


@rule("tenants.models_exist", each="tenants")
def models_exist(cfg, path, tenant, err):
    names, complete = names_of(cfg, "models")
    for index, model in enumerate(tenant.get("models") or []):
        with skip_unknown:
            if isinstance(model, str) and model not in names and complete:
                err(path("models", index), model, "a model name from models: %s" % ", ".join(sorted(names)))


@rule("tenants.budget", each="tenants")
def budget(cfg, path, tenant, err):
    budget = tenant.get("budget")
    if not isinstance(budget, dict):
        return
    if is_num(budget.get("max_usd")) and budget["max_usd"] < 0:
        err(path("budget", "max_usd"), budget["max_usd"], "a budget >= 0 (USD)")
    if isinstance(budget.get("window"), str) and not is_window(budget["window"]):
        err(path("budget", "window"), budget["window"], WINDOW)


@rule("tenants.rate_limits", each="tenants")
def rate_limits(cfg, path, tenant, err):
    for key in ("rpm_limit", "tpm_limit"):
        if is_int(tenant.get(key)) and tenant[key] < 1:
            err(path(key), tenant[key], "an integer >= 1 (omit it for no limit)")


@rule("tenants.gpu_queue_within_quota", each="tenants")
def gpu_queue_within_quota(cfg, path, tenant, err):
    queue = tenant.get("gpu_queue")
    gpus = queue.get("gpus") if isinstance(queue, dict) else None
    if not is_int(gpus):
        return
    fleet = physical_gpus(cfg)
    quota = cfg.get("platform_gpu_quota", 0)
    limit = quota if is_int(quota) and 0 < quota <= fleet else fleet
    if gpus < 0 or gpus > limit:
        what = "platform_gpu_quota" if limit != fleet else "the GPUs in gpu_pools at max_nodes"
        err(path("gpu_queue", "gpus"), gpus, "0 to %d (%s: the ClusterQueue every LocalQueue borrows from)" % (limit, what))


@rule("tenants.keys", each="tenants")
def keys(cfg, path, tenant, err):
    items = tenant.get("keys") or []
    if not isinstance(items, list):
        return
    for index, key in enumerate(items):
        with skip_unknown:
            if isinstance(key, dict) and isinstance(key.get("name"), str) and not is_dns_label(key["name"], MAX_KEY_NAME):
                err(path("keys", index, "name"), key["name"], "%s, at most %d characters" % (DNS_LABEL, MAX_KEY_NAME))
    values = [k.get("name") if isinstance(k, dict) else INVALID for k in items]
    for value, index in duplicates(values):
        err(path("keys", index, "name"), value, "unique key names per tenant")
    own = tenant.get("models") or []
    for index, key in enumerate(items):
        with skip_unknown:
            for j, model in enumerate(key.get("models") or [] if isinstance(key, dict) else []):
                with skip_unknown:
                    if isinstance(model, str) and model not in own:
                        err(path("keys", index, "models", j), model, "one of the tenant's models: %s" % ", ".join(map(str, own)))


@rule("tenants.key_budget_within_tenant", each="tenants")
def key_budget_within_tenant(cfg, path, tenant, err):
    budget = tenant.get("budget")
    limit = budget.get("max_usd") if isinstance(budget, dict) else None
    for index, key in enumerate(tenant.get("keys") or []):
        with skip_unknown:
            value = key.get("max_usd") if isinstance(key, dict) else None
            if not is_num(value):
                continue
            if value < 0:
                err(path("keys", index, "max_usd"), value, "a budget >= 0 (USD)")
            elif is_num(limit) and value > limit:
                err(
                    path("keys", index, "max_usd"),
                    value,
                    "at most %s, the tenant's budget.max_usd (LiteLLM stops the team first; a larger key budget never applies)" % limit,
                )


@rule("tenants.key_alias_collision")
def key_alias_collision(cfg, err):
    seen = {}
    for path, tenant in cfg.items("tenants"):
        name = tenant.get("name")
        if not isinstance(name, str):
            continue
        items = tenant.get("keys") or [{"name": "default"}]
        for index, key in enumerate(items if isinstance(items, list) else []):
            key_name = key.get("name") if isinstance(key, dict) else None
            if not isinstance(key_name, str):
                continue
            alias = "%s-%s" % (name, key_name)
            explicit = bool(tenant.get("keys"))
            where = path("keys", index, "name") if explicit else path("name")
            if alias in seen and seen[alias][0] != name:
                err(
                    where,
                    key_name if explicit else name,
                    "a name whose LiteLLM key alias %r no other tenant's key has (%s derives it too)" % (alias, seen[alias][1]),
                )
            seen.setdefault(alias, (name, str(where)))
