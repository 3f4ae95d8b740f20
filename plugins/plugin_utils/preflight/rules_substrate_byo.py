# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight rules for a bring-your-own cluster (PRIVATE to this collection): the kubeconfig
the doctor reads exists, and the supported version range is a range. Rule ids: config_model.yml."""

from __future__ import annotations

import os
import re

from .registry import rule
from .view import P

_MINOR = re.compile(r"^1\.([0-9]{1,3})$")


@rule("byo.kubeconfig_exists")
def kubeconfig_exists(cfg, err):
    exists = cfg.context.get("exists", os.path.exists)
    for name in ("kubeconfig_path", "substrate_byo_kubeconfig"):
        path = cfg.get(name)
        if isinstance(path, str) and path and "{{" not in path and not exists(os.path.expanduser(path)):
            err(
                P(name),
                path,
                "the kubeconfig of your cluster, a file that exists on the controller (byo reads it; it is never "
                "written for you): set KUBECONFIG or kubeconfig_path",
            )


@rule("byo.version_range")
def version_range(cfg, err):
    low, high = cfg.get("substrate_byo_min_version"), cfg.get("substrate_byo_max_version")
    minors = {}
    for name, value in (("substrate_byo_min_version", low), ("substrate_byo_max_version", high)):
        if not isinstance(value, str):
            continue
        match = _MINOR.match(value)
        if not match:
            err(P(name), value, 'a Kubernetes minor version such as "1.30" (quoted: 1.30 unquoted is the number 1.3)')
        else:
            minors[name] = int(match.group(1))
    if len(minors) == 2 and minors["substrate_byo_min_version"] > minors["substrate_byo_max_version"]:
        err(P("substrate_byo_max_version"), high, "at least substrate_byo_min_version %s" % low)
