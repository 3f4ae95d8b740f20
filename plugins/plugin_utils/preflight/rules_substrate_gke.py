# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight rules for the GKE substrate (PRIVATE to this collection): a project id, a real
location, node locations inside its region, machine types of Compute Engine whose GPUs match
the pool, GPU types GKE offers in the cluster's zones, the derived service account name and the
control-plane CIDRs. Cloud facts come from gcp_zones.yml, gce_gpu_machines.yml and
gke_accelerators.yml (each says where its data comes from). Rule ids: config_model.yml."""

from __future__ import annotations

import re

from .formats import cidr, is_int, load_data
from .registry import rule
from .view import INVALID, P, Unknown, skip_unknown

_PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_ZONE = re.compile(r"^(?P<region>[a-z]+-[a-z]+[0-9]+)-(?P<letter>[a-z])$")
_REGION = re.compile(r"^[a-z]+-[a-z]+[0-9]+$")
_SA_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
DEFAULT_LOCATION = "us-central1-a"  # roles/substrate_gke/defaults/main.yml
PROJECT_ALLOWED = (
    "a GCP project id: 6-30 lowercase letters, digits or '-', starting with a letter (set it in inventories/gke/group_vars/gke/)"
)


def load_accelerators():
    return load_data("gke_accelerators.yml")


def accelerator_table(cfg):
    """zone -> GPU types: the shipped table plus substrate_gke_extra_accelerators."""
    table = {zone: set(types) for zone, types in load_accelerators().items()}
    extra = cfg.get("substrate_gke_extra_accelerators") or {}
    if extra is INVALID:
        raise Unknown()
    for zone, types in extra.items() if isinstance(extra, dict) else []:
        table.setdefault(str(zone), set()).update(types if isinstance(types, list) else [])
    return table


def known_zones(cfg):
    """region -> zones: gcp_zones.yml, plus zones declared in substrate_gke_extra_accelerators."""
    zones = {region: {"%s-%s" % (region, letter) for letter in letters} for region, letters in load_data("gcp_zones.yml").items()}
    for zone in accelerator_table(cfg):
        match = _ZONE.match(zone)
        if match:
            zones.setdefault(match["region"], set()).add(zone)
    return zones


def location(cfg):
    """(region, zone or None) of substrate_gke_location; Unknown when it is not a real one."""
    value = cfg.get("substrate_gke_location", DEFAULT_LOCATION)
    if not isinstance(value, str):
        raise Unknown()
    zones = known_zones(cfg)
    match = _ZONE.match(value)
    if match and value in zones.get(match["region"], ()):
        return match["region"], value
    if _REGION.match(value) and value in zones:
        return value, None
    raise Unknown()


def pool_zones(cfg):
    """(zones, variable) the node pools land in: node locations, the zone, or the region's zones."""
    region, zone = location(cfg)
    chosen = cfg.get("substrate_gke_node_locations") or []
    if chosen is INVALID or any(z is INVALID for z in chosen):
        raise Unknown()
    if chosen:
        return list(chosen), "substrate_gke_node_locations"
    if zone:
        return [zone], "substrate_gke_location"
    return sorted(z for z in accelerator_table(cfg) if z.rsplit("-", 1)[0] == region), "substrate_gke_location"


@rule("gke.project_id")
def project_id(cfg, err):
    # The project falls back to secret_gcp_project_id (the role does the same).
    own, fallback = cfg.get("substrate_gke_project_id"), cfg.get("secret_gcp_project_id")
    if own is INVALID or (not own and fallback is INVALID):
        return
    project = own or fallback
    if not project or not isinstance(project, str) or not _PROJECT.match(project):
        err(P("substrate_gke_project_id"), own, PROJECT_ALLOWED)


@rule("gke.location")
def location_known(cfg, err):
    value = cfg.get("substrate_gke_location", DEFAULT_LOCATION)
    if not isinstance(value, str):
        return
    zones = known_zones(cfg)
    match = _ZONE.match(value)
    if not (match or _REGION.match(value)):
        err(P("substrate_gke_location"), value, "a GCP zone (us-central1-a, zonal cluster) or region (us-central1, regional cluster)")
    elif match and value not in zones.get(match["region"], ()):
        region = match["region"]
        offered = ", ".join(sorted(zones[region])) if region in zones else "none: %s is not a GCP region in gcp_zones.yml" % region
        err(
            P("substrate_gke_location"),
            value,
            "a zone of its region: %s (gcp_zones.yml; newer zones: substrate_gke_extra_accelerators)" % offered,
        )
    elif not match and value not in zones:
        err(P("substrate_gke_location"), value, "a GCP region listed in gcp_zones.yml, such as us-central1 or europe-west4")


@rule("gke.node_locations_in_region")
def node_locations_in_region(cfg, err):
    chosen = cfg.get("substrate_gke_node_locations") or []
    if not isinstance(chosen, list) or not chosen:
        return
    region, _zone = location(cfg)
    zones = known_zones(cfg).get(region, set())
    for index, value in enumerate(chosen):
        with skip_unknown:
            if not isinstance(value, str):
                continue
            if value not in zones:
                err(
                    P("substrate_gke_node_locations", index),
                    value,
                    "a zone of region %s (%s), the region of substrate_gke_location %s"
                    % (region, ", ".join(sorted(zones)), cfg.get("substrate_gke_location", DEFAULT_LOCATION)),
                )


@rule("gke.system_pool")
def system_pool(cfg, err):
    pools = cfg.get("cpu_pools")
    if pools is INVALID:
        return
    items = cfg.items("cpu_pools")
    if not pools:
        err(P("cpu_pools"), pools, "at least one CPU pool on GKE: the first is the system pool created with the cluster")
    elif items and items[0][0].keys[1] == 0 and is_int(items[0][1].get("min_nodes")) and items[0][1]["min_nodes"] < 1:
        err(
            P("cpu_pools", 0, "min_nodes"),
            items[0][1]["min_nodes"],
            "at least 1: the system pool (Argo CD, controllers) never scales to zero",
        )


def _machines():
    return load_data("gce_gpu_machines.yml")


@rule("gke.machine_types")
def machine_types(cfg, err):
    series = set(_machines()["series"])
    for var in ("cpu_pools", "gpu_pools"):
        for path, pool in cfg.items(var):
            machine = pool.get("machine_type")
            if isinstance(machine, str) and machine.split("-", 1)[0] not in series:
                err(
                    path("machine_type"),
                    machine,
                    "a Compute Engine machine type such as e2-standard-4 or g2-standard-4 "
                    "(%s is not one of Compute Engine's series)" % machine,
                )


@rule("gke.gpu_machine_matches_pool", each="gpu_pools")
def gpu_machine_matches_pool(cfg, path, pool, err):
    data = _machines()
    machine = pool.get("machine_type", data["default_gpu_machine"])
    acc, gpus = pool.get("accelerator"), pool.get("gpus_per_node")
    if not (isinstance(machine, str) and isinstance(acc, str) and is_int(gpus)):
        return
    fixed = data["fixed"].get(machine)
    default = "" if "machine_type" in pool else " (no machine_type: the role uses %s)" % machine
    if fixed:
        if fixed["accelerator"] != acc:
            err(path("accelerator"), acc, "%s, the GPU of machine type %s%s" % (fixed["accelerator"], machine, default))
        elif fixed["count"] != gpus:
            err(path("gpus_per_node"), gpus, "%d, the GPU count of machine type %s%s" % (fixed["count"], machine, default))
    elif machine.startswith("n1-"):
        counts = data["n1_attachable"].get(acc)
        if counts is None:
            err(
                path("accelerator"),
                acc,
                "a GPU N1 machines take (%s), or the machine type that carries %s" % (", ".join(sorted(data["n1_attachable"])), acc),
            )
        elif gpus not in counts:
            err(path("gpus_per_node"), gpus, "%s GPUs of %s on an N1 machine" % (" or ".join(map(str, counts)), acc))
    elif machine.split("-", 1)[0] in data["series"]:
        err(
            path("machine_type"),
            machine,
            "a machine type with GPUs: an accelerator-optimized type (a2-, a3-, a4-, g2-, g4-) or n1- with an attached GPU",
        )


@rule("gke.accelerator_in_zones", each="gpu_pools")
def accelerator_in_zones(cfg, path, pool, err):
    acc = pool.get("accelerator")
    if not isinstance(acc, str):
        return
    table = accelerator_table(cfg)
    zones, _where = pool_zones(cfg)
    unknown = [z for z in zones if z not in table]
    if unknown:
        return  # gke.accelerator_table names them
    missing = [z for z in zones if acc not in table[z]]
    if missing:
        offered = sorted(set.intersection(*(set(table[z]) for z in zones))) if zones else []
        err(
            path("accelerator"),
            acc,
            "a GPU type GKE offers in %s: %s (see gke_accelerators.yml; extend with substrate_gke_extra_accelerators)"
            % (", ".join(zones), ", ".join(offered) or "none in all of these zones"),
        )


@rule("gke.accelerator_table")
def accelerator_table_covers_zones(cfg, err):
    if not cfg.get("gpu_pools"):
        return
    table = accelerator_table(cfg)
    zones, var = pool_zones(cfg)
    unknown = [z for z in zones if z not in table]
    if not zones or unknown:
        value = cfg.get(var, DEFAULT_LOCATION) if var == "substrate_gke_location" else unknown
        err(
            P(var),
            value,
            "zones listed in plugins/plugin_utils/preflight/gke_accelerators.yml (%s), or add them with "
            "substrate_gke_extra_accelerators" % ", ".join([*sorted(table)[:6], "..."]),
        )


@rule("gke.driver_installation", each="gpu_pools")
def driver_installation(cfg, path, pool, err):
    version = pool.get("driver_version", cfg.get("substrate_gke_gpu_driver_version", "DEFAULT"))
    if cfg.get("gpu_stack") == "gke-managed" and version == "INSTALLATION_DISABLED":
        where = path("driver_version") if "driver_version" in pool else P("substrate_gke_gpu_driver_version")
        err(
            where,
            version,
            "DEFAULT or LATEST with gpu_stack gke-managed (INSTALLATION_DISABLED leaves the GPUs without a driver: "
            "nothing else installs one on GKE)",
        )


@rule("gke.node_service_account")
def node_service_account(cfg, err):
    if cfg.get("substrate_gke_manage_iam", True) is False:
        return
    name = cfg.get("substrate_gke_node_sa_name")
    cluster = cfg.get("cluster_name")
    if isinstance(name, str):
        if not _SA_ID.match(name):
            err(
                P("substrate_gke_node_sa_name"), name, "a service account id: 6-30 lowercase letters, digits or '-', starting with a letter"
            )
    elif isinstance(cluster, str) and name is None:
        derived = "gke-%s-nodes" % cluster
        if not _SA_ID.match(derived):
            err(
                P("cluster_name"),
                cluster,
                "at most 20 characters on GKE: the node service account gke-<cluster_name>-nodes (%s) "
                "must be 6-30 characters (or set substrate_gke_node_sa_name)" % derived,
            )


@rule("gke.control_plane_cidrs")
def control_plane_cidrs(cfg, err):
    private, block = cfg.get("substrate_gke_private_nodes", False), cfg.get("substrate_gke_master_ipv4_cidr_block", "")
    if private is True and isinstance(block, str):
        net = cidr(block)
        if net is None or net.version != 4 or net.prefixlen != 28 or not net.is_private:
            err(
                P("substrate_gke_master_ipv4_cidr_block"),
                block,
                "a private IPv4 /28 such as 172.16.0.32/28 (private nodes need one for the control plane)",
            )
    elif private is False and isinstance(block, str) and block:
        err(
            P("substrate_gke_master_ipv4_cidr_block"),
            block,
            "empty without substrate_gke_private_nodes: true (the block is only used by private clusters)",
        )
    for index, entry in enumerate(cfg.get("substrate_gke_master_authorized_networks") or []):
        with skip_unknown:
            value = entry.get("cidr_block") if isinstance(entry, dict) else entry
            if cidr(value) is None:
                err(
                    P("substrate_gke_master_authorized_networks", index, "cidr_block"),
                    value,
                    "a CIDR with no host bits set, such as 198.51.100.0/24 ({cidr_block, display_name})",
                )
