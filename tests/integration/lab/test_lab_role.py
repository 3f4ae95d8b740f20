"""The substrate_lab role: idempotence, network isolation and its error messages."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
import sys

import pytest

pytestmark = pytest.mark.lab


def test_second_run_reports_changed_0(lab):
    proc = lab.ansible_playbook(lab.CREATE)
    assert proc.returncode == 0, proc.stdout[-4000:]
    recap = lab.recap(proc.stdout)
    assert recap, f"no PLAY RECAP in output:\n{proc.stdout[-2000:]}"
    for host, counts in recap.items():
        assert counts["failed"] == 0, (host, counts)
        assert counts["changed"] == 0, f"{host} changed={counts['changed']} on a healthy lab:\n{proc.stdout[-4000:]}"


def test_lab_namespace_has_only_loopback(lab):
    links = subprocess.run(["ip", "netns", "exec", lab.NETNS, "ip", "-o", "link"], capture_output=True, text=True,
                           check=True).stdout.splitlines()
    names = [line.split(":")[1].strip() for line in links]
    assert names == ["lo"], names
    routes = subprocess.run(["ip", "netns", "exec", lab.NETNS, "ip", "route", "show", "table", "all"],
                            capture_output=True, text=True, check=True).stdout
    assert "default" not in routes, routes


def test_every_lab_listener_is_loopback(lab):
    out = subprocess.run(["ip", "netns", "exec", lab.NETNS, "ss", "-Hltn"], capture_output=True, text=True,
                         check=True).stdout
    addrs = [line.split()[3].rsplit(":", 1)[0] for line in out.splitlines() if line.strip()]
    assert addrs, "no listener in the lab namespace"
    assert all(a in ("127.0.0.1", "[::1]") for a in addrs), addrs


def test_control_plane_versions_match_the_pins(lab):
    version = lab.kubectl_json("version")
    pinned = lab.versions()["components"]["kubernetes"]["version"]
    assert version["serverVersion"]["gitVersion"] == pinned
    assert version["clientVersion"]["gitVersion"] == pinned


def test_port_in_use_is_a_clear_error(lab):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    port = sock.getsockname()[1]
    try:
        proc = lab.ansible_playbook(
            lab.CREATE,
            "-e", json.dumps({"substrate_lab_name": "porttest", "substrate_lab_apiserver_port": port,
                              "substrate_lab_kubeconfig": f"{lab.CACHE}/lab/porttest/kubeconfig",
                              "substrate_lab_crds": False}),
        )
    finally:
        sock.close()
    assert proc.returncode != 0
    assert f"Port 127.0.0.1:{port} is in use" in proc.stdout, proc.stdout[-3000:]
    assert not subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False).stdout.count("llmlab-porttest")


def test_missing_netns_privileges_is_a_clear_error(lab):
    if not shutil.which("capsh"):
        pytest.skip("capsh (libcap2-bin) is needed to drop CAP_SYS_ADMIN")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    extra = json.dumps({"substrate_lab_name": "privtest", "substrate_lab_apiserver_port": port,
                        "substrate_lab_kubeconfig": f"{lab.CACHE}/lab/privtest/kubeconfig",
                        "substrate_lab_crds": False, "substrate_lab_build": False})
    exe = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    cmd = " ".join(shlex.quote(a) for a in [exe, "-i", lab.INVENTORY, lab.CREATE, "-e", extra])
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_CONFIG=os.path.join(lab.REPO_ROOT, "ansible.cfg"))
    proc = subprocess.run(["capsh", "--drop=cap_sys_admin", "--", "-c", cmd], cwd=lab.REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode != 0
    assert "Cannot create the network namespace llmlab-privtest" in proc.stdout, proc.stdout[-3000:]
    assert "needs root (or CAP_SYS_ADMIN" in proc.stdout
    assert "llmlab-privtest" not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                                                   check=False).stdout
