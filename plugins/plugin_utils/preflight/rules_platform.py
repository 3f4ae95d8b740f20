# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight rules for profiles, features and the GPU stack (PRIVATE to this collection)."""

from __future__ import annotations

from .formats import named

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
REPO_SCHEMES = ("https://", "http://", "ssh://", "git@", "file://")


def features(cfg):
    """Feature flags with defaults filled in."""
    merged = dict(FEATURE_DEFAULTS)
    merged.update({k: v for k, v in (cfg.get("platform_features") or {}).items() if isinstance(v, bool)})
    return merged


def physical_gpus(cfg):
    """Physical GPUs of the fleet: sum of gpus_per_node x max_nodes over gpu_pools."""
    total = 0
    for _path, pool in named(cfg, "gpu_pools"):
        gpus, nodes = pool.get("gpus_per_node"), pool.get("max_nodes")
        if isinstance(gpus, int) and isinstance(nodes, int):
            total += gpus * nodes
    return total


def check(cfg, err):
    profile = cfg.get("platform_profile")
    flags = features(cfg)
    explicit = cfg.get("platform_features") or {}
    if profile in PROFILES:
        rank = PROFILES.index(profile)
        for name, (needs_profile, needs) in FEATURES.items():
            if not flags.get(name):
                continue
            # A default-on feature outside the profile is simply not delivered;
            # one the user switched on explicitly is a mistake worth naming.
            if explicit.get(name) is True and PROFILES.index(needs_profile) > rank:
                err(
                    "platform_features.%s" % name,
                    True,
                    "false with platform_profile %s (it needs profile %s or wider)" % (profile, needs_profile),
                )
            for other in needs:
                if not flags.get(other):
                    err("platform_features.%s" % name, True, "false while platform_features.%s is false (%s needs it)" % (other, name))
    engines = {m.get("engine", "vllm") for _path, m in named(cfg, "models")}
    if "kserve" in engines and not flags.get("kserve"):
        err("platform_features.kserve", flags.get("kserve"), "true: models use engine kserve")
    substrate, stack = cfg.get("substrate"), cfg.get("gpu_stack")
    if substrate == "gke" and stack == "operator":
        err("gpu_stack", stack, "gke-managed or none on GKE (the GPU Operator's toolkit cannot register with GKE's containerd)")
    if substrate != "gke" and stack == "gke-managed" and substrate is not None:
        err("gpu_stack", stack, "operator or none off GKE (gke-managed needs GKE)")
    repo = cfg.get("platform_repo_url")
    if isinstance(repo, str) and not repo.startswith(REPO_SCHEMES):
        err("platform_repo_url", repo, "a git URL starting with " + ", ".join(REPO_SCHEMES))
    quota = cfg.get("platform_gpu_quota")
    if isinstance(quota, int) and not isinstance(quota, bool):
        fleet = physical_gpus(cfg)
        if quota < 0:
            err("platform_gpu_quota", quota, "0 (the fleet's physical GPU count) or a positive integer")
        elif quota > fleet:
            err("platform_gpu_quota", quota, "at most %d, the physical GPUs of gpu_pools (gpus_per_node x max_nodes)" % fleet)
    domain = cfg.get("platform_domain")
    if isinstance(domain, str) and domain and (domain != domain.lower() or "." not in domain or " " in domain):
        err("platform_domain", domain, "empty or a lowercase DNS zone such as example.com")
