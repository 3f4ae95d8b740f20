# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight rules for the cluster and its node pools on every substrate (PRIVATE to this
collection). Each rule id is documented in config_model.yml."""

from __future__ import annotations

import re

from .formats import DNS_LABEL, is_dns_label, is_int
from .registry import rule
from .view import INVALID, P

MAX_GPUS_PER_NODE = 16
MAX_POOL_NAME = 40
_MIG = re.compile(r"^[1-7]g\.[0-9]+gb$")


@rule("pools.cluster_name")
def cluster_name(cfg, err):
    name = cfg.get("cluster_name")
    if isinstance(name, str) and not is_dns_label(name, 40):
        err(P("cluster_name"), name, DNS_LABEL + ", at most 40 characters (it prefixes cloud resource names)")


@rule("pools.names")
def pool_names(cfg, err):
    seen = set()
    for var in ("cpu_pools", "gpu_pools"):
        for path, pool in cfg.items(var):
            name = pool.get("name")
            if not isinstance(name, str):
                continue
            if not is_dns_label(name, MAX_POOL_NAME):
                err(path("name"), name, DNS_LABEL + ", at most %d characters" % MAX_POOL_NAME)
            elif name in seen:
                err(path("name"), name, "a pool name not used by another cpu or gpu pool")
            seen.add(name)


@rule("pools.node_counts")
def node_counts(cfg, err):
    for var in ("cpu_pools", "gpu_pools"):
        for path, pool in cfg.items(var):
            low, high = pool.get("min_nodes"), pool.get("max_nodes")
            if is_int(low) and low < 0:
                err(path("min_nodes"), low, "an integer >= 0")
            elif is_int(low) and is_int(high) and high < max(low, 1):
                err(path("max_nodes"), high, "an integer >= min_nodes (%d) and >= 1" % low)


@rule("pools.gpus_per_node", each="gpu_pools")
def gpus_per_node(cfg, path, pool, err):
    gpus = pool.get("gpus_per_node")
    if is_int(gpus) and not 1 <= gpus <= MAX_GPUS_PER_NODE:
        err(path("gpus_per_node"), gpus, "1 to %d" % MAX_GPUS_PER_NODE)


@rule("pools.gpu_sharing", each="gpu_pools")
def gpu_sharing(cfg, path, pool, err):
    slices, mig = pool.get("time_slicing_replicas"), pool.get("mig_profile")
    if is_int(slices) and slices < 1:
        err(path("time_slicing_replicas"), slices, "an integer >= 1")
    if isinstance(mig, str) and not _MIG.match(mig):
        err(path("mig_profile"), mig, "a MIG profile such as 1g.5gb, 2g.10gb, 3g.20gb or 7g.40gb")
    elif mig is not None and slices is not None and mig is not INVALID and slices is not INVALID:
        err(path("time_slicing_replicas"), slices, "unset when mig_profile is set (a pool partitions its GPUs one way)")


@rule("pools.gpu_pools_for_gpu_stack")
def gpu_pools_for_gpu_stack(cfg, err):
    stack = cfg.get("gpu_stack")
    pools = cfg.get("gpu_pools")
    if stack in ("gke-managed", "operator") and pools is not INVALID and not pools:
        err(P("gpu_pools"), pools, "at least one GPU pool when gpu_stack is %s (or gpu_stack: none for a CPU-only cluster)" % stack)
