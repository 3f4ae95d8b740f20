# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Format checks shared by the preflight rules (PRIVATE to this collection)."""

from __future__ import annotations

import ipaddress
import re

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_WINDOW = re.compile(r"^[1-9][0-9]*(s|m|h|d|mo)$")
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")

DNS_LABEL = "a DNS-1123 label: lowercase letters, digits and '-', starting and ending alphanumeric, at most 63 characters"
DNS_SUBDOMAIN = "a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', at most 253 characters"
WINDOW = "a duration like 30s, 15m, 24h, 7d, 30d or 1mo"
QUANTITY = "a Kubernetes quantity like 20Gi"


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


def cidr(value):
    """The network for a CIDR string, or None when it is not one."""
    try:
        return ipaddress.ip_network(value, strict=True)
    except (TypeError, ValueError):
        return None


def duplicates(items):
    """Values that occur more than once, each reported once, in first-seen order."""
    seen, dupes = set(), []
    for item in items:
        if item in seen and item not in dupes:
            dupes.append(item)
        seen.add(item)
    return dupes


def named(cfg, key):
    """(index, item) for the dict items of a list variable."""
    return [(i, item) for i, item in enumerate(cfg.get(key) or []) if isinstance(item, dict)]
