"""substrate_hetzner's k3s node tasks on local stand-in nodes (a k3s server, a CPU agent and a
dedicated GPU worker under a temporary root, a stand-in binary, systemd not managed): the first
run installs binary, config and unit; a rerun is changed=0 and does not restart k3s; a version
bump replaces the binary and restarts; the GPU worker joins tainted with the GPU label."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys

import pytest
import yaml

pytestmark = pytest.mark.substrates

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
FAKE_K3S = """#!/bin/sh
if [ "$1" = "--version" ]; then echo "k3s version %s (stand-in)"; echo "go version go1.24"; exit 0; fi
exit 0
"""


def write_binary(path, version):
    path.write_text(FAKE_K3S % version)
    path.chmod(0o755)


def setup(tmp_path):
    nodes = {"cp-1": "k3s_servers", "workers-1": "k3s_agents", "gex44-1": "gpu_workers"}
    groups = {"k3s_servers": {"hosts": {}}, "k3s_agents": {"hosts": {}}, "gpu_workers": {"hosts": {}}}
    for i, (name, group) in enumerate(nodes.items()):
        root = tmp_path / name
        for sub in ("bin", "etc", "systemd"):
            (root / sub).mkdir(parents=True)
        groups[group]["hosts"][name] = {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "ansible_host": "198.51.100.%d" % (10 + i),
            "k3s_node_ip": "10.0.1.%d" % (10 + i) if group != "gpu_workers" else "",
            "substrate_hetzner_k3s_install_dir": str(root / "bin"),
            "substrate_hetzner_k3s_config_dir": str(root / "etc"),
            "substrate_hetzner_k3s_systemd_dir": str(root / "systemd"),
        }
    inventory = {"all": {"vars": {"cluster_name": "llm-platform", "substrate": "hetzner"}, "children": {"hetzner": {"children": groups}}}}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    return nodes


def run(tmp_path, version, binary, checksum=None, expect_ok=True):
    ev = {
        "substrate_hetzner_k3s_version": version,
        "substrate_hetzner_k3s_binary_src": str(binary),
        # The stand-in binary's own sha256: the role verifies controller-local binaries too.
        "substrate_hetzner_k3s_binary_checksum": (
            checksum if checksum is not None else "sha256:" + hashlib.sha256(binary.read_bytes()).hexdigest()
        ),
        "substrate_hetzner_k3s_manage_service": False,
        "substrate_hetzner_k3s_token": "K10-test-token",
        "substrate_hetzner_operator_cidrs": ["198.51.100.0/24"],
        "kubeconfig_path": str(tmp_path / "kubeconfig"),
    }
    (tmp_path / "ev.json").write_text(json.dumps(ev))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"))
    exe = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    cmd = [exe, "-i", str(tmp_path / "hosts.yml"), os.path.join(HERE, "playbooks", "k3s_local.yml"), "-e", "@" + str(tmp_path / "ev.json")]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)
    recap = {h: (int(c), int(f)) for h, _ok, c, _u, f in RECAP.findall(proc.stdout)}
    if not expect_ok:
        return proc, recap, {}
    assert recap and all(f == 0 for _c, f in recap.values()), proc.stdout[-5000:] + proc.stderr[-2000:]
    restarted = {}
    for name in recap:
        marker = tmp_path / name / "restarted"
        if marker.exists():
            restarted[name] = marker.read_text().strip()
    return proc, recap, restarted


def test_k3s_install_rerun_and_upgrade(tmp_path):
    nodes = setup(tmp_path)
    binary = tmp_path / "k3s-v1"
    write_binary(binary, "v1.33.5+k3s1")
    proc, recap, restarted = run(tmp_path, "v1.33.5+k3s1", binary)
    assert all(changed > 0 for changed, _f in recap.values()), recap
    assert restarted == {n: "true" for n in nodes}, proc.stdout[-3000:]

    server = yaml.safe_load((tmp_path / "cp-1" / "etc" / "config.yaml").read_text())
    assert server["disable"] == ["servicelb", "traefik", "local-storage"] and server["disable-cloud-controller"] is True
    assert server["node-ip"] == "10.0.1.10" and server["token"] == "K10-test-token"
    assert server["flannel-backend"] == "wireguard-native"  # GPU workers join over public addresses (no vSwitch)
    assert "server" not in server
    agent = yaml.safe_load((tmp_path / "workers-1" / "etc" / "config.yaml").read_text())
    assert agent["server"] == "https://10.0.1.10:6443" and agent["kubelet-arg"] == ["cloud-provider=external"]
    gpu = yaml.safe_load((tmp_path / "gex44-1" / "etc" / "config.yaml").read_text())
    assert gpu["server"] == "https://198.51.100.10:6443"
    assert gpu["node-taint"] == ["nvidia.com/gpu=present:NoSchedule"] and "nvidia.com/gpu.present=true" in gpu["node-label"]
    unit = (tmp_path / "gex44-1" / "systemd" / "k3s-agent.service").read_text()
    assert "k3s agent --config" in unit
    assert oct((tmp_path / "cp-1" / "etc" / "config.yaml").stat().st_mode & 0o777) == "0o600"
    assert "K10-test-token" not in proc.stdout

    # Rerun: changed=0 everywhere and no restart.
    proc, recap, restarted = run(tmp_path, "v1.33.5+k3s1", binary)
    assert {h: c for h, (c, _f) in recap.items()} == {n: 0 for n in nodes}, proc.stdout[-3000:]
    assert restarted == {n: "false" for n in nodes}

    # Version bump: binary replaced on every node, k3s restarted.
    binary2 = tmp_path / "k3s-v2"
    write_binary(binary2, "v1.33.6+k3s1")
    proc, recap, restarted = run(tmp_path, "v1.33.6+k3s1", binary2)
    assert restarted == {n: "true" for n in nodes}, proc.stdout[-3000:]
    assert "v1.33.6+k3s1" in (tmp_path / "workers-1" / "bin" / "k3s").read_text()


@pytest.mark.parametrize(
    "version,checksum,names",
    [
        # The pinned version with another checksum (a tampered or wrong download).
        ("v1.36.3+k3s1", "sha256:" + "0" * 64, "sha256:2f98a9f8fe5782479ee2d54e70a1b10a7f6fd4cae8d38ed3098452dc6eed76b5"),
        # A version bump that kept the old release's checksum.
        ("v1.36.4+k3s1", "sha256:2f98a9f8fe5782479ee2d54e70a1b10a7f6fd4cae8d38ed3098452dc6eed76b5", "v1.36.4+k3s1"),
        # No checksum at all.
        ("v1.33.5+k3s1", "", "allowed: sha256:<64 hex>"),
    ],
)
def test_k3s_refuses_a_checksum_that_is_not_the_pinned_release(tmp_path, version, checksum, names):
    nodes = setup(tmp_path)
    binary = tmp_path / "k3s-v1"
    write_binary(binary, version)
    proc, recap, _restarted = run(tmp_path, version, binary, checksum=checksum, expect_ok=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "substrate_hetzner_k3s_binary_checksum: got" in out and names in out, out[-3000:]
    assert all(c == 0 for c, _f in recap.values()), recap  # refused before any node changed
    assert not any((tmp_path / n / "bin" / "k3s").exists() for n in nodes)


def test_k3s_refuses_a_local_binary_with_another_checksum(tmp_path):
    setup(tmp_path)
    binary = tmp_path / "k3s-v1"
    write_binary(binary, "v1.33.5+k3s1")
    other = "sha256:" + hashlib.sha256(b"another file").hexdigest()
    proc, _recap, _restarted = run(tmp_path, "v1.33.5+k3s1", binary, checksum=other, expect_ok=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "substrate_hetzner_k3s_binary_src" in out and other in out, out[-3000:]
    assert not (tmp_path / "workers-1" / "bin" / "k3s").exists()
