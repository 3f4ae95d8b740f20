"""The profile decides what Argo CD delivers: each profile's Applications are Synced and Healthy
with a Succeeded operation, narrowing the profile prunes the Applications it drops together with
their objects (the children's resources-finalizer), and widening it again brings them back.

The expected set is read from the app-of-apps chart's own render (helm, with the root
Application's values and another profile), never listed here. The living lab ends at the
inventory's profile, as the tests after this one expect it."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile

import pytest
import yaml

pytestmark = [pytest.mark.lab, pytest.mark.platform, pytest.mark.living, pytest.mark.reshapes]

ROOT = "llm-platform"
INVENTORY_PROFILE = "llm-gateway"


def _rendered_applications(living, profile: str) -> set[str]:
    values = dict(living.applications()[ROOT]["spec"]["source"]["helm"]["valuesObject"], profile=profile)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(values, fh)
    try:
        chart = os.path.join(living.labkit.REPO_ROOT, "gitops", "app-of-apps")
        out = subprocess.run(
            [living.labkit.binary("helm"), "template", ROOT, chart, "-f", fh.name], capture_output=True, text=True, check=True
        ).stdout
    finally:
        os.unlink(fh.name)
    return {d["metadata"]["name"] for d in yaml.safe_load_all(out) if d and d.get("kind") == "Application"}


# The feature each narrower profile cannot carry (preflight refuses it switched on explicitly).
NEEDS_WIDER = {"serving": ("inference_routing",), "platform": ("inference_routing", "kserve")}


def _converge(living, profile: str) -> None:
    features = dict(living.features(), **dict.fromkeys(NEEDS_WIDER.get(profile, ()), False))
    proc = living.labkit.ansible_playbook(
        "playbooks/platform.yml", "-e", json.dumps({"platform_features": features, "platform_profile": profile})
    )
    assert proc.returncode == 0, f"platform.yml at profile {profile}:\n{proc.stdout[-6000:]}"


def _children(living) -> dict[str, dict]:
    return {n: a for n, a in living.applications().items() if n != ROOT}


def _assert_synced(living, expected: set[str]) -> None:
    apps = _children(living)
    assert set(apps) == expected, {"missing": sorted(expected - set(apps)), "extra": sorted(set(apps) - expected)}
    for name, app in apps.items():
        if (app["metadata"].get("annotations") or {}).get("llm-platform/sync") == "manual":
            continue  # the GPU cost gate: synced by serving.yml, not by the profile
        status = app["status"]
        assert (status["sync"]["status"], status["health"]["status"]) == ("Synced", "Healthy"), (name, status["sync"], status["health"])
        assert status.get("operationState", {}).get("phase") == "Succeeded", (name, status.get("operationState"))


def _managed(app: dict) -> list[tuple[str, str, str]]:
    return [(r["kind"], r.get("namespace", ""), r["name"]) for r in app["status"].get("resources", []) if r["kind"] != "Namespace"]


def _gone(living, kind: str, namespace: str, name: str) -> bool:
    args = ("-n", namespace) if namespace else ()
    proc = living.labkit.kubectl(*args, "get", kind, name, "--ignore-not-found", "-o", "name", check=False)
    return proc.returncode == 0 and not proc.stdout.strip()


def test_each_profile_syncs_its_applications_and_narrowing_prunes_the_rest(living):
    wide = _children(living)
    assert set(wide) == _rendered_applications(living, INVENTORY_PROFILE)
    try:
        previous = wide
        for profile in ("serving", "platform"):
            expected = _rendered_applications(living, profile)
            assert expected < set(previous), f"profile {profile} renders no narrower set"
            _converge(living, profile)
            dropped = {n: previous[n] for n in set(previous) - expected}
            living.labkit.wait_for(
                lambda want=expected: set(_children(living)) == want,
                timeout=300,
                interval=3,
                what=f"Argo CD to prune {sorted(dropped)} at profile {profile}",
            )
            _assert_synced(living, expected)
            for app, resources in ((n, _managed(a)) for n, a in dropped.items()):
                for kind, namespace, name in resources:
                    living.labkit.wait_for(
                        lambda k=kind, ns=namespace, n=name: _gone(living, k, ns, n),
                        timeout=300,
                        interval=3,
                        what=f"{kind} {namespace}/{name} of the pruned {app} to be deleted",
                    )
            previous = _children(living)
        for profile in ("full", INVENTORY_PROFILE):
            _converge(living, profile)
            _assert_synced(living, _rendered_applications(living, profile))
    finally:
        if set(_children(living)) != set(wide):
            _converge(living, INVENTORY_PROFILE)
