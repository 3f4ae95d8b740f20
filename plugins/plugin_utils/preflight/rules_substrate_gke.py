# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight rules for the GKE substrate (PRIVATE to this collection): a project id, a known
location, and GPU pools whose accelerator GKE offers in the cluster's zones."""

from __future__ import annotations

import os
import re

import yaml

from .formats import named

HERE = os.path.dirname(os.path.abspath(__file__))
ACCELERATORS_FILE = os.path.join(HERE, "gke_accelerators.yml")
_PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_ZONE = re.compile(r"^[a-z]+-[a-z]+[0-9]+-[a-z]$")
_REGION = re.compile(r"^[a-z]+-[a-z]+[0-9]+$")
DEFAULT_LOCATION = "us-central1-a"  # roles/substrate_gke/defaults/main.yml
PROJECT_ALLOWED = (
    "a GCP project id: 6-30 lowercase letters, digits or '-', starting with a letter (set it in inventories/gke/group_vars/gke/)"
)


def load_accelerators(path=ACCELERATORS_FILE):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def zones_of(cfg, table):
    """The zones a GKE cluster's node pools land in: the zone itself, the configured
    node locations, or every shipped zone of the region."""
    location = cfg.get("substrate_gke_location", DEFAULT_LOCATION) or ""
    chosen = cfg.get("substrate_gke_node_locations") or []
    if chosen:
        return list(chosen), "substrate_gke_node_locations"
    if _ZONE.match(location):
        return [location], "substrate_gke_location"
    return sorted(z for z in table if z.rsplit("-", 1)[0] == location), "substrate_gke_location"


def check(cfg, err):
    if cfg.get("substrate") != "gke":
        return
    # The project falls back to secret_gcp_project_id (the role does the same).
    project = cfg.get("substrate_gke_project_id") or cfg.get("secret_gcp_project_id")
    if not project or not _PROJECT.match(str(project)):
        err("substrate_gke_project_id", cfg.get("substrate_gke_project_id"), PROJECT_ALLOWED)
    cpu = named(cfg, "cpu_pools")
    if not cpu:
        err("cpu_pools", cfg.get("cpu_pools"), "at least one CPU pool on GKE: the first is the system pool created with the cluster")
    elif isinstance(cpu[0][1].get("min_nodes"), int) and cpu[0][1]["min_nodes"] < 1:
        err("cpu_pools[0].min_nodes", cpu[0][1]["min_nodes"], "at least 1: the system pool (Argo CD, controllers) never scales to zero")
    location = cfg.get("substrate_gke_location", DEFAULT_LOCATION)
    table = dict(load_accelerators())
    for zone, types in (cfg.get("substrate_gke_extra_accelerators") or {}).items():
        table[zone] = sorted(set(table.get(zone, [])) | set(types or []))
    if not location or not (_ZONE.match(str(location)) or _REGION.match(str(location))):
        err("substrate_gke_location", location, "a GCP zone (us-central1-a, zonal cluster) or region (us-central1, regional cluster)")
        return
    zones, zone_var = zones_of(cfg, table)
    unknown = [z for z in zones if z not in table]
    if not zones or unknown:
        err(
            zone_var,
            unknown or location,
            "zones listed in plugins/plugin_utils/preflight/gke_accelerators.yml (%s), or add them with "
            "substrate_gke_extra_accelerators" % ", ".join([*sorted(table)[:6], "..."]),
        )
        return
    for i, pool in named(cfg, "gpu_pools"):
        acc = pool.get("accelerator")
        if not acc:
            continue
        missing = [z for z in zones if acc not in table[z]]
        if missing:
            offered = sorted(set.intersection(*(set(table[z]) for z in zones)))
            err(
                "gpu_pools[%d].accelerator" % i,
                acc,
                "a GPU type GKE offers in %s: %s (see gke_accelerators.yml; extend with substrate_gke_extra_accelerators)"
                % (", ".join(zones), ", ".join(offered) or "none in all of these zones"),
            )
