# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight rules for the secret store, and for secrets and placeholders in the wrong place
(PRIVATE to this collection). Each rule id is documented in config_model.yml."""

from __future__ import annotations

import re

from .formats import DNS_LABEL, example_domain, http_url_ok, is_dns_label, placeholder
from .redact import host_of, is_secret_name, url_credentials
from .registry import rule
from .view import INVALID, P

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

# URL variables and where their credential belongs instead.
URL_CREDENTIAL_HOME = {
    "platform_repo_url": "the environment variable LLM_PLATFORM_REPO_TOKEN (or platform_argocd_repo_password, vaulted) "
    "with platform_argocd_repo_username, or LLM_PLATFORM_REPO_SSH_KEY for an ssh:// URL",
    "platform_argocd_repo_url": "the environment variable LLM_PLATFORM_REPO_TOKEN (or platform_argocd_repo_password, vaulted)",
    "platform_apps_repo_url": "the environment variable LLM_PLATFORM_REPO_TOKEN (or platform_argocd_repo_password, vaulted)",
    "tenants_litellm_api_url": "the environment variable LITELLM_MASTER_KEY (or tenants_litellm_master_key, vaulted)",
    "bench_litellm_url": "the environment variable LITELLM_MASTER_KEY (or bench_litellm_master_key, vaulted)",
    "bench_endpoint": "the environment variable BENCH_API_KEY (or bench_api_key, vaulted)",
    "bench_job_endpoint": "the environment variable BENCH_API_KEY (or bench_api_key, vaulted)",
    "bench_prometheus_url": "a Prometheus reachable without credentials (or an authenticating proxy)",
    "bench_job_prometheus_url": "a Prometheus reachable without credentials (or an authenticating proxy)",
    "secret_vault_server": "the environment variable VAULT_TOKEN",
    "platform_serving_litellm_api_url": "the environment variable LITELLM_MASTER_KEY",
    "substrate_hetzner_k3s_binary_url": "a mirror that needs no credentials, or substrate_hetzner_k3s_binary_src",
    "substrate_hetzner_helm_repo_url": "a chart mirror that needs no credentials",
    "platform_argocd_manifest": "a mirror that needs no credentials, or a local file",
}
# Where a downstream tool fetches from: a reserved example name there cannot work.
FETCHED_HOSTS = ("secret_vault_server", "substrate_hetzner_k3s_binary_url", "platform_argocd_manifest", "bench_job_image")


@rule("secrets.store_auth")
def store_auth(cfg, err):
    backend, auth = cfg.get("secret_backend"), cfg.get("secret_store_auth")
    if backend in AUTH_BY_BACKEND and auth is not None and auth not in AUTH_BY_BACKEND[backend]:
        err(P("secret_store_auth"), auth, "with secret_backend %s: %s" % (backend, ", ".join(AUTH_BY_BACKEND[backend])))


@rule("secrets.backend_fields")
def backend_fields(cfg, err):
    backend = cfg.get("secret_backend")
    if backend not in AUTH_BY_BACKEND:
        return
    for var in REQUIRED_BY_BACKEND[backend]:
        value = cfg.get(var)
        if value is not INVALID and not value:
            err(P(var), value, "a non-empty value: secret_backend %s needs it" % backend)


@rule("secrets.gcp_project_format")
def gcp_project_format(cfg, err):
    project = cfg.get("secret_gcp_project_id")
    if cfg.get("secret_backend") == "gcpsm" and isinstance(project, str) and project and not GCP_PROJECT.match(project):
        err(P("secret_gcp_project_id"), project, "a GCP project id: 6-30 lowercase letters, digits and '-', starting with a letter")


@rule("secrets.vault_server_url")
def vault_server_url(cfg, err):
    server = cfg.get("secret_vault_server")
    if cfg.get("secret_backend") == "vault" and isinstance(server, str) and server and not http_url_ok(server):
        err(P("secret_vault_server"), server, "an http(s):// URL such as https://vault.example.internal:8200")


@rule("secrets.workload_identity_gke")
def workload_identity_gke(cfg, err):
    backend, auth, substrate = cfg.get("secret_backend"), cfg.get("secret_store_auth"), cfg.get("substrate")
    if backend == "gcpsm" and auth == "workload-identity" and substrate in ("hetzner", "byo", "lab"):
        err(P("secret_store_auth"), auth, "sa-key off GKE (Workload Identity exists only on GKE)")


@rule("secrets.store_name")
def store_name(cfg, err):
    name = cfg.get("secret_store_name")
    if isinstance(name, str) and not is_dns_label(name):
        err(P("secret_store_name"), name, DNS_LABEL)


_QUERY_SECRET = re.compile(r"[?&][a-z_]*(token|key|password|secret)=", re.I)


@rule("secrets.no_credentials_in_urls")
def no_credentials_in_urls(cfg, err):
    for name in sorted(cfg.values):
        url = cfg.get(name)
        if not isinstance(url, str):
            continue
        home = URL_CREDENTIAL_HOME.get(name, "a vaulted variable or the environment, never in the URL")
        creds = url_credentials(url)
        if creds and not (url.startswith("ssh://") and not creds[1]):  # ssh://git@host/...: a user name, the key is elsewhere
            err(
                P(name),
                url,
                "a URL without credentials (they would be stored in git and in Argo CD or printed in logs); put the secret in %s" % home,
            )
        elif "://" in url and _QUERY_SECRET.search(url):
            err(P(name), url, "a URL without a secret in its query string; put the secret in %s" % home)


@rule("secrets.private_key_in_public_field")
def private_key_in_public_field(cfg, err):
    for name in sorted(cfg.values):
        value = cfg.get(name)
        if isinstance(value, str) and "PRIVATE KEY-----" in value and ("public" in name or not is_secret_name(name)):
            err(
                P(name),
                "<hidden: private key material>",
                "no private key here: %s is not a secret option (its value is printed "
                "and stored); give the private key to ansible_ssh_private_key_file or the matching *_private_key option" % name,
            )


@rule("placeholders.markers")
def placeholder_markers(cfg, err):
    def walk(path, value):
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(path(str(key)), sub)
        elif isinstance(value, list):
            for index, sub in enumerate(value):
                walk(path(index), sub)
        elif isinstance(value, str) and "{{" not in value:
            marker = placeholder(value)
            if marker:
                err(path, value, "a real value: %r is a placeholder from an example, left in" % marker)

    for name in sorted(cfg.values):
        if not is_secret_name(name):
            walk(P(name), cfg.get(name))


@rule("placeholders.example_hosts")
def placeholder_example_hosts(cfg, err):
    for name in FETCHED_HOSTS:
        value = cfg.get(name)
        if not isinstance(value, str) or not value:
            continue
        host = host_of(value) if "://" in value else value.split("/", 1)[0].split("@", 1)[0].split(":", 1)[0]
        if example_domain(host):
            err(P(name), value, "a host that exists: %s is reserved for documentation and tests (RFC 2606)" % host)
    for path, model in cfg.items("models"):
        source = model.get("source")
        if isinstance(source, str) and source.startswith("oci://"):
            host = source[len("oci://") :].split("/", 1)[0].split(":", 1)[0]
            if example_domain(host):
                err(path("source"), source, "an image in a registry that exists: %s is reserved for documentation (RFC 2606)" % host)
