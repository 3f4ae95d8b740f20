"""Upstream CRDs from the pinned Go modules: Established, and enforcing their schemas."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.lab

# Every kind the platform relies on (issue 3, item 4); the manifest may hold more.
REQUIRED = {
    ("gateway.networking.k8s.io", "GatewayClass"), ("gateway.networking.k8s.io", "Gateway"),
    ("gateway.networking.k8s.io", "HTTPRoute"),
    ("inference.networking.k8s.io", "InferencePool"), ("inference.networking.x-k8s.io", "InferenceObjective"),
    ("kueue.x-k8s.io", "ClusterQueue"), ("kueue.x-k8s.io", "LocalQueue"), ("kueue.x-k8s.io", "ResourceFlavor"),
    ("kueue.x-k8s.io", "Workload"),
    ("keda.sh", "ScaledObject"), ("keda.sh", "TriggerAuthentication"),
    ("external-secrets.io", "ExternalSecret"), ("external-secrets.io", "SecretStore"),
    ("external-secrets.io", "ClusterSecretStore"),
    ("argoproj.io", "Application"), ("argoproj.io", "AppProject"), ("argoproj.io", "ApplicationSet"),
    ("serving.kserve.io", "InferenceService"), ("serving.kserve.io", "ServingRuntime"),
    ("serving.kserve.io", "ClusterServingRuntime"),
    ("monitoring.coreos.com", "ServiceMonitor"), ("monitoring.coreos.com", "PodMonitor"),
}


def test_manifest_covers_every_required_kind(lab):
    have = {(f["group"], f["kind"]) for f in lab.crd_manifest()}
    assert have >= REQUIRED, sorted(REQUIRED - have)


def test_every_crd_is_established(lab):
    files = lab.crd_manifest()
    assert len(files) >= len(REQUIRED)
    problems = []
    for entry in files:
        crd = json.loads(lab.kubectl("get", "crd", entry["crd"], "-o", "json", "--show-managed-fields").stdout)
        cond = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
        if cond.get("Established") != "True" or cond.get("NamesAccepted") != "True":
            problems.append((entry["crd"], cond))
        if crd["spec"].get("conversion", {}).get("strategy", "None") != "None":
            problems.append((entry["crd"], "conversion webhook"))
        if not any(
                m.get("manager") == "llm-platform" and m.get("operation") == "Apply" for m in crd["metadata"].get("managedFields", [])):
            problems.append((entry["crd"], "not applied server-side by field manager llm-platform"))
    assert not problems, problems


def _violating(entry, namespace, crd):
    """An object of the CRD's kind whose spec has the wrong type (or, with no spec
    property in the schema, whose first typed top-level field has the wrong type)."""
    version = next(v for v in crd["spec"]["versions"] if v["name"] == entry["storage"])
    props = version["schema"]["openAPIV3Schema"].get("properties", {})
    field = "spec" if props.get("spec", {}).get("type") == "object" else next(
        k for k, v in props.items() if k not in ("apiVersion", "kind", "metadata") and v.get("type"))
    wrong = 42 if props[field].get("type") in ("object", "array", "string", "boolean") else "not-a-number"
    obj = {"apiVersion": f"{entry['group']}/{entry['storage']}", "kind": entry["kind"],
           "metadata": {"name": "schema-violation"}, field: wrong}
    if entry["scope"] == "Namespaced":
        obj["metadata"]["namespace"] = namespace
    return obj, field


def test_schema_violations_are_rejected_by_the_api_server(lab):
    ns = "default"
    failures = []
    for entry in lab.crd_manifest():
        crd = lab.kubectl_json("get", "crd", entry["crd"])
        obj, field = _violating(entry, ns, crd)
        proc = lab.kubectl("create", "--dry-run=server", "-f", "-", input=json.dumps(obj), check=False)
        if proc.returncode == 0 or "Invalid value" not in proc.stderr or field not in proc.stderr:
            failures.append((entry["kind"], proc.returncode, proc.stdout.strip(), proc.stderr.strip()[:300]))
    assert not failures, failures
