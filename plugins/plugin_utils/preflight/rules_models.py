# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight rules for the models list (PRIVATE to this collection)."""

from __future__ import annotations

from .formats import DNS_LABEL, DNS_SUBDOMAIN, QUANTITY, duplicates, is_dns_label, is_dns_subdomain, is_quantity, named

SOURCE_SCHEMES = ("hf://", "pvc://", "oci://")


def check(cfg, err):
    models = named(cfg, "models")
    names = [m.get("name") for _path, m in models]
    for name in duplicates(names):
        err("models[%d].name" % names.index(name, names.index(name) + 1), name, "unique model names")
    served = [m.get("served_name") for _path, m in models]
    for dup in duplicates(served):
        err(
            "models[%d].served_name" % served.index(dup, served.index(dup) + 1),
            dup,
            "a served_name no other model uses (routes match on it)",
        )
    largest_node = max([p.get("gpus_per_node", 0) for _path, p in named(cfg, "gpu_pools")] or [0])
    for i, model in models:
        path = "models[%d]" % i
        if "name" in model and not is_dns_label(model["name"]):
            err(path + ".name", model["name"], DNS_LABEL)
        if "served_name" in model and not is_dns_subdomain(model["served_name"]):
            err(path + ".served_name", model["served_name"], DNS_SUBDOMAIN)
        source = model.get("source")
        if isinstance(source, str) and not source.startswith(SOURCE_SCHEMES):
            err(path + ".source", source, "a URI starting with " + ", ".join(SOURCE_SCHEMES))
        if isinstance(source, str) and source.startswith("oci://") and "@sha256:" not in source:
            err(path + ".source", source, "an oci:// image pinned by digest (@sha256:...)")
        for key in ("input_per_token", "output_per_token"):
            price = (model.get("price") or {}).get(key)
            if isinstance(price, (int, float)) and price < 0:
                err("%s.price.%s" % (path, key), price, "a price >= 0 (USD per token)")
        gpus = model.get("gpus", 1)
        if isinstance(gpus, int) and gpus < 0:
            err(path + ".gpus", gpus, "an integer >= 0")
        elif isinstance(gpus, int) and gpus > largest_node and cfg.get("gpu_pools") is not None:
            err(path + ".gpus", gpus, "at most %d (the largest gpus_per_node in gpu_pools)" % largest_node)
        low, high = model.get("min_replicas"), model.get("max_replicas", 1)
        if isinstance(low, int) and low < 0:
            err(path + ".min_replicas", low, "an integer >= 0")
        if isinstance(high, int) and (high < 1 or (isinstance(low, int) and high < low)):
            err(path + ".max_replicas", high, "an integer >= 1 and >= min_replicas")
        if "storage_size" in model and not is_quantity(model["storage_size"]):
            err(path + ".storage_size", model["storage_size"], QUANTITY)
        if model.get("engine") == "kserve" and not model.get("storage"):
            err(path + ".storage", None, "pvc or oci: a KServe model needs storage")
        if model.get("storage") == "oci" and not str(source).startswith("oci://"):
            err(path + ".source", source, "an oci:// source when storage is oci")
        if model.get("engine", "vllm") == "vllm" and str(source).startswith("oci://"):
            err(path + ".source", source, "hf:// or pvc:// for engine vllm (oci:// modelcars need engine kserve)")
        features = cfg.get("platform_features") or {}
        if model.get("engine") == "kserve" and isinstance(features, dict) and features.get("kserve") is False:
            err(path + ".engine", "kserve", "vllm, or set platform_features.kserve: true (the KServe operator is off)")
        _canary(cfg, err, path, model, names, served)


def _canary(cfg, err, path, model, names, served):
    if model.get("canary_of") is None:
        if "canary_weight" in model:
            err(path + ".canary_of", None, "the stable model's name when canary_weight is set")
        return
    if model["canary_of"] not in names or model["canary_of"] == model.get("name"):
        err(path + ".canary_of", model["canary_of"], "the name of another model in models")
    weight = model.get("canary_weight")
    if not isinstance(weight, int) or not 1 <= weight <= 99:
        err(path + ".canary_weight", weight, "an integer percentage from 1 to 99")
        return
    stable = next((m for _path, m in named(cfg, "models") if m.get("name") == model["canary_of"]), None)
    if stable is not None and stable.get("canary_of"):
        err(path + ".canary_of", model["canary_of"], "a stable model (one that is not itself a canary)")
    siblings = [m for _path, m in named(cfg, "models") if m.get("canary_of") == model["canary_of"]]
    total = sum(m.get("canary_weight") for m in siblings if isinstance(m.get("canary_weight"), int))
    if siblings and siblings[-1] is model and total > 99:
        err(path + ".canary_weight", weight, "canary weights of %s summing to at most 99 (now %d)" % (model["canary_of"], total))
