# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight rules for the secret store (PRIVATE to this collection)."""

from __future__ import annotations

import re

from .formats import DNS_LABEL, is_dns_label

AUTH_BY_BACKEND = {
    "gcpsm": ("workload-identity", "sa-key"),
    "vault": ("token", "kubernetes"),
    "kubernetes": ("service-account",),
}
REQUIRED_BY_BACKEND = {
    "gcpsm": ("secret_gcp_project_id",),
    "vault": ("secret_vault_server", "secret_vault_path"),
    "kubernetes": ("secret_kubernetes_namespace",),
}
GCP_PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")


def check(cfg, err):
    backend, auth = cfg.get("secret_backend"), cfg.get("secret_store_auth")
    if backend not in AUTH_BY_BACKEND:
        return
    if auth is not None and auth not in AUTH_BY_BACKEND[backend]:
        err("secret_store_auth", auth, "with secret_backend %s: %s" % (backend, ", ".join(AUTH_BY_BACKEND[backend])))
    for var in REQUIRED_BY_BACKEND[backend]:
        if not cfg.get(var):
            err(var, cfg.get(var), "a non-empty value: secret_backend %s needs it" % backend)
    project = cfg.get("secret_gcp_project_id")
    if backend == "gcpsm" and project and not GCP_PROJECT.match(str(project)):
        err("secret_gcp_project_id", project, "a GCP project id: 6-30 lowercase letters, digits and '-', starting with a letter")
    server = cfg.get("secret_vault_server")
    if backend == "vault" and server and not str(server).startswith(("https://", "http://")):
        err("secret_vault_server", server, "an http(s):// URL")
    if backend == "gcpsm" and auth == "workload-identity" and cfg.get("substrate") not in (None, "gke"):
        err("secret_store_auth", auth, "sa-key off GKE (Workload Identity exists only on GKE)")
    name = cfg.get("secret_store_name")
    if name is not None and not is_dns_label(name):
        err("secret_store_name", name, DNS_LABEL)
