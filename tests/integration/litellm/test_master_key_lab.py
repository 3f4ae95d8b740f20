"""The kubernetes secret backend on the lab's real kube-apiserver, in site.yml's order: the
secrets playbook seeds platform-secrets create-if-absent (a master key already there stays), then
the tenants playbook, with no LITELLM_MASTER_KEY anywhere, reads the master key from
platform-secrets/litellm-master-key and converges a tenant on the real LiteLLM. The key never
shows at -vvv; a missing Secret stops the run naming it, before LiteLLM is touched."""

from __future__ import annotations

import base64
import json
import os
import sys

import pytest
from conftest import REPO_ROOT, rows, tenant, tenants_vars
from masterkit import play

sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "integration", "lab"))

import labkit

pytestmark = [pytest.mark.litellm, pytest.mark.lab]
NS, NAME = "platform-secrets", "litellm-master-key"


@pytest.fixture
def lab_secret(db):
    """The session's LiteLLM master key as the backend's value (what ESO would deliver to LiteLLM);
    whatever was there before is put back afterwards."""
    if not labkit.ready():
        pytest.skip("the lab is not running (%s)" % labkit.KUBECONFIG)
    labkit.kubectl("create", "namespace", NS, check=False)
    before = labkit.kubectl("get", "secret", NAME, "-n", NS, "-o", "json", check=False)
    labkit.kubectl("delete", "secret", NAME, "-n", NS, "--ignore-not-found")
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": NAME, "namespace": NS, "labels": {"llm-platform/secret-contract": "true"}},
        "data": {"value": base64.b64encode(db.master_key.encode()).decode()},
    }
    labkit.kubectl("apply", "-f", "-", input=json.dumps(secret))
    yield
    labkit.kubectl("delete", "secret", NAME, "-n", NS, "--ignore-not-found")
    if before.returncode == 0:
        old = json.loads(before.stdout)
        for field in ("resourceVersion", "uid", "creationTimestamp", "managedFields"):
            old["metadata"].pop(field, None)
        labkit.kubectl("apply", "-f", "-", input=json.dumps(old))


def lab_vars():
    extra = {"kubeconfig_path": labkit.KUBECONFIG}
    for i, arg in enumerate(labkit.lab_extra_vars()):
        if arg == "-e":
            extra.update(json.loads(labkit.lab_extra_vars()[i + 1]))
    return extra


def test_seeded_master_key_is_kept_and_read_by_the_tenants_playbook(db, lab_secret, tmp_path):
    seed = play(tmp_path, "playbooks/secrets.yml", lab_vars(), "-i", "inventories/lab")
    assert seed.rc == 0, seed
    value = labkit.kubectl_json("get", "secret", NAME, "-n", NS)["data"]["value"]
    assert base64.b64decode(value).decode() == db.master_key  # create-if-absent: the existing key stays

    data = dict(tenants_vars(db, [tenant("it-mk-k8s")]), **lab_vars())
    run = play(tmp_path, "playbooks/tenants.yml", data, "-i", "inventories/lab", "-vvv")
    assert run.rc == 0, run
    assert [r["team_id"] for r in rows(db, "LiteLLM_TeamTable", "team_id") if r["team_id"] == "it-mk-k8s"] == ["it-mk-k8s"]
    assert db.master_key not in run.out and value not in run.out

    labkit.kubectl("delete", "secret", NAME, "-n", NS)
    missing = play(tmp_path, "playbooks/tenants.yml", dict(data, tenants=[tenant("it-mk-k8s-none")]), "-i", "inventories/lab")
    assert missing.rc != 0 and "Secret platform-secrets/litellm-master-key, key value" in missing.out, missing
    assert [r for r in rows(db, "LiteLLM_TeamTable", "team_id") if r["team_id"] == "it-mk-k8s-none"] == []
