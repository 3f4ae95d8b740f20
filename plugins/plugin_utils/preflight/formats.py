# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Format checks and facts shared by the preflight rules (PRIVATE to this collection)."""

from __future__ import annotations

import functools
import ipaddress
import os
import re

import yaml

from .view import INVALID, Unknown, known

HERE = os.path.dirname(os.path.abspath(__file__))

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_WINDOW = re.compile(r"^[1-9][0-9]*(s|m|h|d|mo)$")
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")
_HF = re.compile(r"^hf://[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
_PVC = re.compile(r"^pvc://(?P<claim>[^/]+)(/(?P<path>.+))?$")
_OCI = re.compile(
    r"^oci://[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?@sha256:[0-9a-f]{64}$"
)
_DIGEST_IMAGE = re.compile(r"^[^@\s]+@sha256:[0-9a-f]{64}$")
_HTTP = re.compile(r"^https?://(?P<host>[A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\])(:[0-9]{1,5})?(/[^\s]*)?$")
_SSH_URL = re.compile(r"^ssh://([A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+(:[0-9]{1,5})?/[^\s]+$")
_SCP = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!//)[^\s]+$")
_FILE = re.compile(r"^file:///[^\s]*[^\s/]$")
_GIT = re.compile(r"^git://[A-Za-z0-9.-]+(:[0-9]{1,5})?/[^\s]+$")
_SHA256 = re.compile(r"^sha256:[0-9a-f]{64}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_PLACEHOLDER = re.compile(r"<[^<>\s][^<>]*>")
_FILLER = re.compile(r"^(changeme|change-me|replaceme|replace[-_]me|todo|fixme|tbd|x{3,}|\.\.\.|your[-_].*)$", re.I)
# RFC 2606 / RFC 6761 names that can never be yours on the internet.
_EXAMPLE_DOMAIN = re.compile(r"(^|\.)(example\.(com|net|org)|example|invalid|test|localhost)$")

DNS_LABEL = "a DNS-1123 label: lowercase letters, digits and '-', starting and ending alphanumeric, at most 63 characters"
DNS_SUBDOMAIN = "a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', at most 253 characters"
WINDOW = "a duration like 30s, 15m, 24h, 7d, 30d or 1mo"
QUANTITY = "a Kubernetes quantity like 20Gi"
SOURCE = "hf://<org>/<repo>, pvc://<claim>[/<path>] or oci://<registry>/<repo>@sha256:<64 hex>"
REPO_URL = (
    "a git URL Argo CD can clone: https://<host>/<path>, ssh://[user@]<host>/<path>, the scp-like "
    "<user>@<host>:<path> (e.g. git@github.com:org/repo.git), git://<host>[:port]/<path> (the lab's git host), "
    "or file:///<absolute path> in the lab"
)


def is_dns_label(value, max_len=63):
    return isinstance(value, str) and len(value) <= max_len and bool(_LABEL.match(value))


def is_dns_subdomain(value):
    if not isinstance(value, str) or not value or len(value) > 253:
        return False
    return all(_LABEL.match(part) for part in value.split("."))


def is_window(value):
    return isinstance(value, str) and bool(_WINDOW.match(value))


def is_quantity(value):
    return isinstance(value, str) and bool(_QUANTITY.match(value))


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def is_num(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_digest_image(value):
    return isinstance(value, str) and bool(_DIGEST_IMAGE.match(value))


def is_sha256(value):
    return isinstance(value, str) and bool(_SHA256.match(value))


def is_hex64(value):
    return isinstance(value, str) and bool(_HEX64.match(value))


def source_ok(value):
    """True for a model source the serving chart understands."""
    if not isinstance(value, str):
        return False
    if value.startswith("hf://"):
        return bool(_HF.match(value))
    if value.startswith("pvc://"):
        match = _PVC.match(value)
        path = (match.group("path") or "") if match else ""
        return bool(match) and is_dns_subdomain(match.group("claim")) and ".." not in path.split("/") and not path.startswith("/")
    if value.startswith("oci://"):
        return bool(_OCI.match(value))
    return False


def repo_url_ok(value):
    if not isinstance(value, str):
        return False
    return bool(_HTTP.match(value) or _SSH_URL.match(value) or _SCP.match(value) or _FILE.match(value) or _GIT.match(value))


def http_url_ok(value):
    return isinstance(value, str) and bool(_HTTP.match(value))


def placeholder(value):
    """The placeholder marker in a string (``<registry>``, ``changeme``), or None."""
    if not isinstance(value, str):
        return None
    match = _PLACEHOLDER.search(value)
    if match:
        return match.group(0)
    return value if _FILLER.match(value.strip()) else None


def example_domain(host):
    """True for a reserved example/test name (RFC 2606, RFC 6761) that cannot be deployed to."""
    return isinstance(host, str) and bool(_EXAMPLE_DOMAIN.search(host.lower().rstrip(".")))


def cidr(value):
    """The network for a CIDR string, or None when it is not one."""
    try:
        return ipaddress.ip_network(value, strict=True)
    except (TypeError, ValueError):
        return None


def duplicates(items):
    """Known values that occur more than once, each once, in first-seen order, with the index
    of their second occurrence: [(value, index)]."""
    seen, dupes = set(), []
    for index, item in enumerate(items):
        if not known(item) or not isinstance(item, (str, int)):
            continue
        if item in seen and item not in [d for d, _n in dupes]:
            dupes.append((item, index))
        seen.add(item)
    return dupes


def names_of(cfg, var, field="name"):
    """(set of known names, complete): complete is False when some item or name is unknown,
    so a reference not found among them cannot be called wrong."""
    seq = cfg.get(var)
    if seq is INVALID:
        return set(), False
    complete, names = True, set()
    for item in seq if isinstance(seq, list) else []:
        value = item.get(field) if isinstance(item, dict) else INVALID
        if value is INVALID or not isinstance(value, str):
            complete = False
        else:
            names.add(value)
    return names, complete


def physical_gpus(cfg):
    """Physical GPUs of the fleet: sum of gpus_per_node x max_nodes over gpu_pools
    (:class:`Unknown` when any pool's count is unknown)."""
    total = 0
    for _path, pool in cfg.all_items("gpu_pools"):
        gpus, nodes = pool.get("gpus_per_node"), pool.get("max_nodes")
        if not (is_int(gpus) and is_int(nodes)):
            raise Unknown()
        total += gpus * nodes
    return total


def largest_node(cfg):
    """The largest gpus_per_node of gpu_pools (Unknown when any is unknown), 0 without pools."""
    sizes = []
    for _path, pool in cfg.all_items("gpu_pools"):
        gpus = pool.get("gpus_per_node")
        if not is_int(gpus):
            raise Unknown()
        sizes.append(gpus)
    return max(sizes or [0])


FLOORS = {"cost": 0, "dev": 1, "prod": 2}


def replica_floor(cfg, model):
    """A model's replica floor: min_replicas, or the cost tier's floor (chart: model-serving)."""
    if "min_replicas" in model and model["min_replicas"] is not None:
        return model["min_replicas"]
    tier = cfg.get("cost_tier")
    if tier is INVALID or tier not in FLOORS:
        raise Unknown()
    return FLOORS[tier]


@functools.cache
def load_data(name):
    """A data file of this package (cloud facts; each says where its data comes from).
    Cached: callers only read it."""
    with open(os.path.join(HERE, name), encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}
