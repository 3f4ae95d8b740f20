"""External Secrets really materialises Secrets from the one store the platform configures
(the ClusterSecretStore of the secret-store Application; the lab's backend is the kubernetes
provider reading platform-secrets), follows the store when a value changes, and removes what it
owns when its ExternalSecret goes."""

from __future__ import annotations

import base64
import json
import uuid

import pytest

pytestmark = [pytest.mark.lab, pytest.mark.living]
SOURCE_NS = "platform-secrets"


def _secret(living, namespace, name):
    proc = living.labkit.kubectl("-n", namespace, "get", "secret", name, "-o", "json", check=False)
    return json.loads(proc.stdout) if proc.returncode == 0 else None


def test_litellm_secrets_come_from_the_store(living):
    es = living.labkit.kubectl_json("-n", "litellm", "get", "externalsecret", "litellm-secrets")
    ready = {c["type"]: c["status"] for c in es["status"]["conditions"]}
    assert ready.get("Ready") == "True", es["status"]
    target = _secret(living, "litellm", "litellm-secrets")
    assert target["metadata"]["ownerReferences"][0]["kind"] == "ExternalSecret"
    assert (
        target["data"]["PROXY_MASTER_KEY"]
        == base64.b64encode(living.secret_value(SOURCE_NS, "litellm-master-key", "value").encode()).decode()
    )


def test_a_new_external_secret_follows_the_store_and_goes_with_its_owner(living):
    name = "living-eso-" + uuid.uuid4().hex[:6]
    kubectl = living.labkit.kubectl
    source = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": SOURCE_NS}, "stringData": {"value": "first"}}
    kubectl("apply", "-f", "-", input=json.dumps(source))
    store = living.labkit.kubectl_json("get", "clustersecretstores")["items"][0]["metadata"]["name"]
    es = {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {"name": name, "namespace": "litellm"},
        "spec": {
            "refreshInterval": "2s",
            "secretStoreRef": {"name": store, "kind": "ClusterSecretStore"},
            "target": {"name": name, "creationPolicy": "Owner"},
            "data": [{"secretKey": "token", "remoteRef": {"key": name, "property": "value"}}],
        },
    }
    try:
        kubectl("apply", "-f", "-", input=json.dumps(es))

        def value():
            s = _secret(living, "litellm", name)
            return s and base64.b64decode(s["data"]["token"]).decode()

        assert living.labkit.wait_for(lambda: value() == "first" and value(), 120, 1, "the Secret to materialise") == "first"
        source["stringData"]["value"] = "second"
        kubectl("apply", "-f", "-", input=json.dumps(source))
        living.labkit.wait_for(lambda: value() == "second", 120, 1, "the Secret to follow the store")
        kubectl("-n", "litellm", "delete", "externalsecret", name, "--wait=true")
        living.labkit.wait_for(lambda: _secret(living, "litellm", name) is None, 120, 1, "the owned Secret to go")
    finally:
        kubectl("-n", "litellm", "delete", "externalsecret", name, "--ignore-not-found", check=False)
        kubectl("-n", SOURCE_NS, "delete", "secret", name, "--ignore-not-found", check=False)


def test_a_missing_remote_key_is_reported_not_invented(living):
    name = "living-eso-missing-" + uuid.uuid4().hex[:6]
    store = living.labkit.kubectl_json("get", "clustersecretstores")["items"][0]["metadata"]["name"]
    es = {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {"name": name, "namespace": "litellm"},
        "spec": {
            "refreshInterval": "2s",
            "secretStoreRef": {"name": store, "kind": "ClusterSecretStore"},
            "target": {"name": name},
            "data": [{"secretKey": "token", "remoteRef": {"key": "no-such-" + name, "property": "value"}}],
        },
    }
    living.labkit.kubectl("apply", "-f", "-", input=json.dumps(es))
    try:

        def failed():
            got = living.labkit.kubectl_json("-n", "litellm", "get", "externalsecret", name).get("status", {})
            conds = {c["type"]: c for c in got.get("conditions", [])}
            return conds.get("Ready", {}).get("status") == "False" and conds["Ready"]

        cond = living.labkit.wait_for(failed, 120, 1, "the ExternalSecret to report the missing key")
        assert cond["reason"] == "SecretSyncedError", cond
        assert _secret(living, "litellm", name) is None
    finally:
        living.labkit.kubectl("-n", "litellm", "delete", "externalsecret", name, "--ignore-not-found", check=False)
