"""gcp_secret, gcp_secret_info, gcp_subnetwork and gke_cluster's Gateway API channel against the
local API test server (documented REST shapes): exact requests, create-if-absent that never
touches an existing value, values that never appear in a result or a request record, check mode
without mutating requests, reruns without changes. Application Default Credentials end to end:
a service-account key file whose token_uri is the test server's OAuth endpoint, found through
GOOGLE_APPLICATION_CREDENTIALS by google-auth itself."""

from __future__ import annotations

import base64
import json
import re

import pytest
from substratekit import make_adc, run_module

from ansible_collections.llm.platform.plugins.modules import gcp_secret, gcp_secret_info, gcp_subnetwork, gke_cluster

pytestmark = pytest.mark.substrates

P = "proj-1"
SM = "/v1/projects/%s/secrets" % P
SUBNETS = "/compute/v1/projects/%s/regions/us-central1/subnetworks" % P


def _value(fake, name):
    return fake.versions[(P, name)][-1].decode()


def test_secrets_are_created_once_and_existing_values_never_touched(fake, gcp_args):
    fake.secrets[(P, "litellm-salt-key")] = {"name": "projects/123456789012/secrets/litellm-salt-key"}
    fake.versions[(P, "litellm-salt-key")] = [b"pre-existing-salt"]
    fake.secrets[(P, "hf-token")] = {"name": "projects/123456789012/secrets/hf-token"}  # exists, no version yet
    args = dict(
        gcp_args, project=P, secrets=[{"name": "litellm-master-key"}, {"name": "litellm-salt-key"}, {"name": "hf-token", "length": 32}]
    )

    preview = run_module(gcp_secret, args, check=True)
    assert preview["changed"] and fake.mutations() == []
    assert (preview["created"], preview["versions_added"], preview["unchanged"]) == (
        ["litellm-master-key"],
        ["litellm-master-key", "hf-token"],
        ["litellm-salt-key"],
    )

    res = run_module(gcp_secret, args)
    assert res["changed"] and res["created"] == ["litellm-master-key"] and res["versions_added"] == ["litellm-master-key", "hf-token"]
    assert [(m, p) for (m, _s, p, _b) in fake.mutations()] == [
        ("POST", SM),
        ("POST", SM + "/litellm-master-key:addVersion"),
        ("POST", SM + "/hf-token:addVersion"),
    ]
    assert fake.mutations()[0][3] == {"replication": {"automatic": {}}, "labels": {"managed-by": "llm-platform"}}
    master, hf = _value(fake, "litellm-master-key"), _value(fake, "hf-token")
    assert re.fullmatch(r"[0-9a-f]{64}", master) and re.fullmatch(r"[0-9a-f]{32}", hf)
    assert fake.versions[(P, "litellm-salt-key")] == [b"pre-existing-salt"]
    # The values exist only in the backend: not in the result, not in the recorded requests.
    text = json.dumps(res)
    assert master not in text and hf not in text and base64.b64encode(master.encode()).decode() not in text
    assert [r.get("body") for r in res["requests"] if r["path"].endswith(":addVersion")] == ["(redacted)", "(redacted)"]

    mark = fake.mark()
    again = run_module(gcp_secret, args)
    assert not again["changed"] and again["unchanged"] == ["litellm-master-key", "litellm-salt-key", "hf-token"]
    assert fake.mutations(mark) == [] and _value(fake, "litellm-master-key") == master


def test_secret_length_out_of_range_names_the_secret(fake, gcp_args):
    res = run_module(gcp_secret, dict(gcp_args, project=P, secrets=[{"name": "tiny", "length": 4}]))
    assert res["failed"] and res["msg"] == "secrets[tiny].length: got 4; allowed: 0 (an empty first version) or 16 to 4096 hex characters"
    assert fake.log == []


def test_secret_info_reads_the_latest_version_and_names_a_missing_one(fake, gcp_args):
    run_module(gcp_secret, dict(gcp_args, project=P, secrets=[{"name": "litellm-master-key"}]))
    res = run_module(gcp_secret_info, dict(gcp_args, project=P, names=["litellm-master-key"]), check=True)
    assert not res["changed"] and res["values"] == {"litellm-master-key": _value(fake, "litellm-master-key")}
    missing = run_module(gcp_secret_info, dict(gcp_args, project=P, names=["nope"]))
    assert missing["failed"] and "secret nope of project proj-1 has no readable version (HTTP 404)" in missing["msg"]


@pytest.fixture
def adc(fake, tmp_path, monkeypatch):
    """auth_kind=application (ADC) through google-auth's real flow against the test server."""
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", make_adc(fake, tmp_path / "sa.json"))
    return dict(fake_args(fake), auth_kind="application")


def fake_args(fake):
    return {"api_endpoint": fake.endpoint, "retry_backoff": 0.01, "poll_interval": 0.01, "operation_timeout": 20}


def test_application_default_credentials_end_to_end(fake, adc):
    res = run_module(gcp_secret, dict(adc, project=P, secrets=[{"name": "litellm-master-key"}]))
    assert res["changed"], res
    assert len(fake.tokens) == 1  # google-auth exchanged a signed assertion for a token, once
    got = run_module(gcp_secret_info, dict(adc, project=P, names=["litellm-master-key"]))
    assert got["values"]["litellm-master-key"] == _value(fake, "litellm-master-key")
    # A key the token endpoint does not trust: the exchange fails and the module says so (no crash).
    fake.trusted.clear()
    untrusted = run_module(gcp_secret_info, dict(adc, project=P, names=["litellm-master-key"]))
    assert untrusted["failed"] and "Could not get an access token (application credentials): RefreshError" in untrusted["msg"]
    assert untrusted["failure"]["code"] == "UNAUTHENTICATED" and "BEGIN PRIVATE KEY" not in json.dumps(untrusted)
    # Without an issued token the server refuses, and the module says what to check.
    fake.tokens.clear()
    refused = run_module(gcp_secret_info, dict(fake_args(fake), auth_kind="anonymous", project=P, names=["litellm-master-key"]))
    assert refused["failed"] and refused["failure"]["status"] == 401 and "credentials" in refused["msg"]


def test_proxy_only_subnet_create_rerun_check_and_delete(fake, gcp_args):
    args = dict(gcp_args, project=P, region="us-central1-a", name="llm-proxy-only", ip_cidr_range="10.129.0.0/23")
    preview = run_module(gcp_subnetwork, args, check=True)
    assert preview["changed"] and fake.mutations() == []
    res = run_module(gcp_subnetwork, args)
    assert res["changed"] and not res["reused"]
    assert fake.mutations() == [
        (
            "POST",
            "compute",
            SUBNETS,
            {
                "name": "llm-proxy-only",
                "network": "projects/%s/global/networks/default" % P,
                "ipCidrRange": "10.129.0.0/23",
                "purpose": "REGIONAL_MANAGED_PROXY",
                "description": "managed by llm.platform",
                "role": "ACTIVE",
            },
        )
    ]
    assert res["operations"][0]["status"] == "DONE" and res["operations"][0]["polls"] == 2
    assert res["subnetwork"] == {
        "name": "llm-proxy-only",
        "ip_cidr_range": "10.129.0.0/23",
        "purpose": "REGIONAL_MANAGED_PROXY",
        "role": "ACTIVE",
        "network": "default",
    }
    mark = fake.mark()
    assert not run_module(gcp_subnetwork, args)["changed"] and fake.mutations(mark) == []
    # Another range is a creation-time difference: refused before anything is sent.
    other = run_module(gcp_subnetwork, dict(args, ip_cidr_range="10.130.0.0/23"))
    assert other["failed"] and "ip_cidr_range: 10.129.0.0/23 -> 10.130.0.0/23" in other["msg"] and fake.mutations(mark) == []
    gone = run_module(gcp_subnetwork, dict(args, state="absent"))
    assert gone["changed"] and fake.mutations(mark) == [("DELETE", "compute", SUBNETS + "/llm-proxy-only", None)]
    assert fake.subnetworks == {} and not run_module(gcp_subnetwork, dict(args, state="absent"))["changed"]


def test_an_active_proxy_only_subnet_of_the_region_is_reused(fake, gcp_args):
    shared = dict(gcp_args, project=P, region="us-central1", name="shared", ip_cidr_range="10.200.0.0/23")
    run_module(gcp_subnetwork, shared)
    mark = fake.mark()
    ours = run_module(gcp_subnetwork, dict(shared, name="llm-proxy-only", ip_cidr_range="10.129.0.0/23"))
    assert not ours["changed"] and ours["reused"] and ours["subnetwork"]["name"] == "shared"
    assert fake.mutations(mark) == []
    # Without reuse the API itself refuses a second ACTIVE proxy-only subnet, and the message says so.
    second = run_module(gcp_subnetwork, dict(shared, name="llm-proxy-only", ip_cidr_range="10.129.0.0/23", reuse_existing=False))
    assert second["failed"] and "active proxy-only subnetwork already exists" in second["msg"]


def test_gke_cluster_gateway_api_channel_at_creation_and_in_place(fake, gcp_args):
    base = dict(
        gcp_args,
        project=P,
        location="us-central1-a",
        name="llm",
        release_channel="REGULAR",
        initial_node_pool={"name": "default-pool", "min_nodes": 1, "max_nodes": 3},
    )
    res = run_module(gke_cluster, dict(base, gateway_api="CHANNEL_STANDARD"))
    assert res["changed"] and res["cluster"]["gateway_api"] == "CHANNEL_STANDARD"
    assert fake.mutations()[0][3]["cluster"]["networkConfig"]["gatewayApiConfig"] == {"channel": "CHANNEL_STANDARD"}
    mark = fake.mark()
    assert not run_module(gke_cluster, dict(base, gateway_api="CHANNEL_STANDARD"))["changed"] and fake.mutations(mark) == []
    assert not run_module(gke_cluster, base)["changed"]  # unset leaves it alone
    check = run_module(gke_cluster, dict(base, gateway_api="CHANNEL_DISABLED"), check=True)
    assert check["changed"] and check["updates"] == ["gateway_api"] and fake.mutations(mark) == []
    assert check["diff"]["before"]["gateway_api"] == "CHANNEL_STANDARD" and check["diff"]["after"]["gateway_api"] == "CHANNEL_DISABLED"
    off = run_module(gke_cluster, dict(base, gateway_api="CHANNEL_DISABLED"))
    assert off["changed"] and off["cluster"]["gateway_api"] == "CHANNEL_DISABLED"
    assert fake.mutations(mark) == [
        (
            "PUT",
            "container",
            "/v1/projects/%s/locations/us-central1-a/clusters/llm" % P,
            {"update": {"desiredGatewayApiConfig": {"channel": "CHANNEL_DISABLED"}}},
        )
    ]
