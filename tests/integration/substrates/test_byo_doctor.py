"""The bring-your-own-cluster doctor against the lab (a real kube-apiserver with kwok GPU nodes):
it passes on the lab with a default StorageClass, and on a lab variant with no GPU nodes and no
default StorageClass it fails with exactly those two findings. Node objects and StorageClasses
changed here are restored afterwards."""

from __future__ import annotations

import importlib.util
import json
import os

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
# The lab's helpers, loaded by path under their own name (tests/integration/bench has a labkit.py too).
_spec = importlib.util.spec_from_file_location("substrates_lab_labkit", os.path.join(os.path.dirname(HERE), "lab", "labkit.py"))
labkit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(labkit)

pytestmark = [pytest.mark.substrates, pytest.mark.lab]

PLAYBOOK = os.path.join(HERE, "playbooks", "doctor.yml")
SC_NAME = "llm-doctor-default"


@pytest.fixture(scope="module")
def lab():
    started = False
    if not labkit.ready():
        if os.geteuid() != 0:
            pytest.skip("the lab needs root for `ip netns` (CI runs as root)")
        proc = labkit.ansible_playbook(labkit.CREATE)
        assert proc.returncode == 0, f"lab start failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
        started = True
    assert labkit.ready()
    yield labkit
    if started and os.environ.get("LLM_PLATFORM_LAB_KEEP") != "1":
        labkit.ansible_playbook(labkit.DESTROY)


def doctor(tmp_path, *extra):
    report = tmp_path / "doctor-report.json"
    facts = tmp_path / "platform-facts.yml"
    proc = labkit.ansible_playbook(
        PLAYBOOK,
        "-e",
        json.dumps(
            {
                "substrate_byo_kubeconfig": labkit.KUBECONFIG,
                "substrate_byo_report_path": str(report),
                "substrate_byo_facts_path": str(facts),
            }
        ),
        *extra,
        timeout=600,
    )
    with open(report, encoding="utf-8") as handle:
        findings = json.load(handle)["findings"]
    return proc, findings, facts


def default_storage_classes(lab):
    items = lab.kubectl_json("get", "storageclass")["items"]
    return [i for i in items if (i["metadata"].get("annotations") or {}).get("storageclass.kubernetes.io/is-default-class") == "true"]


@pytest.fixture
def one_default_storage_class(lab):
    created = not default_storage_classes(lab)
    if created:
        lab.kubectl(
            "apply",
            "-f",
            "-",
            input=json.dumps(
                {
                    "apiVersion": "storage.k8s.io/v1",
                    "kind": "StorageClass",
                    "metadata": {"name": SC_NAME, "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
                    "provisioner": "kubernetes.io/no-provisioner",
                    "volumeBindingMode": "WaitForFirstConsumer",
                }
            ),
        )
    yield
    if created:
        lab.kubectl("delete", "storageclass", SC_NAME, "--ignore-not-found")


@pytest.fixture
def no_gpu_nodes_no_default_storage_class(lab):
    """Remove the GPU nodes and the default StorageClass(es); restore both afterwards."""
    nodes = [n for n in lab.kubectl_json("get", "nodes")["items"] if int(n["status"].get("allocatable", {}).get("nvidia.com/gpu", "0")) > 0]
    classes = default_storage_classes(lab)
    assert nodes, "the lab should have GPU nodes"
    for sc in classes:
        lab.kubectl("annotate", "storageclass", sc["metadata"]["name"], "storageclass.kubernetes.io/is-default-class-")
    lab.kubectl("delete", "node", *[n["metadata"]["name"] for n in nodes], "--wait=true")
    try:
        yield nodes
    finally:
        for node in nodes:
            meta = {k: v for k, v in node["metadata"].items() if k in ("name", "labels", "annotations")}
            body = {"apiVersion": "v1", "kind": "Node", "metadata": meta, "spec": node.get("spec", {})}
            created = lab.kubectl("create", "-f", "-", input=json.dumps(body), check=False)
            if created.returncode != 0 and "AlreadyExists" in created.stderr:
                continue  # the lab was restarted meanwhile and recreated its fleet
            assert created.returncode == 0, created.stderr
            status = {"status": {k: node["status"][k] for k in ("capacity", "allocatable") if k in node["status"]}}
            lab.kubectl("patch", "node", meta["name"], "--subresource=status", "--type=merge", "-p", json.dumps(status))
        for sc in classes:
            lab.kubectl(
                "annotate", "--overwrite", "storageclass", sc["metadata"]["name"], "storageclass.kubernetes.io/is-default-class=true"
            )
        lab.wait_for(
            lambda: (
                sum(
                    int(n["status"].get("allocatable", {}).get("nvidia.com/gpu", "0")) > 0
                    for n in lab.kubectl_json("get", "nodes")["items"]
                )
                >= len(nodes)
            ),
            60,
            what="GPU nodes restored",
        )


def test_doctor_passes_on_the_lab(lab, one_default_storage_class, tmp_path):
    proc, findings, facts = doctor(tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:]
    status = {f["check"]: f["status"] for f in findings}
    assert [f for f in findings if f["status"] == "fail"] == []
    assert status["reachable"] == status["authorized"] == status["version"] == "pass"
    assert status["gpu_nodes"] == status["default_storage_class"] == status["crds"] == "pass"
    assert "CHECK" in proc.stdout and "default_storage_class" in proc.stdout  # the table is printed
    assert facts.exists() and "gpu_stack: none" in facts.read_text()


def test_doctor_fails_with_exactly_the_two_findings(lab, no_gpu_nodes_no_default_storage_class, tmp_path):
    proc, findings, facts = doctor(tmp_path)
    assert proc.returncode != 0
    failed = sorted(f["check"] for f in findings if f["status"] == "fail")
    assert failed == ["default_storage_class", "gpu_nodes"], findings
    for finding in findings:
        if finding["status"] == "fail":
            assert finding["fix"], finding
    assert "The cluster is not ready for the platform: gpu_nodes, default_storage_class" in proc.stdout
    assert not facts.exists()


def test_byo_teardown_deletes_only_the_platforms_objects(lab, tmp_path):
    ns = lab.unique("byo-teardown")
    # A selector unique to this test, so platform objects other lab tests keep are never touched.
    part_of = {"llm-platform-teardown-test": ns}
    docs = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "gateway-lb", "namespace": ns, "labels": part_of},
            "spec": {"type": "LoadBalancer", "ports": [{"port": 80}], "selector": {"app": "none"}},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "someone-elses-lb", "namespace": ns},
            "spec": {"type": "LoadBalancer", "ports": [{"port": 80}], "selector": {"app": "none"}},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "cluster-ip", "namespace": ns, "labels": part_of},
            "spec": {"ports": [{"port": 80}], "selector": {"app": "none"}},
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "weights", "namespace": ns, "labels": part_of},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}, "storageClassName": "none"},
        },
    ]
    lab.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}))
    try:
        ev = {
            "substrate_byo_kubeconfig": labkit.KUBECONFIG,
            "substrate_byo_teardown_wait_seconds": 60,
            "substrate_byo_teardown_selector": "llm-platform-teardown-test=" + ns,
        }
        proc = labkit.ansible_playbook(os.path.join(HERE, "playbooks", "byo_teardown.yml"), "-e", json.dumps(ev), timeout=600)
        assert proc.returncode == 0, proc.stdout[-4000:]
        services = {s["metadata"]["name"] for s in lab.kubectl_json("get", "services", "-n", ns)["items"]}
        assert services == {"someone-elses-lb", "cluster-ip"}
        assert lab.kubectl_json("get", "pvc", "-n", ns)["items"] == []
    finally:
        lab.kubectl("delete", "namespace", ns, "--wait=false", check=False)
