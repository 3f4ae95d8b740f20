"""Render the serving charts the way Argo CD does: the app-of-apps computes each child
Application's Helm values (cluster facts, models, secret-contract ExternalSecrets) and the
child chart is rendered with exactly those values. Shared by unit, integration and perf tests."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

# The blocked images' stand-in digests live with the other render helpers (tests/unit/gitops).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "gitops"))
from gitops_render import stand_in_values

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
GITOPS = os.path.join(REPO, "gitops")
HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.environ.get("LLM_PLATFORM_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "llm-platform"
)
SERVING_APPS = ("model-serving", "inference-routing", "litellm")


class _Loader(yaml.SafeLoader):
    """YAML 1.2 floats: helm (Go) prints 5e-07, which YAML 1.1 (PyYAML) reads as a string."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def helm_binary():
    """helm from PATH or the lab's build ($LLM_PLATFORM_CACHE/bin/helm); None if neither."""
    found = shutil.which("helm")
    if found:
        return found
    cached = os.path.join(CACHE, "bin", "helm")
    return cached if os.access(cached, os.X_OK) else None


def load_models(name="models3.yml"):
    with open(os.path.join(HERE, name), encoding="utf-8") as fh:
        return yaml.safe_load(fh)["models"]


def cluster_facts(substrate="lab"):
    """The app-of-apps `cluster` values of an inventory (the subset the serving charts use)."""
    path = os.path.join(REPO, "inventories", substrate, "group_vars", substrate, "substrate.yml")
    with open(path, encoding="utf-8") as fh:
        inv = yaml.safe_load(fh)
    return {
        "substrate": inv["substrate"],
        "gpuStack": inv["gpu_stack"],
        "storageClass": inv.get("storage_class", ""),
        "gatewayClass": inv["gateway_class"],
        "domain": "",
        "costTier": "dev",
        "gpuPools": inv.get("gpu_pools", []),
        "cpuPools": inv.get("cpu_pools", []),
    }


def _helm(args):
    helm = helm_binary()
    if helm is None:
        raise FileNotFoundError("helm not found (lab/build.sh builds it into $LLM_PLATFORM_CACHE/bin)")
    res = subprocess.run([helm, *args], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise RuntimeError("helm %s failed:\n%s" % (" ".join(args[:3]), res.stderr))
    return res.stdout


def helm_template(chart_dir, release, namespace, values):
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
        yaml.safe_dump(values, fh)
        vfile = fh.name
    try:
        out = _helm(["template", release, chart_dir, "--namespace", namespace, "-f", vfile])
    finally:
        os.unlink(vfile)
    return [d for d in yaml.load_all(out, Loader=_Loader) if d]


def root_values(models, substrate="lab", cost_tier="dev", kserve=True, profile="llm-gateway", secret_backend="kubernetes"):  # noqa: S107 (a backend name)
    cluster = cluster_facts(substrate)
    cluster["costTier"] = cost_tier
    values = {
        "profile": profile,
        "features": {"observability": True, "autoscaling": True, "gpu_quota": True, "kserve": kserve, "inference_routing": True},
        "cluster": cluster,
        "models": models,
        "secrets": {"storeName": "secret-store", "backend": secret_backend, "auth": "service-account"},
    }
    if substrate == "lab":
        values["litellm"] = {"database": "statefulset"}  # as inventories/lab (no CloudNativePG operator there)
    else:
        # These tests are about routing and tiers; tests/unit/gitops/test_image_digests.py is about pins.
        values["apps"] = stand_in_values()
    return values


def applications(values):
    """Child Applications the app-of-apps renders for ``values``, by name."""
    docs = helm_template(os.path.join(GITOPS, "app-of-apps"), "root", "argocd", values)
    return {d["metadata"]["name"]: d for d in docs if d.get("kind") == "Application"}


def render_app(app):
    """Render one in-repo child Application's chart with the values Argo CD would pass."""
    src = app["spec"]["source"]
    chart = os.path.join(REPO, src["path"])
    helm = src.get("helm", {})
    return helm_template(
        chart, helm.get("releaseName", app["metadata"]["name"]), app["spec"]["destination"]["namespace"], helm.get("valuesObject", {})
    )


def render_serving(models=None, **kwargs):
    """{app name: [objects]} for the serving apps the profile turns on."""
    apps = applications(root_values(models if models is not None else load_models(), **kwargs))
    return {name: render_app(apps[name]) for name in SERVING_APPS if name in apps}


def by_kind(objects, kind):
    return [o for o in objects if o.get("kind") == kind]


class _IndentDumper(yaml.SafeDumper):
    """Indents block sequences (yamllint's default style) for the golden files."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def dump_golden(path, docs):
    with open(path, "w", encoding="utf-8") as fh:
        yaml.dump_all(docs, fh, Dumper=_IndentDumper, sort_keys=True, explicit_start=True)
