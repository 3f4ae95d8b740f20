# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight rules for the cluster and its node pools (PRIVATE to this collection)."""

from __future__ import annotations

from .formats import DNS_LABEL, duplicates, is_dns_label, named

MAX_GPUS_PER_NODE = 16


def check(cfg, err):
    name = cfg.get("cluster_name")
    if name is not None and not is_dns_label(name, 40):
        err("cluster_name", name, DNS_LABEL + ", at most 40 characters")
    pools = named(cfg, "cpu_pools") + named(cfg, "gpu_pools")
    all_names = [p.get("name") for _path, p in pools]
    for var in ("cpu_pools", "gpu_pools"):
        for i, pool in named(cfg, var):
            path = "%s[%d]" % (var, i)
            if "name" in pool and not is_dns_label(pool["name"], 40):
                err(path + ".name", pool["name"], DNS_LABEL + ", at most 40 characters")
            elif pool.get("name") in duplicates(all_names) and all_names.index(pool["name"]) != _flat_index(cfg, var, i):
                err(path + ".name", pool["name"], "a pool name not used by another cpu or gpu pool")
            low, high = pool.get("min_nodes"), pool.get("max_nodes")
            if isinstance(low, int) and low < 0:
                err(path + ".min_nodes", low, "an integer >= 0")
            if isinstance(low, int) and isinstance(high, int) and high < max(low, 1):
                err(path + ".max_nodes", high, "an integer >= min_nodes (%d) and >= 1" % low)
            gpus = pool.get("gpus_per_node")
            if var == "gpu_pools" and isinstance(gpus, int) and not 1 <= gpus <= MAX_GPUS_PER_NODE:
                err(path + ".gpus_per_node", gpus, "1 to %d" % MAX_GPUS_PER_NODE)
            slices = pool.get("time_slicing_replicas")
            if isinstance(slices, int) and slices < 1:
                err(path + ".time_slicing_replicas", slices, "an integer >= 1")
    if cfg.get("gpu_stack") in ("gke-managed", "operator") and not named(cfg, "gpu_pools"):
        err("gpu_pools", cfg.get("gpu_pools"), "at least one GPU pool when gpu_stack is %s" % cfg.get("gpu_stack"))


def _flat_index(cfg, var, i):
    return i if var == "cpu_pools" else len(named(cfg, "cpu_pools")) + i
