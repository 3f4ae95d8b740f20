"""Render the app-of-apps the way Argo CD does, with the values roles/platform_apps derives
from each inventory. Shared by the unit, integration and perf tests of the platform core."""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
GITOPS = os.path.join(REPO, "gitops")
APP_OF_APPS = os.path.join(GITOPS, "app-of-apps")
HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.environ.get("LLM_PLATFORM_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "llm-platform"
)
INVENTORIES = ("gke", "hetzner", "byo", "lab")
PROFILES = ("platform", "serving", "llm-gateway", "full")
FEATURES = ("observability", "autoscaling", "gpu_quota", "kserve", "inference_routing")
GOMOD = os.path.join(CACHE, "go", "mod")


# Images for which no published digest could be found (their values.yaml says so): off the lab
# the in-repo charts refuse to render them by tag. Tests that render a real cloud's charts for
# other reasons pass a stand-in digest for them through apps.<app>.values (a sha256 of a label,
# never a digest of any image); tests/unit/gitops/test_image_digests.py checks the refusal and
# that no other image is unpinned.
STAND_IN_DIGEST = "sha256:" + hashlib.sha256(b"llm.platform test stand-in; not the digest of any image").hexdigest()
BLOCKED_IMAGES = {
    "litellm": {"image.digest": "ghcr.io/berriai/litellm-database:main-v1.108.7"},
    "inference-routing": {"bbr.image": "registry.k8s.io/gateway-api-inference-extension/bbr:v1.5.0"},
}


def stand_in_values():
    """apps.<app>.values that fill the blocked images with STAND_IN_DIGEST."""
    return {
        "litellm": {"values": {"image": {"digest": STAND_IN_DIGEST}}},
        "inference-routing": {"values": {"bbr": {"image": BLOCKED_IMAGES["inference-routing"]["bbr.image"] + "@" + STAND_IN_DIGEST}}},
    }


def with_stand_ins(values):
    """``values`` with stand_in_values() deep-merged into its apps overrides (a copy)."""
    merged = copy.deepcopy(values)

    def merge(dst, src):
        for key, value in src.items():
            if isinstance(value, dict) and isinstance(dst.get(key), dict):
                merge(dst[key], value)
            else:
                dst[key] = copy.deepcopy(value)

    merge(merged.setdefault("apps", {}), stand_in_values())
    return merged


def tool(name):
    """A binary from PATH or the lab's build ($LLM_PLATFORM_CACHE/bin); None if neither."""
    cached = os.path.join(CACHE, "bin", name)
    if os.access(cached, os.X_OK):
        return cached
    return shutil.which(name)


def venv_bin(name):
    return os.path.join(os.path.dirname(sys.executable), name)


@functools.cache
def inventory_values(inventory, *extra_vars):
    """{'values', 'project', 'argocd_config'} as roles/platform_apps and platform_argocd compute them
    (extra_vars: more `-e` arguments, e.g. "platform_argocd_version=v3.6.3")."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "values.json")
        env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"))
        env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
        proc = subprocess.run(
            [
                venv_bin("ansible-playbook"),
                "-i",
                os.path.join(REPO, "inventories", inventory),
                os.path.join(HERE, "dump_values.yml"),
                "-e",
                "out=" + out,
                "-e",
                "substrate_lab_runtime=false",
                *[arg for extra in extra_vars for arg in ("-e", extra)],
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if proc.returncode != 0:
            raise RuntimeError("dump_values.yml failed for %s:\n%s%s" % (inventory, proc.stdout, proc.stderr))
        with open(out, encoding="utf-8") as fh:
            return json.load(fh)


def values_for(inventory, profile=None, features=None, **overrides):
    """The inventory's values with an optional profile / feature / top-level override."""
    values = copy.deepcopy(inventory_values(inventory)["values"])
    if profile:
        values["profile"] = profile
    values["features"].update(features or {})
    values.update(overrides)
    return values


def helm_template(chart_dir, release, namespace, values):
    helm = tool("helm")
    if helm is None:
        raise FileNotFoundError("helm not found (lab/build.sh builds it into $LLM_PLATFORM_CACHE/bin)")
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
        yaml.safe_dump(values, fh)
        vfile = fh.name
    try:
        proc = subprocess.run(
            [helm, "template", release, chart_dir, "--namespace", namespace, "-f", vfile],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        os.unlink(vfile)
    if proc.returncode != 0:
        raise RuntimeError("helm template %s failed:\n%s" % (chart_dir, proc.stderr))
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


def render_root(values):
    """Every object of the app-of-apps for ``values`` (AppProject + Applications)."""
    return helm_template(APP_OF_APPS, "llm-platform", values.get("argocdNamespace", "argocd"), values)


def applications(values):
    return {d["metadata"]["name"]: d for d in render_root(values) if d["kind"] == "Application"}


def render_app(app):
    """Render one in-repo child Application's chart with the values Argo CD would pass."""
    src = app["spec"]["source"]
    helm = src.get("helm", {})
    return helm_template(
        os.path.join(REPO, src["path"]),
        helm.get("releaseName", app["metadata"]["name"]),
        app["spec"]["destination"]["namespace"],
        helm.get("valuesObject", {}),
    )


def in_repo(app):
    src = app["spec"]["source"]
    return src.get("path", "").startswith("gitops/charts/") and "chart" not in src


def app_line(app):
    """'<wave> <name> <auto|manual>', the golden file's row for one Application."""
    meta = app["metadata"]
    return "%s %s %s" % (meta["annotations"]["argocd.argoproj.io/sync-wave"], meta["name"], meta["annotations"]["llm-platform/sync"])


def combinations():
    """(key, inventory, profile, feature overrides) of the golden file."""
    combos = [("%s/%s" % (inv, prof), inv, prof, {}) for inv in INVENTORIES for prof in PROFILES]
    defaults = inventory_values("lab")["values"]["features"]
    for feature in FEATURES:
        flipped = not defaults[feature]
        combos.append(("lab/full/%s=%s" % (feature, str(flipped).lower()), "lab", "full", {feature: flipped}))
    return combos


def module_dir(module, version):
    """Directory of a downloaded Go module (lab/build.sh crds downloads them), or None."""
    path = os.path.join(GOMOD, *module.split("/")[:-1], module.split("/")[-1] + "@" + version)
    return path if os.path.isdir(path) else None


class _IndentDumper(yaml.SafeDumper):
    """Indents block sequences (yamllint's default style) for the golden files."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def dump_yaml(data, fh):
    yaml.dump(data, fh, Dumper=_IndentDumper, sort_keys=True, default_flow_style=False)
