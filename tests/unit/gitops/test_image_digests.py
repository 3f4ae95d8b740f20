"""Pins that mean what they say: every image of every in-repo chart, rendered the way Argo CD
renders it (helm template of the app-of-apps with each inventory's values, then of each in-repo
child with the values the app-of-apps passes; full profile, every feature, dev and prod tier so
Redis renders too), is pinned by digest. An image no published digest could be found for
(BLOCKED_IMAGES) makes its chart refuse to render off the lab, naming the value. Every upstream
source the app-of-apps pins is deployed by some Application."""

from __future__ import annotations

import re

import pytest
import yaml

from .gitops_render import (
    APP_OF_APPS,
    BLOCKED_IMAGES,
    STAND_IN_DIGEST,
    applications,
    in_repo,
    render_app,
    tool,
    values_for,
    with_stand_ins,
)

pytestmark = pytest.mark.skipif(tool("helm") is None, reason="helm not built (lab/build.sh helm)")
ALL_ON = {"observability": True, "autoscaling": True, "gpu_quota": True, "kserve": True, "inference_routing": True}
CLOUDS = ("gke", "hetzner", "byo")
# Container images (Pods, Deployments, Jobs, KServe runtimes) and the cnpg Cluster's imageName.
IMAGE_KEYS = ("image", "imageName")
PINNED = re.compile(r"^[^\s@]+@sha256:[0-9a-f]{64}$")
# Images every full render must contain, so a walker that finds nothing cannot pass.
EXPECTED = ("vllm/vllm-openai", "gateway-api-inference-extension/epp", "berriai/litellm-database", "cloudnative-pg/postgresql")


def _images(obj, where, out):
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key in IMAGE_KEYS and isinstance(value, str):
                out.append((where + "." + key, value))
            _images(value, where + "." + key, out)
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            _images(value, "%s[%d]" % (where, i), out)
    return out


def _values(inventory, tier):
    values = values_for(inventory, "full", ALL_ON)
    values["cluster"]["costTier"] = tier
    return values


def _render_all(values):
    """[(where, image)] of the root (Applications) and of every in-repo child chart."""
    found = []
    for name, app in sorted(applications(values).items()):
        _images(app, "Application/" + name, found)
        if in_repo(app):
            for obj in render_app(app):
                _images(obj, "%s/%s/%s" % (name, obj["kind"], obj["metadata"]["name"]), found)
    return found


@pytest.mark.parametrize("inventory", CLOUDS)
@pytest.mark.parametrize("tier", ["dev", "prod"])
def test_every_image_of_a_real_cloud_is_pinned_by_digest(inventory, tier):
    found = _render_all(with_stand_ins(_values(inventory, tier)))  # stand-ins: the blocked images only
    for image in EXPECTED:
        assert any(image in ref for _where, ref in found), image
    if tier == "prod":
        assert any("/library/redis:" in ref for _where, ref in found)
    unpinned = sorted({(where, ref) for where, ref in found if not PINNED.match(ref)})
    assert unpinned == [], "images without a digest"
    blocked = {ref for refs in BLOCKED_IMAGES.values() for ref in refs.values()}
    stand_ins = {ref.split("@")[0] for _where, ref in found if ref.endswith(STAND_IN_DIGEST)}
    assert stand_ins <= blocked, "the stand-in digest may only fill the blocked images"


# Where each blocked image renders: LiteLLM everywhere, the body-based router only behind
# gateway classes without their own body routing (GKE's; agentgateway routes by body itself).
RENDERED = [("gke", "litellm"), ("hetzner", "litellm"), ("byo", "litellm"), ("gke", "inference-routing")]


@pytest.mark.parametrize("inventory,app", RENDERED)
def test_a_blocked_image_makes_its_chart_refuse_to_render_off_the_lab(inventory, app):
    ((path, ref),) = BLOCKED_IMAGES[app].items()
    pinned = with_stand_ins(_values(inventory, "prod"))
    assert any(r == ref + "@" + STAND_IN_DIGEST or r.startswith(ref.split(":")[0] + ":") for _w, r in _render_all(pinned))
    with pytest.raises(RuntimeError) as failed:
        render_app(applications(_values(inventory, "prod"))[app])
    assert '%s: "%s" is not pinned by digest' % (path, ref) in str(failed.value)
    assert "@sha256:<64 hex>" in str(failed.value)


def test_where_the_blocked_images_render():
    """RENDERED above is complete: no other real-cloud render carries a blocked image."""
    where = set()
    for inventory in CLOUDS:
        for name, app in applications(with_stand_ins(_values(inventory, "prod"))).items():
            if in_repo(app) and any(r.endswith(STAND_IN_DIGEST) for _w, r in _images(render_app(app), name, [])):
                where.add((inventory, name))
    assert where == set(RENDERED)


def test_a_malformed_digest_is_refused_too():
    values = with_stand_ins(_values("gke", "dev"))
    values["apps"]["litellm"]["values"]["image"]["digest"] = "sha256:abc"
    with pytest.raises(RuntimeError, match=r"image\.digest: .*@sha256:abc.* is not pinned by digest"):
        render_app(applications(values)["litellm"])


# Images only the lab renders: its database mode and its Gateway API implementation, both run
# by the lab's pod runtime from host binaries (lab/runtime/images.yml), never pulled.
LAB_ONLY = ("docker.io/library/postgres:15", "lab.llm-platform.invalid/gateway-controller:0.1.0")


def test_the_lab_renders_and_only_the_blocked_and_lab_only_images_lack_a_digest():
    """The lab never pulls, so it renders the blocked images by tag - and its own, nothing else."""
    found = _render_all(_values("lab", "prod"))
    unpinned = sorted({ref for _where, ref in found if not PINNED.match(ref)})
    assert unpinned == sorted([ref for refs in BLOCKED_IMAGES.values() for ref in refs.values()] + list(LAB_ONLY))


def test_the_statefulset_database_refuses_its_tag_off_the_lab():
    values = with_stand_ins(_values("byo", "prod"))
    values["apps"]["litellm"]["values"].setdefault("database", {})["mode"] = "statefulset"
    with pytest.raises(RuntimeError, match=r'database\.statefulset\.image: "docker.io/library/postgres:15" is not pinned'):
        render_app(applications(values)["litellm"])


def _pin_key(source):
    return (source.get("repoURL"), source.get("chart") or source.get("path"), source.get("targetRevision"))


def test_every_pinned_upstream_source_is_deployed():
    with open(APP_OF_APPS + "/values.yaml", encoding="utf-8") as fh:
        pins = yaml.safe_load(fh)["sources"]
    deployed = set()
    for inventory in (*CLOUDS, "lab"):
        for kserve in (True, False):
            features = dict(ALL_ON, kserve=kserve)
            for app in applications(values_for(inventory, "full", features)).values():
                spec = app["spec"]
                for source in [spec["source"]] if "source" in spec else spec.get("sources", []):
                    deployed.add(_pin_key(source))
    assert sorted(name for name, pin in pins.items() if _pin_key(pin) not in deployed) == [], "pinned but never deployed"
