# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight rules for the Hetzner substrate (PRIVATE to this collection): a firewall
restricted to operator CIDRs, a private network that contains its subnets and does not
overlap the pod and service CIDRs, a location in the subnet's network zone, hcloud server
types for cloud servers and GPU-Line products for the dedicated GPU workers, fixed pool sizes,
the k3s binary pin and the SSH access the GPU workers need. Cloud facts: hetzner.yml.
Rule ids: config_model.yml."""

from __future__ import annotations

import os
import re

from .formats import cidr, is_int, is_sha256, load_data
from .registry import rule
from .view import INVALID, P, skip_unknown

CIDR_ALLOWED = "a CIDR such as 198.51.100.0/24 (the operators' addresses for SSH and the Kubernetes API)"
WORLD_ALLOWED = (
    "operator CIDRs narrower than the whole internet; to open SSH and the Kubernetes API to everyone "
    "set substrate_hetzner_firewall_allow_world: true on purpose"
)
# Role defaults (roles/substrate_hetzner/defaults/main.yml) used when a variable is unset.
DEFAULTS = {
    "substrate_hetzner_location": "nbg1",
    "substrate_hetzner_network_zone": "eu-central",
    "substrate_hetzner_network_cidr": "10.0.0.0/16",
    "substrate_hetzner_subnet_cidr": "10.0.1.0/24",
    "substrate_hetzner_vswitch_subnet_cidr": "10.0.2.0/24",
    "substrate_hetzner_k3s_cluster_cidr": "10.42.0.0/16",
    "substrate_hetzner_k3s_service_cidr": "10.43.0.0/16",
}
_K3S_VERSION = re.compile(r"^v1\.[0-9]+\.[0-9]+\+k3s[0-9]+$")
_SSH_PUBLIC = re.compile(
    r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)"
    r" [A-Za-z0-9+/=]{40,}( .*)?$"
)


def _get(cfg, name):
    return cfg.get(name, DEFAULTS.get(name))


def _net(cfg, name):
    """(network, was the variable set) for a CIDR variable, or (None, ...) when not a CIDR."""
    value = _get(cfg, name)
    return (cidr(value) if isinstance(value, str) else None), name in cfg


@rule("hetzner.operator_cidrs")
def operator_cidrs(cfg, err):
    allow_world = cfg.get("substrate_hetzner_firewall_allow_world") is True
    cidrs = cfg.get("substrate_hetzner_operator_cidrs")
    if "substrate_hetzner_operator_cidrs" in cfg and isinstance(cidrs, list) and not cidrs:
        err(P("substrate_hetzner_operator_cidrs"), cidrs, "at least one CIDR: " + CIDR_ALLOWED)
    for i, value in enumerate(cidrs if isinstance(cidrs, list) else []):
        if not isinstance(value, str):
            continue
        net = cidr(value)
        if net is None:
            err(P("substrate_hetzner_operator_cidrs", i), value, CIDR_ALLOWED + ", with no host bits set")
        elif net.prefixlen == 0 and not allow_world:
            err(P("substrate_hetzner_operator_cidrs", i), value, WORLD_ALLOWED)


@rule("hetzner.network_cidr")
def network_cidr(cfg, err):
    value = cfg.get("substrate_hetzner_network_cidr")
    if isinstance(value, str):
        net = cidr(value)
        if net is None or not net.is_private or net.version != 4 or net.prefixlen > 24:
            err(P("substrate_hetzner_network_cidr"), value, "a private IPv4 range of /24 or wider, such as 10.0.0.0/16")


@rule("hetzner.subnets_in_network")
def subnets_in_network(cfg, err):
    network, _err = _net(cfg, "substrate_hetzner_network_cidr")
    if network is None or _get(cfg, "substrate_hetzner_network_cidr") is INVALID:
        return
    names = ["substrate_hetzner_subnet_cidr"]
    if is_int(cfg.get("substrate_hetzner_vswitch_id", 0)) and cfg.get("substrate_hetzner_vswitch_id", 0) > 0:
        names.append("substrate_hetzner_vswitch_subnet_cidr")
    seen = []
    for name in names:
        value = _get(cfg, name)
        if value is INVALID:
            continue
        net = cidr(value) if isinstance(value, str) else None
        if net is None:
            err(P(name), value, "a CIDR with no host bits set inside substrate_hetzner_network_cidr %s" % network)
        elif net.version != 4 or not net.subnet_of(network):
            err(P(name), value, "a subnet inside substrate_hetzner_network_cidr %s" % network)
        elif any(net.overlaps(other) for _path, other in seen):
            err(P(name), value, "a subnet that does not overlap %s (%s)" % (seen[0][0], seen[0][1]))
        else:
            seen.append((name, net))


@rule("hetzner.k3s_cidrs")
def k3s_cidrs(cfg, err):
    taken = []
    network, _err = _net(cfg, "substrate_hetzner_network_cidr")
    if network is not None:
        taken.append(("substrate_hetzner_network_cidr", network))
    for name in ("substrate_hetzner_k3s_cluster_cidr", "substrate_hetzner_k3s_service_cidr"):
        value = _get(cfg, name)
        if value is INVALID:
            continue
        net = cidr(value) if isinstance(value, str) else None
        if net is None or not net.is_private:
            err(P(name), value, "a private CIDR with no host bits set, such as %s" % DEFAULTS[name])
            continue
        clash = next((other for other in taken if net.overlaps(other[1])), None)
        if clash:
            err(P(name), value, "a range that does not overlap %s (%s): pod, service and node addresses must not collide" % clash)
        taken.append((name, net))


@rule("hetzner.location")
def location(cfg, err):
    value = cfg.get("substrate_hetzner_location")
    locations = load_data("hetzner.yml")["locations"]
    if isinstance(value, str) and value not in locations:
        err(P("substrate_hetzner_location"), value, "one of " + ", ".join(locations))


@rule("hetzner.location_network_zone")
def location_network_zone(cfg, err):
    data = load_data("hetzner.yml")
    place, zone = _get(cfg, "substrate_hetzner_location"), _get(cfg, "substrate_hetzner_network_zone")
    if not (isinstance(place, str) and isinstance(zone, str)) or place not in data["locations"]:
        return
    if data["locations"][place] != zone:
        where = "substrate_hetzner_network_zone" if "substrate_hetzner_network_zone" in cfg else "substrate_hetzner_location"
        err(
            P(where),
            zone if where.endswith("zone") else place,
            "%s: location %s is in network zone %s, and a network's servers "
            "and subnets share one zone (docs.hetzner.com/cloud/networks/faq)"
            % (data["locations"][place], place, data["locations"][place]),
        )


@rule("hetzner.vswitch_zone")
def vswitch_zone(cfg, err):
    vswitch = cfg.get("substrate_hetzner_vswitch_id", 0)
    zone = _get(cfg, "substrate_hetzner_network_zone")
    zones = load_data("hetzner.yml")["vswitch_network_zones"]
    if is_int(vswitch) and vswitch > 0 and isinstance(zone, str) and zone not in zones:
        err(
            P("substrate_hetzner_vswitch_id"),
            vswitch,
            "0 in network zone %s: vSwitch coupling exists only in %s (then the GPU "
            "workers join over their public addresses)" % (zone, ", ".join(zones)),
        )
    elif is_int(vswitch) and vswitch < 0:
        err(P("substrate_hetzner_vswitch_id"), vswitch, "0 (no vSwitch) or a Robot vSwitch id > 0")


@rule("hetzner.server_types")
def server_types(cfg, err):
    data = load_data("hetzner.yml")
    cloud, robot = set(data["server_types"]), data["gpu_servers"]
    control = cfg.get("substrate_hetzner_control_plane_type")
    if isinstance(control, str) and control not in cloud:
        err(P("substrate_hetzner_control_plane_type"), control, "an hcloud server type such as cpx32 or ccx23 (hetzner.yml)")
    for path, pool in cfg.items("cpu_pools"):
        machine = pool.get("machine_type")
        if machine is None:
            err(path("machine_type"), None, "an hcloud server type such as cpx42: Hetzner CPU pools are servers the role creates")
        elif isinstance(machine, str) and machine not in cloud:
            err(
                path("machine_type"),
                machine,
                "an hcloud server type such as cpx42 or ccx33 (%s is not one; hetzner.yml lists them)" % machine,
            )
    for path, pool in cfg.items("gpu_pools"):
        machine = pool.get("machine_type")
        if isinstance(machine, str) and machine not in robot:
            err(
                path("machine_type"),
                machine,
                "a Hetzner dedicated GPU server product: %s (GPU servers are Robot servers, listed under gpu_workers)" % ", ".join(robot),
            )


@rule("hetzner.one_architecture")
def one_architecture(cfg, err):
    arm = set(load_data("hetzner.yml")["arm_server_types"])
    places = [(P("substrate_hetzner_control_plane_type"), cfg.get("substrate_hetzner_control_plane_type"))]
    places += [(path("machine_type"), pool.get("machine_type")) for path, pool in cfg.items("cpu_pools")]
    for path, machine in places:
        if isinstance(machine, str) and machine in arm:
            err(
                path,
                machine,
                "an x86 server type (cx, cpx, ccx): every node, the x86 GPU servers included, runs the one k3s "
                "binary of substrate_hetzner_k3s_binary_url (amd64), so an Arm %s server could not start it" % machine,
            )


@rule("hetzner.gpu_server_matches_pool", each="gpu_pools")
def gpu_server_matches_pool(cfg, path, pool, err):
    product = load_data("hetzner.yml")["gpu_servers"].get(pool.get("machine_type"))
    acc, gpus = pool.get("accelerator"), pool.get("gpus_per_node")
    if not product:
        return
    if isinstance(acc, str) and acc != product["accelerator"]:
        err(path("accelerator"), acc, "%s, the GPU of %s" % (product["accelerator"], pool["machine_type"]))
    elif is_int(gpus) and gpus != product["count"]:
        err(path("gpus_per_node"), gpus, "%d, the GPU count of %s" % (product["count"], pool["machine_type"]))


@rule("hetzner.fixed_pools")
def fixed_pools(cfg, err):
    for var, why in (
        ("cpu_pools", "the role creates min_nodes servers (no autoscaler on Hetzner)"),
        ("gpu_pools", "GPU servers are ordered out of band; quotas count max_nodes"),
    ):
        for path, pool in cfg.items(var):
            low, high = pool.get("min_nodes"), pool.get("max_nodes")
            if is_int(low) and is_int(high) and low != high:
                err(path("max_nodes"), high, "%d, equal to min_nodes: %s" % (low, why))


@rule("hetzner.control_plane_count")
def control_plane_count(cfg, err):
    count = cfg.get("substrate_hetzner_control_plane_count")
    if is_int(count) and (count < 1 or count % 2 == 0):
        err(P("substrate_hetzner_control_plane_count"), count, "1, or an odd number such as 3 (embedded etcd needs a majority)")


@rule("hetzner.server_names")
def server_names(cfg, err):
    cluster = cfg.get("cluster_name")
    if not isinstance(cluster, str):
        return
    for path, pool in cfg.items("cpu_pools"):
        name, count = pool.get("name"), pool.get("min_nodes")
        if not isinstance(name, str):
            continue
        if name == "cp":
            err(
                path("name"),
                name,
                "a name other than cp: servers are named <cluster_name>-<pool>-<n> and %s-cp-<n> are the control plane's" % cluster,
            )
        elif is_int(count) and len("%s-%s-%d" % (cluster, name, max(count, 1))) > 63:
            err(path("name"), name, "a shorter name: server names <cluster_name>-<pool>-<n> must fit 63 characters")


@rule("hetzner.k3s_binary")
def k3s_binary(cfg, err):
    version, checksum = cfg.get("substrate_hetzner_k3s_version"), cfg.get("substrate_hetzner_k3s_binary_checksum")
    if isinstance(version, str) and not _K3S_VERSION.match(version):
        err(P("substrate_hetzner_k3s_version"), version, "a k3s release such as v1.33.5+k3s1")
    if isinstance(checksum, str) and checksum and not is_sha256(checksum):
        err(
            P("substrate_hetzner_k3s_binary_checksum"),
            checksum,
            "empty, or sha256:<64 lowercase hex> of the binary (get_url's checksum format)",
        )
    src = cfg.get("substrate_hetzner_k3s_binary_src")
    exists = cfg.context.get("exists", os.path.exists)
    if isinstance(src, str) and src and not exists(os.path.expanduser(src)):
        err(P("substrate_hetzner_k3s_binary_src"), src, "empty, or a k3s binary that exists on the controller")


@rule("hetzner.ssh_public_key")
def ssh_public_key(cfg, err):
    key = cfg.get("substrate_hetzner_ssh_public_key")
    if not isinstance(key, str) or "{{" in key:
        return
    if "PRIVATE KEY" in key:
        return  # secrets.private_key_in_public_field names it without echoing it
    if not _SSH_PUBLIC.match(key.strip()):
        err(
            P("substrate_hetzner_ssh_public_key"),
            key[:40],
            "one OpenSSH public key line (ssh-ed25519 AAAA... comment): the servers "
            "are created with it and the k3s play logs in with the matching private key",
        )


@rule("hetzner.gpu_workers_ssh")
def gpu_workers_ssh(cfg, err):
    hosts = (cfg.context.get("hosts") or {}).get("gpu_workers") or {}
    exists = cfg.context.get("exists", os.path.exists)
    identities = cfg.context.get("ssh_identities", True)
    for host, hostvars in sorted(hosts.items()):
        with skip_unknown:
            address = hostvars.get("ansible_host")
            keyfile = hostvars.get("ansible_ssh_private_key_file") or hostvars.get("ansible_private_key_file")
            if not address:
                err(
                    P("gpu_workers", host, "ansible_host"),
                    address,
                    "the GPU server's address (hosts.yml, gpu_workers): k3s joins it over SSH",
                )
            elif keyfile and not exists(os.path.expanduser(str(keyfile))):
                err(
                    P("gpu_workers", host, "ansible_ssh_private_key_file"),
                    keyfile,
                    "a private key file that exists on the controller (the key installed on the Robot server when it was ordered)",
                )
            elif not keyfile and not identities:
                err(
                    P("gpu_workers", host, "ansible_ssh_private_key_file"),
                    None,
                    "the private key of the SSH key installed on this "
                    "Robot server: the controller has no ssh-agent and no ~/.ssh/id_* key to log in with",
                )


@rule("hetzner.gpu_workers_match_pools")
def gpu_workers_match_pools(cfg, err):
    hosts = (cfg.context.get("hosts") or {}).get("gpu_workers") or {}
    if not hosts:
        return  # none listed yet: the sample inventory; the substrate joins what is listed
    wanted = 0
    for _path, pool in cfg.all_items("gpu_pools"):
        nodes = pool.get("max_nodes")
        if not is_int(nodes):
            return
        wanted += nodes
    if wanted != len(hosts):
        err(
            P("gpu_pools"),
            "%d GPU servers" % wanted,
            "as many GPU servers (max_nodes summed over gpu_pools) as hosts under "
            "gpu_workers (%d: %s): quotas and the GPU fleet are counted from gpu_pools" % (len(hosts), ", ".join(sorted(hosts))),
        )
