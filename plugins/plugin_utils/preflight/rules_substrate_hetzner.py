# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight rules for the Hetzner substrate (PRIVATE to this collection): the firewall is
restricted to operator CIDRs (never the whole internet without an explicit override), the
private network is a valid private range, and the location exists."""

from __future__ import annotations

from .formats import cidr

LOCATIONS = ("nbg1", "fsn1", "hel1", "ash", "hil", "sin")
CIDR_ALLOWED = "a CIDR such as 198.51.100.0/24 (the operators' addresses for SSH and the Kubernetes API)"
WORLD_ALLOWED = (
    "operator CIDRs narrower than the whole internet; to open SSH and the Kubernetes API to everyone "
    "set substrate_hetzner_firewall_allow_world: true on purpose"
)


def check(cfg, err):
    if cfg.get("substrate") != "hetzner":
        return
    allow_world = cfg.get("substrate_hetzner_firewall_allow_world") is True
    cidrs = cfg.get("substrate_hetzner_operator_cidrs")
    if "substrate_hetzner_operator_cidrs" in cfg and not cidrs:
        err("substrate_hetzner_operator_cidrs", cidrs, "at least one CIDR: " + CIDR_ALLOWED)
    for i, value in enumerate(cidrs or []):
        path = "substrate_hetzner_operator_cidrs[%d]" % i
        net = cidr(value)
        if net is None:
            err(path, value, CIDR_ALLOWED + ", with no host bits set")
        elif net.prefixlen == 0 and not allow_world:
            err(path, value, WORLD_ALLOWED)
    network = cfg.get("substrate_hetzner_network_cidr")
    if network is not None:
        net = cidr(network)
        if net is None or not net.is_private or net.version != 4 or net.prefixlen > 24:
            err("substrate_hetzner_network_cidr", network, "a private IPv4 range of /24 or wider, such as 10.0.0.0/16")
    location = cfg.get("substrate_hetzner_location")
    if location is not None and location not in LOCATIONS:
        err("substrate_hetzner_location", location, "one of " + ", ".join(LOCATIONS))
