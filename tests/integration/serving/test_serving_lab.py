"""The serving objects on the lab's real kube-apiserver with the real upstream CRDs. serving.yml
itself syncs the model servers' Application through Argo CD, so its up/down and autoscaling
tests run on the living lab (tests/integration/living/test_living_serving.py).

Objects go to test-owned namespaces (the chart's namespaces with a suffix) so this suite never
touches what other suites apply; they are deleted at the end."""

from __future__ import annotations

import json
import time

import pytest
import yaml
from serving_render import render_serving
from servinghelpers import playbook, recap

pytestmark = [pytest.mark.serving, pytest.mark.lab]

SUFFIX = "-svctest"
NAMESPACES = {n: n + SUFFIX for n in ("serving", "inference", "litellm")}
FIELD_MANAGER = "llm-platform"
CRDS = (
    "gateways.gateway.networking.k8s.io",
    "httproutes.gateway.networking.k8s.io",
    "inferencepools.inference.networking.k8s.io",
    "inferenceobjectives.inference.networking.x-k8s.io",
    "scaledobjects.keda.sh",
    "inferenceservices.serving.kserve.io",
    "podmonitors.monitoring.coreos.com",
    "externalsecrets.external-secrets.io",
)


def _renamespace(obj):
    """Move every namespace reference (metadata, parentRefs, selectors) to the test namespaces."""
    if isinstance(obj, dict):
        return {
            k: (NAMESPACES.get(v, v) if k in ("namespace", "kubernetes.io/metadata.name") and isinstance(v, str) else _renamespace(v))
            for k, v in obj.items()
        }
    if isinstance(obj, list):
        return [_renamespace(v) for v in obj]
    return obj


def _objects():
    rendered = render_serving(kserve=True)
    return [_renamespace(o) for objs in rendered.values() for o in objs]


def _fixtures(objects):
    """Namespaces, and a pre-provisioned PV per weights PVC (the lab has no storage provisioner)."""
    out = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in NAMESPACES.values()]
    for pvc in (o for o in objects if o["kind"] == "PersistentVolumeClaim"):
        name = "svctest-" + pvc["metadata"]["name"]
        out.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": name, "labels": {"llm-platform/test": "serving"}},
                "spec": {
                    "capacity": {"storage": pvc["spec"]["resources"]["requests"]["storage"]},
                    "accessModes": ["ReadWriteOnce"],
                    "persistentVolumeReclaimPolicy": "Retain",
                    "storageClassName": "",
                    "hostPath": {"path": "/var/lib/llm-platform/" + name},
                    "claimRef": {"namespace": pvc["metadata"]["namespace"], "name": pvc["metadata"]["name"]},
                },
            }
        )
    return out


def _apply(kubectl, docs):
    stream = yaml.safe_dump_all(docs)
    return kubectl("apply", "--server-side", "--field-manager=" + FIELD_MANAGER, "--force-conflicts", "-f", "-", stdin=stream)


def _generations(kubectl, docs):
    live = json.loads(kubectl("get", "-f", "-", "-o", "json", stdin=yaml.safe_dump_all(docs)).stdout)
    items = live.get("items", [live])
    return {(i["kind"], i["metadata"].get("namespace"), i["metadata"]["name"]): i["metadata"].get("generation") for i in items}


@pytest.fixture(scope="module")
def applied(kubectl):
    objects = _objects()
    fixtures = _fixtures(objects)
    # the lab installs the upstream CRDs after the control plane is up: wait for them
    deadline = time.time() + 300
    while kubectl("get", "crd", *CRDS, check=False).returncode != 0 and time.time() < deadline:
        time.sleep(5)
    kubectl("wait", "--for=condition=Established", *("crd/" + c for c in CRDS), "--timeout=120s")
    # a previous run's namespaces may still be terminating
    kubectl("wait", "--for=delete", *("namespace/" + n for n in NAMESPACES.values()), "--timeout=120s", check=False)
    kubectl("wait", "--for=delete", "pv", "-l", "llm-platform/test=serving", "--timeout=60s", check=False)
    _apply(kubectl, fixtures)
    first = _apply(kubectl, objects)
    yield objects, first
    kubectl("delete", "namespace", *NAMESPACES.values(), "--wait=false", "--ignore-not-found", check=False)
    kubectl("delete", "pv", "-l", "llm-platform/test=serving", "--wait=false", "--ignore-not-found", check=False)


def test_three_models_every_object_accepted(applied):
    objects, first = applied
    kinds = {o["kind"] for o in objects}
    assert {"Deployment", "InferenceService", "ScaledObject", "InferencePool", "InferenceObjective", "HTTPRoute", "Gateway"} <= kinds
    assert {"PodMonitor", "ExternalSecret", "NetworkPolicy", "Job", "ConfigMap"} <= kinds
    applied_lines = [line for line in first.stdout.splitlines() if "serverside-applied" in line]
    assert len(applied_lines) == len(objects), first.stdout


def test_second_apply_is_a_no_op(kubectl, applied):
    objects, _ = applied
    before = _generations(kubectl, objects)
    _apply(kubectl, objects)
    assert _generations(kubectl, objects) == before
    diff = kubectl(
        "diff",
        "--server-side",
        "--field-manager=" + FIELD_MANAGER,
        "--force-conflicts",
        "-f",
        "-",
        stdin=yaml.safe_dump_all(objects),
        check=False,
    )
    assert diff.returncode == 0, diff.stdout[-3000:]


def _pods(kubectl, model):
    ns = NAMESPACES["serving"]
    items = json.loads(kubectl("get", "pods", "-n", ns, "-l", "llm-platform/model=" + model, "-o", "json").stdout)["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def _run(kubectl, *args):
    res = playbook(["-e", "platform_serving_namespace=" + NAMESPACES["serving"], "-e", "platform_serving_wait_timeout=180", *args])
    assert res.returncode == 0, res.stdout[-5000:] + res.stderr[-2000:]
    return recap(res.stdout)


def test_kserve_model_down_is_the_idle_pause_annotation(kubectl, applied):
    ns = NAMESPACES["serving"]
    assert _run(kubectl, "-e", "model=qwen-oci", "-e", "replicas=0")["changed"] == 1
    isvc = json.loads(kubectl("get", "inferenceservice", "qwen-oci", "-n", ns, "-o", "json").stdout)
    assert isvc["metadata"]["annotations"]["serving.kserve.io/stop"] == "true"
    assert _run(kubectl, "-e", "model=qwen-oci", "-e", "replicas=0")["changed"] == 0
