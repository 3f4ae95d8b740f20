# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight rules for the lab substrate (PRIVATE to this collection): its name and port, and
the lab-only pools and node shapes that must refer to pools that exist. Rule ids: config_model.yml."""

from __future__ import annotations

from .formats import DNS_LABEL, is_dns_label, is_int
from .registry import rule
from .view import P


@rule("lab.name_and_port")
def name_and_port(cfg, err):
    name, port = cfg.get("substrate_lab_name"), cfg.get("substrate_lab_apiserver_port")
    if isinstance(name, str) and "{{" not in name and not is_dns_label(name, 40):
        err(P("substrate_lab_name"), name, DNS_LABEL + ", at most 40 characters (it names the network namespace and the kwok cluster)")
    if is_int(port) and not 1024 <= port <= 65535:
        err(P("substrate_lab_apiserver_port"), port, "a port from 1024 to 65535 (the API server listens on 127.0.0.1 without root's ports)")


def _pool_names(cfg, *variables):
    names = []
    for var in variables:
        for _path, pool in cfg.items(var):
            if isinstance(pool.get("name"), str):
                names.append(pool["name"])
    return names


@rule("lab.extra_pools")
def extra_pools(cfg, err):
    taken = set(_pool_names(cfg, "cpu_pools", "gpu_pools"))
    for path, pool in cfg.items("substrate_lab_extra_gpu_pools"):
        name = pool.get("name")
        if isinstance(name, str) and name in taken:
            err(path("name"), name, "a pool name not in cpu_pools or gpu_pools (the lab would create two pools of that name)")
        elif isinstance(name, str):
            taken.add(name)
        gpus = pool.get("gpus_per_node")
        if is_int(gpus) and not 1 <= gpus <= 16:
            err(path("gpus_per_node"), gpus, "1 to 16")


@rule("lab.node_shapes")
def node_shapes(cfg, err):
    shapes = cfg.get("substrate_lab_node_shapes")
    if not isinstance(shapes, dict):
        return
    pools = set(_pool_names(cfg, "cpu_pools", "gpu_pools", "substrate_lab_extra_gpu_pools"))
    for name, shape in shapes.items():
        if name not in pools:
            err(
                P("substrate_lab_node_shapes", str(name)),
                shape,
                "a shape for a pool that exists (%s): a shape for another name is silently ignored" % ", ".join(sorted(pools)),
            )
