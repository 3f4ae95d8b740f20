# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight rules for the models list (PRIVATE to this collection). Each rule id is
documented in config_model.yml."""

from __future__ import annotations

import re

from .formats import (
    DNS_LABEL,
    DNS_SUBDOMAIN,
    QUANTITY,
    SOURCE,
    duplicates,
    is_dns_label,
    is_dns_subdomain,
    is_int,
    is_num,
    is_quantity,
    largest_node,
    names_of,
    physical_gpus,
    replica_floor,
    source_ok,
)
from .registry import rule
from .view import INVALID, P, skip_unknown

# vLLM flags the serving chart sets from the model's own fields (model-serving/_helpers.tpl):
# given again in engine_args they contradict or silently override them.
CHART_FLAGS = {
    "--model": "source",
    "--served-model-name": "served_name",
    "--port": "the chart's port",
    "--tensor-parallel-size": "gpus",
    "-tp": "gpus",
}
_FLAG = re.compile(r"^--?[a-z0-9][a-z0-9-]*(=.*)?$")


@rule("models.names")
def model_names(cfg, err):
    models = cfg.items("models")
    for path, model in models:
        name, served = model.get("name"), model.get("served_name")
        if isinstance(name, str) and not is_dns_label(name):
            err(path("name"), name, DNS_LABEL)
        if isinstance(served, str) and not is_dns_subdomain(served):
            err(path("served_name"), served, DNS_SUBDOMAIN)
    for field, allowed in (("name", "unique model names"), ("served_name", "a served_name no other model uses (routes match on it)")):
        values = [m.get(field) if isinstance(m, dict) else INVALID for m in cfg.get("models") or []]
        for value, index in duplicates(values):
            err(P("models", index, field), value, allowed)


@rule("models.source_format", each="models")
def source_format(cfg, path, model, err):
    source = model.get("source")
    if isinstance(source, str) and not source_ok(source):
        err(path("source"), source, SOURCE)


@rule("models.engine_source", each="models")
def engine_source(cfg, path, model, err):
    source, engine, storage = model.get("source"), model.get("engine", "vllm"), model.get("storage")
    if not isinstance(source, str):
        return
    if engine == "vllm" and source.startswith("oci://"):
        err(path("source"), source, "hf:// or pvc:// for engine vllm (oci:// modelcars need engine kserve)")
    elif storage == "oci" and not source.startswith("oci://"):
        err(path("source"), source, "an oci:// source when storage is oci")
    elif engine == "kserve" and storage is None:
        err(path("storage"), None, "pvc or oci: a KServe model needs storage")


@rule("models.prices", each="models")
def prices(cfg, path, model, err):
    price = model.get("price")
    for key in ("input_per_token", "output_per_token"):
        value = price.get(key) if isinstance(price, dict) else None
        if is_num(value) and value < 0:
            err(path("price", key), value, "a price >= 0 (USD per token)")


@rule("models.gpus", each="models")
def gpus_positive(cfg, path, model, err):
    gpus = model.get("gpus", 1)
    if is_int(gpus) and gpus < 1:
        # The chart reads `default 1 .gpus`: 0 would silently become 1 GPU, not a CPU model.
        err(path("gpus"), gpus, "an integer >= 1 (the serving chart replaces 0 with 1 GPU; CPU-only serving is not supported)")


@rule("models.gpus_fit_a_node", each="models")
def gpus_fit_a_node(cfg, path, model, err):
    gpus = model.get("gpus", 1)
    if not is_int(gpus) or "gpu_pools" not in cfg:
        return
    largest = largest_node(cfg)
    if gpus > largest:
        err(path("gpus"), gpus, "at most %d (the largest gpus_per_node in gpu_pools: one replica runs on one node)" % largest)


@rule("models.replicas", each="models")
def replicas(cfg, path, model, err):
    low, high = model.get("min_replicas"), model.get("max_replicas", 1)
    if is_int(low) and low < 0:
        err(path("min_replicas"), low, "an integer >= 0")
    elif is_int(high) and (high < 1 or (is_int(low) and high < low)):
        err(path("max_replicas"), high, "an integer >= 1 and >= min_replicas")


@rule("models.floor_within_max", each="models")
def floor_within_max(cfg, path, model, err):
    if model.get("min_replicas") is not None:
        return  # explicit floors are checked by models.replicas
    high = model.get("max_replicas", 1)
    floor = replica_floor(cfg, model)
    if is_int(high) and floor > high:
        err(
            path("max_replicas"),
            high,
            "at least %d: cost_tier %s sets a replica floor of %d for models without min_replicas "
            "(or set min_replicas)" % (floor, cfg.get("cost_tier"), floor),
        )


@rule("models.floors_fit_fleet")
def floors_fit_fleet(cfg, err):
    if "gpu_pools" not in cfg:
        return
    fleet = physical_gpus(cfg)
    total, last = 0, None
    for path, model in cfg.all_items("models"):
        gpus = model.get("gpus", 1)
        floor = replica_floor(cfg, model)
        if not (is_int(gpus) and is_int(floor)):
            return
        total += gpus * floor
        if gpus * floor:
            last = (path, model)
    if last is None or total <= fleet:
        return
    allowed = "replica floors that fit the fleet: the models' floors need %d GPUs (gpus x floor), gpu_pools have %d" % (total, fleet)
    path, model = last
    if model.get("min_replicas") is None:
        err(P("cost_tier"), cfg.get("cost_tier"), allowed + " (cost_tier sets the floor of models without min_replicas)")
    else:
        err(path("min_replicas"), model["min_replicas"], allowed)


@rule("models.storage_size", each="models")
def storage_size(cfg, path, model, err):
    if "storage_size" in model and isinstance(model["storage_size"], str) and not is_quantity(model["storage_size"]):
        err(path("storage_size"), model["storage_size"], QUANTITY)


@rule("models.engine_args", each="models")
def engine_args(cfg, path, model, err):
    for index, arg in enumerate(model.get("engine_args") or []):
        with skip_unknown:
            if not isinstance(arg, str):
                continue
            flag = arg.split("=", 1)[0]
            if flag in CHART_FLAGS:
                err(
                    path("engine_args", index),
                    arg,
                    "no %s: the chart sets it from %s (drop it from engine_args)" % (flag, CHART_FLAGS[flag]),
                )
            elif not _FLAG.match(arg):
                err(
                    path("engine_args", index),
                    arg,
                    "one argument per item, --flag or --flag=value (no spaces: the chart passes each item as one argv word)",
                )


@rule("models.canary", each="models")
def canary(cfg, path, model, err):
    target = model.get("canary_of")
    if target is None:
        if "canary_weight" in model:
            err(path("canary_of"), None, "the stable model's name when canary_weight is set")
        return
    names, complete = names_of(cfg, "models")
    if target == model.get("name") or (complete and target not in names):
        err(path("canary_of"), target, "the name of another model in models")
        return
    weight = model.get("canary_weight")
    if not is_int(weight) or not 1 <= weight <= 99:
        err(path("canary_weight"), weight, "an integer percentage from 1 to 99")
        return
    stable = next((m for _path, m in cfg.items("models") if m.get("name") == target), None)
    if stable is not None and stable.get("canary_of"):
        err(path("canary_of"), target, "a stable model (one that is not itself a canary)")
        return
    siblings = [(p, m) for p, m in cfg.items("models") if m.get("canary_of") == target]
    weights = [m.get("canary_weight") for _path, m in siblings]
    if not all(is_int(w) for w in weights):
        return
    total = sum(weights)
    if siblings and siblings[-1][1] is model and total > 99:
        err(path("canary_weight"), weight, "canary weights of %s summing to at most 99 (now %d)" % (target, total))
