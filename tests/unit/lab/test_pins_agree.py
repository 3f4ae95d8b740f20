"""What users deploy and what the lab validates are the same releases, or differ for a recorded
reason: every source of gitops/app-of-apps/values.yaml against the components and CRD modules
of lab/versions.yml, through the `deployed` list there."""

from __future__ import annotations

import os

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _load(*path):
    with open(os.path.join(REPO, *path), encoding="utf-8") as fh:
        return yaml.safe_load(fh)


SOURCES = _load("gitops", "app-of-apps", "values.yaml")["sources"]
LAB = _load("lab", "versions.yml")
DEPLOYED = LAB["deployed"]
CRDS = {c["name"]: c for c in LAB["crds"]}


def _release(version: str) -> str:
    return str(version).removeprefix("v")


def _lab_versions(entry: dict) -> dict[str, str]:
    out = {"component %s" % c: LAB["components"][c]["version"] for c in entry.get("components", [])}
    out.update({"crds %s" % c: CRDS[c]["version"] for c in entry.get("crds", [])})
    return out


def test_every_deployed_source_is_listed_and_nothing_else():
    assert set(DEPLOYED) == set(SOURCES), {"unlisted": sorted(set(SOURCES) - set(DEPLOYED)), "gone": sorted(set(DEPLOYED) - set(SOURCES))}


@pytest.mark.parametrize("source", sorted(DEPLOYED))
def test_the_lab_runs_the_deployed_release_or_says_why_not(source):
    entry = DEPLOYED[source]
    deployed = _release(SOURCES[source]["targetRevision"])
    lab = _lab_versions(entry)
    if "differs" in entry:
        assert len(entry["differs"].split()) >= 5, "%s: a reason, not a word" % source
        same = [name for name, version in lab.items() if _release(version) == deployed]
        assert not same, "%s: recorded as different, but %s now run the deployed %s: drop `differs`" % (source, same, deployed)
        return
    assert lab, "%s: no lab component or CRD module named; add them, or `differs` with the reason" % source
    wrong = {name: version for name, version in lab.items() if _release(version) != deployed}
    assert not wrong, "%s deploys %s but the lab validates %s" % (source, deployed, wrong)


def test_every_lab_component_named_exists():
    for source, entry in DEPLOYED.items():
        for comp in entry.get("components", []):
            assert comp in LAB["components"], (source, comp)
        for crd in entry.get("crds", []):
            assert crd in CRDS, (source, crd)
