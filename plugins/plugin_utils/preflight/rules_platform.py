# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight rules for profiles, features, the GPU stack, the repository and the domain
(PRIVATE to this collection). Each rule id is documented in config_model.yml."""

from __future__ import annotations

from urllib.parse import urlsplit

from .formats import REPO_URL, example_domain, is_int, physical_gpus, repo_url_ok
from .registry import rule
from .view import P, known

PROFILES = ("platform", "serving", "llm-gateway", "full")

# feature -> (the narrowest profile that carries it, features it needs)
FEATURES = {
    "observability": ("platform", ()),
    "autoscaling": ("platform", ("observability",)),
    "gpu_quota": ("platform", ()),
    "kserve": ("serving", ()),
    "inference_routing": ("llm-gateway", ()),
}
FEATURE_DEFAULTS = {
    "observability": True,
    "autoscaling": True,
    "gpu_quota": True,
    "kserve": False,
    "inference_routing": True,
}


def features(cfg):
    """Feature flags with defaults filled in (an unknown flag stays unknown)."""
    merged = dict(FEATURE_DEFAULTS)
    explicit = cfg.get("platform_features") or {}
    if isinstance(explicit, dict):
        merged.update({k: v for k, v in explicit.items() if k in FEATURE_DEFAULTS})
    return merged


@rule("platform.features_in_profile")
def features_in_profile(cfg, err):
    profile = cfg.get("platform_profile")
    explicit = cfg.get("platform_features") or {}
    if profile not in PROFILES or not isinstance(explicit, dict):
        return
    rank = PROFILES.index(profile)
    for name, (needs_profile, _needs) in FEATURES.items():
        # A default-on feature outside the profile is simply not delivered; one switched on
        # explicitly is a mistake worth naming.
        if explicit.get(name) is True and PROFILES.index(needs_profile) > rank:
            err(
                P("platform_features", name),
                True,
                "false with platform_profile %s (it needs profile %s or wider)" % (profile, needs_profile),
            )


@rule("platform.feature_dependencies")
def feature_dependencies(cfg, err):
    flags = features(cfg)
    for name, (_profile, needs) in FEATURES.items():
        if flags[name] is True:
            for other in needs:
                if flags[other] is False:
                    err(P("platform_features", name), True, "false while platform_features.%s is false (%s needs it)" % (other, name))


@rule("platform.kserve_for_models")
def kserve_for_models(cfg, err):
    if features(cfg)["kserve"] is not False:
        return
    users = ["%s (%s)" % (path, m.get("name")) for path, m in cfg.all_items("models") if m.get("engine", "vllm") == "kserve"]
    if users:
        err(
            P("platform_features", "kserve"),
            False,
            "true: %s use%s engine kserve, which the KServe operator serves (or give them "
            "engine vllm)" % (", ".join(users), "s" if len(users) == 1 else ""),
        )


@rule("platform.gpu_stack_substrate")
def gpu_stack_substrate(cfg, err):
    substrate, stack = cfg.get("substrate"), cfg.get("gpu_stack")
    allowed = {
        "gke": ("gke-managed", "none", "gke-managed or none on GKE (the GPU Operator's toolkit cannot register with GKE's containerd)"),
        "hetzner": ("operator", "none", "operator or none on Hetzner (gke-managed needs GKE)"),
        "byo": ("operator", "none", "operator or none on a bring-your-own cluster (gke-managed needs GKE)"),
        "lab": ("none", "none", "none in the lab (kwok simulates the GPUs; no driver stack can run on its nodes)"),
    }
    if substrate in allowed and stack is not None and stack not in allowed[substrate][:2]:
        err(P("gpu_stack"), stack, allowed[substrate][2])


@rule("platform.gateway_class_substrate")
def gateway_class_substrate(cfg, err):
    gateway, substrate = cfg.get("gateway_class"), cfg.get("substrate")
    if isinstance(gateway, str) and substrate in ("hetzner", "byo", "lab") and gateway.startswith("gke-"):
        err(
            P("gateway_class"), gateway, "a GatewayClass that exists off GKE (gke-* classes are provided by GKE only), such as agentgateway"
        )


@rule("platform.repo_url_format")
def repo_url_format(cfg, err):
    for name in ("platform_repo_url", "platform_argocd_repo_url", "platform_apps_repo_url"):
        url = cfg.get(name)
        if isinstance(url, str) and "{{" not in url and not repo_url_ok(url):
            err(P(name), url, REPO_URL)
        elif isinstance(url, str) and url.startswith("file://") and cfg.get("substrate") not in ("lab", None):
            err(P(name), url, "a remote git URL: Argo CD in the cluster cannot read the controller's file:// path (file:// is for the lab)")


@rule("platform.gpu_quota_within_fleet")
def gpu_quota_within_fleet(cfg, err):
    quota = cfg.get("platform_gpu_quota")
    if not is_int(quota):
        return
    if quota < 0:
        err(P("platform_gpu_quota"), quota, "0 (the fleet's physical GPU count) or a positive integer")
        return
    fleet = physical_gpus(cfg)
    if quota > fleet:
        err(P("platform_gpu_quota"), quota, "at most %d, the physical GPUs of gpu_pools (gpus_per_node x max_nodes)" % fleet)


@rule("platform.domain_format")
def domain_format(cfg, err):
    domain = cfg.get("platform_domain")
    if not isinstance(domain, str) or not domain:
        return
    if "://" in domain or "/" in domain:
        host = urlsplit(domain if "://" in domain else "//" + domain).hostname or ""
        err(P("platform_domain"), domain, "a DNS zone, not a URL: %s (the platform serves https://llm.<zone>)" % (host or "example.com"))
    elif domain != domain.lower() or domain.endswith(".") or "." not in domain or ":" in domain or " " in domain:
        err(P("platform_domain"), domain, "empty or a lowercase DNS zone such as example.com (no port, no trailing dot)")
    elif example_domain(domain):
        err(P("platform_domain"), domain, "a zone you own: %s is reserved for documentation and tests (RFC 2606)" % domain)


def known_value(value):
    return known(value) and value is not None
