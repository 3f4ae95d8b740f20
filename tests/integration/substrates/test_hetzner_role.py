"""The Hetzner substrate's cloud part (hetzner.hcloud modules) end to end through
playbooks/substrate.yml and playbooks/teardown.yml against the local Hetzner Cloud API test
server: exact requests for create, a no-op rerun (changed=0), check mode (no mutating
request), an in-place firewall update, retries on 429/502, a quota error, and the ordered
teardown with its audit. ``--limit localhost`` keeps the k3s play (SSH) out of it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from fakehcloud import IMAGES, LOCATION, FakeHcloud  # noqa: E402

pytestmark = pytest.mark.substrates

REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
RECAP = re.compile(r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests test"


@pytest.fixture
def hcloud():
    server = FakeHcloud().start()
    yield server
    server.stop()


def play(fake, tmp_path, playbook, *args, extra=None):
    ev = {
        "substrate_hetzner_api_endpoint": fake.endpoint,
        "substrate_hetzner_api_token": "t" * 64,
        "substrate_hetzner_ssh_public_key": KEY,
        "kubeconfig_path": str(tmp_path / "kubeconfig"),
        "substrate_hetzner_wait_ssh": False,  # the servers' addresses are documentation ranges: never dialled
    }
    ev.update(extra or {})
    path = tmp_path / "extra.json"
    path.write_text(json.dumps(ev))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"))
    env.pop("HCLOUD_TOKEN", None)
    exe = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    cmd = [exe, "-i", "inventories/hetzner", "playbooks/" + playbook, "-e", "@" + str(path), "--limit", "localhost", *args]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)
    found = RECAP.search(proc.stdout)
    assert found, proc.stdout[-3000:] + proc.stderr[-2000:]
    _ok, changed, _unreachable, failed = map(int, found.groups())
    return proc, changed, failed


def calls(fake, since=0):
    """Mutating requests with ids replaced by {id}."""
    return [(m, re.sub(r"/\d+", "/{id}", p)) for (m, p, _b) in fake.mutations(since)]


def test_hetzner_cloud_create_rerun_check_update_teardown(hcloud, tmp_path):
    hcloud.action_polls = 1  # every action runs for one poll before it succeeds
    proc, changed, failed = play(hcloud, tmp_path, "substrate.yml")
    assert failed == 0, proc.stdout[-4000:]
    assert calls(hcloud) == [
        ("POST", "/v1/ssh_keys"),
        ("POST", "/v1/networks"),
        ("POST", "/v1/networks/{id}/actions/add_subnet"),
        ("POST", "/v1/firewalls"),
        ("POST", "/v1/placement_groups"),
        ("POST", "/v1/servers"),
        ("POST", "/v1/servers"),
        ("POST", "/v1/servers"),
        ("POST", "/v1/servers"),
    ]
    bodies = hcloud.mutations()
    assert bodies[1][2] == {
        "name": "llm-platform",
        "ip_range": "10.0.0.0/16",
        "labels": {"cluster": "llm-platform", "managed-by": "llm-platform"},
        "expose_routes_to_vswitch": False,
    }
    assert bodies[2][2] == {"type": "cloud", "ip_range": "10.0.1.0/24", "network_zone": "eu-central"}
    rules = bodies[3][2]["rules"]
    assert [(r["protocol"], r.get("port"), r["source_ips"]) for r in rules] == [
        ("icmp", None, ["0.0.0.0/0", "::/0"]),
        ("tcp", "22", ["198.51.100.0/24"]),
        ("tcp", "6443", ["198.51.100.0/24"]),
    ]
    assert bodies[4][2]["type"] == "spread"
    servers = [b for (_m, p, b) in bodies if p == "/v1/servers"]
    assert [s["name"] for s in servers] == [
        "llm-platform-cp-1",
        "llm-platform-workers-1",
        "llm-platform-workers-2",
        "llm-platform-workers-3",
    ]
    net = hcloud.by_name("networks", "llm-platform")
    fw = hcloud.by_name("firewalls", "llm-platform")
    pg = hcloud.by_name("placement_groups", "llm-platform")
    for server in servers:
        assert (
            server["networks"] == [net["id"]] and server["firewalls"] == [{"firewall": fw["id"]}] and server["placement_group"] == pg["id"]
        )
        assert server["location"] == LOCATION["id"] and server["image"] == IMAGES[0]["id"]
    assert [s["server_type"] for s in servers] == [2, 3, 3, 3]  # cpx32 for the k3s server, cpx42 workers (ids in the catalog)
    assert any(p.startswith("/v1/actions") for (m, p, _q, _b, _s) in hcloud.log if m == "GET")  # actions were polled

    mark = hcloud.mark()
    proc, changed, failed = play(hcloud, tmp_path, "substrate.yml")
    assert (changed, failed) == (0, 0), proc.stdout[-3000:]
    assert calls(hcloud, mark) == []

    wider = {"substrate_hetzner_operator_cidrs": ["198.51.100.0/24", "203.0.113.0/24"]}
    proc, changed, failed = play(hcloud, tmp_path, "substrate.yml", "--check", extra=wider)
    assert failed == 0 and changed == 1, proc.stdout[-3000:]
    assert calls(hcloud, mark) == []

    proc, changed, failed = play(hcloud, tmp_path, "substrate.yml", extra=wider)
    assert failed == 0 and changed == 1, proc.stdout[-3000:]
    assert calls(hcloud, mark) == [("POST", "/v1/firewalls/{id}/actions/set_rules")]
    assert hcloud.by_name("firewalls", "llm-platform")["rules"][1]["source_ips"] == ["198.51.100.0/24", "203.0.113.0/24"]

    # Teardown: servers (workers first), placement group, firewall, network, SSH key; the audit names a leftover CSI volume.
    hcloud.store["volumes"][1] = {
        "id": 1,
        "name": "pvc-4b1e",
        "size": 10,
        "linux_device": "/dev/disk/by-id/scsi-0HC_Volume_1",
        "location": LOCATION,
        "server": None,
        "status": "available",
        "format": "ext4",
        "protection": {"delete": False},
        "labels": {},
        "created": "2026-01-01T00:00:00+00:00",
    }
    mark = hcloud.mark()
    proc, changed, failed = play(hcloud, tmp_path, "teardown.yml", extra=dict(wider, teardown_confirm="llm-platform"))
    assert failed == 0, proc.stdout[-4000:]
    assert calls(hcloud, mark) == [
        ("DELETE", "/v1/servers/{id}"),
        ("DELETE", "/v1/servers/{id}"),
        ("DELETE", "/v1/servers/{id}"),
        ("DELETE", "/v1/servers/{id}"),
        ("DELETE", "/v1/placement_groups/{id}"),
        ("DELETE", "/v1/firewalls/{id}"),
        ("DELETE", "/v1/networks/{id}"),
        ("DELETE", "/v1/ssh_keys/{id}"),
    ]
    assert all(not hcloud.store[k] for k in ("servers", "networks", "firewalls", "placement_groups", "ssh_keys"))
    assert "pvc-4b1e" in proc.stdout and "clean: false" in proc.stdout


def test_hetzner_retries_429_and_502_and_names_quota_errors(hcloud, tmp_path):
    hcloud.inject(
        "GET",
        r"^/v1/ssh_keys$",
        429,
        {"error": {"code": "rate_limit_exceeded", "message": "limit of 3600 requests per hour reached", "details": {}}},
    )
    hcloud.inject("POST", r"^/v1/networks$", 502, {"nothing": "here"})
    hcloud.inject(
        "POST", r"^/v1/firewalls$", 409, {"error": {"code": "conflict", "message": "resource is locked by another action", "details": {}}}
    )
    hcloud.inject(
        "POST",
        r"^/v1/servers$",
        403,
        {
            "error": {
                "code": "resource_limit_exceeded",
                "message": "server limit exceeded",
                "details": {"limits": [{"name": "server_limit"}]},
            }
        },
    )
    proc, _changed, failed = play(hcloud, tmp_path, "substrate.yml")
    statuses = [s for (_m, _p, _q, _b, s) in hcloud.log]
    assert statuses.count(429) == 1 and statuses.count(502) == 1 and statuses.count(409) == 1
    assert hcloud.by_name("networks", "llm-platform") is not None  # created after the retried 502
    assert hcloud.by_name("firewalls", "llm-platform") is not None  # created after the retried 409 conflict
    assert failed == 1 and "server limit exceeded" in proc.stdout and "resource_limit_exceeded" in proc.stdout


def test_hetzner_world_open_firewall_is_refused_before_any_request(hcloud, tmp_path):
    proc, _changed, failed = play(hcloud, tmp_path, "substrate.yml", extra={"substrate_hetzner_operator_cidrs": ["0.0.0.0/0"]})
    assert failed == 1 and "substrate_hetzner_operator_cidrs[0]" in proc.stdout and "substrate_hetzner_firewall_allow_world" in proc.stdout
    assert hcloud.log == []
