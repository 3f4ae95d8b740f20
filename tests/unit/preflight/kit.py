"""Helpers of the preflight tests (a plain module, imported by the test files).

Configs are built the way a run sees them: the shipped inventory resolved through Ansible's
own variable precedence, then a realistic config from configs/ on top (what a user puts in
group_vars), then the mistake of a test case. ``run_playbook_cases`` pushes many cases through
the real action plugin in one ansible-playbook run per inventory, in a network namespace
without network when root, with every socket call of every Python process recorded."""

from __future__ import annotations

import copy
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap

import yaml
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from ansible.vars.manager import VariableManager

from ansible_collections.llm.platform.plugins.plugin_utils import preflight

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
CLOUDS = ("gke", "hetzner", "byo", "lab")
CONFIGS = os.path.join(HERE, "configs")
BIN = os.path.dirname(sys.executable)
DELETE = object()
# A kubeconfig nothing answers for: preflight must never try it.
UNREACHABLE_KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:9"}}],
    "users": [{"name": "u", "user": {"token": "not-a-real-token"}}],
    "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
    "current-context": "c",
}


def role_options(role):
    with open(os.path.join(REPO_ROOT, "roles", role, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)["argument_specs"]["main"].get("options") or {}


def role_spec(role):
    return {role: role_options(role)}


def all_role_option_names():
    names = set()
    for role in os.listdir(os.path.join(REPO_ROOT, "roles")):
        if os.path.exists(os.path.join(REPO_ROOT, "roles", role, "meta", "argument_specs.yml")):
            names |= set(role_options(role))
    return names


_RESOLVED = {}


def resolved_config(cloud, basedir=REPO_ROOT):
    """The config localhost sees when a playbook in ``basedir`` runs on this inventory: the
    config model's variables and every role variable the inventory sets, templated."""
    key = (cloud, basedir)
    if key not in _RESOLVED:
        loader = DataLoader()
        loader.set_basedir(basedir)
        inventory = InventoryManager(loader=loader, sources=[os.path.join(REPO_ROOT, "inventories", cloud)])
        manager = VariableManager(loader=loader, inventory=inventory)
        host_vars = manager.get_vars(host=inventory.get_host("localhost"))
        templar = Templar(loader=loader, variables=host_vars)
        names = set(preflight.load_spec()) | all_role_option_names()
        _RESOLVED[key] = {name: templar.template(host_vars[name]) for name in sorted(names) if name in host_vars}
    return copy.deepcopy(_RESOLVED[key])


def config_files(cloud):
    return sorted(f for f in os.listdir(CONFIGS) if f.startswith(cloud + "-") and f.endswith(".yml"))


def load_config(name):
    with open(os.path.join(CONFIGS, name), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def write_kubeconfig(directory):
    path = os.path.join(str(directory), "kubeconfig")
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(UNREACHABLE_KUBECONFIG, handle)
    return path


def build_config(cloud, name=None, kubeconfig=None):
    """The shipped inventory of ``cloud`` with the config file ``name`` (default: the cloud's
    first) on top; a bring-your-own cluster gets ``kubeconfig`` (a file that exists)."""
    cfg = resolved_config(cloud)
    cfg.update(load_config(name or config_files(cloud)[0]))
    if cloud == "byo" and kubeconfig:
        cfg["kubeconfig_path"] = kubeconfig
    return cfg


def apply(cfg, patch):
    """A copy of ``cfg`` with ``patch`` applied: {"tenants.0.budget.max_usd": -5, "a.b": DELETE}.
    A deleted top-level variable becomes None (unset, also over an inventory that sets it)."""
    cfg = copy.deepcopy(cfg)
    for path, value in patch.items():
        keys = [int(k) if k.isdigit() else k for k in path.split(".")]
        node = cfg
        for key in keys[:-1]:
            node = node[key]
        if value is DELETE and len(keys) == 1:
            node[keys[0]] = None
        elif value is DELETE:
            node.pop(keys[-1], None) if isinstance(node, dict) else node.pop(keys[-1])
        else:
            node[keys[-1]] = copy.deepcopy(value)
    return cfg


def validate(cloud, cfg, context=None):
    return preflight.validate(cfg, role_spec("substrate_" + cloud), context)


class NetworkGuard:
    """Records (and refuses) every IP connect and name lookup of this process."""

    def __init__(self, monkeypatch):
        self.calls = []
        connect, lookup = socket.socket.connect, socket.getaddrinfo

        def refuse(what, detail):
            self.calls.append((what, repr(detail)[:200]))
            raise OSError("network use during preflight: %s" % what)

        def guarded_connect(sock, address, *rest):
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                refuse("connect", address)
            return connect(sock, address, *rest)

        def guarded_lookup(host, *args, **kwargs):
            refuse("getaddrinfo", host)

        monkeypatch.setattr(socket.socket, "connect", guarded_connect)
        monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect)
        monkeypatch.setattr(socket, "getaddrinfo", guarded_lookup)
        monkeypatch.setattr(socket, "gethostbyname", lambda host: refuse("gethostbyname", host))
        assert lookup is not None


# Loaded by every Python process of a playbook run (PYTHONPATH): appends each socket connect
# or name lookup to $LLMP_NET_LOG and refuses it.
SITECUSTOMIZE = textwrap.dedent(
    """
    import ipaddress, os, socket
    _log = os.environ.get("LLMP_NET_LOG")
    def _record(what, detail):
        if _log:
            with open(_log, "a") as fh:
                fh.write("%s %d %r\\n" % (what, os.getpid(), detail))
        raise OSError("network use during preflight: " + what)
    def _numeric(host):
        try:
            ipaddress.ip_address(str(host).strip("[]"))
            return True
        except ValueError:
            return False
    def _connect(orig):
        def call(self, address, *rest):
            if self.family in (socket.AF_INET, socket.AF_INET6):
                _record("connect", address)
            return orig(self, address, *rest)
        return call
    def _lookup(orig):
        def call(host, *args, **kwargs):
            if host is not None and not _numeric(host):
                _record("getaddrinfo", host)
            return orig(host, *args, **kwargs)
        return call
    socket.socket.connect = _connect(socket.socket.connect)
    socket.socket.connect_ex = _connect(socket.socket.connect_ex)
    socket.getaddrinfo = _lookup(socket.getaddrinfo)
    """
)


def run_playbook_cases(cloud, cases, workdir):
    """Run ``llm.platform.preflight`` once per case (a play each, the case's whole config as
    vars_files over the cloud's inventory) in ONE ansible-playbook run. Returns
    ({case id: registered result}, output, network calls recorded)."""
    workdir = str(workdir)
    site = os.path.join(workdir, "site")
    os.makedirs(site, exist_ok=True)
    with open(os.path.join(site, "sitecustomize.py"), "w", encoding="utf-8") as handle:
        handle.write(SITECUSTOMIZE)
    plays = []
    for case_id, cfg in cases:
        vars_file = os.path.join(workdir, "%s.json" % case_id)
        with open(vars_file, "w", encoding="utf-8") as handle:
            json.dump(cfg, handle)
        plays.append(
            {
                "name": "case %s" % case_id,
                "hosts": "localhost",
                "gather_facts": False,
                "vars_files": [vars_file],
                "tasks": [
                    {"name": "preflight", "llm.platform.preflight": {}, "register": "r", "ignore_errors": True},
                    {
                        "name": "keep the result",
                        "ansible.builtin.set_fact": {"__cases": "{{ __cases | default({}) | combine({%r: r}) }}" % case_id},
                    },
                ],
            }
        )
    results_file = os.path.join(workdir, "results.json")
    plays.append(
        {
            "name": "results",
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {"name": "write them", "ansible.builtin.copy": {"content": "{{ __cases | to_json }}", "dest": results_file, "mode": "0600"}}
            ],
        }
    )
    playbook = os.path.join(workdir, "cases.yml")
    with open(playbook, "w", encoding="utf-8") as handle:
        yaml.safe_dump(plays, handle)
    net_log = os.path.join(workdir, "network.log")
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO_ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    env.update(PATH=BIN + os.pathsep + env.get("PATH", ""), LLMP_NET_LOG=net_log, PYTHONPATH=site + os.pathsep + env.get("PYTHONPATH", ""))
    env["ANSIBLE_LOCAL_TEMP"] = os.path.join(workdir, "tmp")
    argv = [os.path.join(BIN, "ansible-playbook"), "-i", os.path.join(REPO_ROOT, "inventories", cloud), playbook]
    if shutil.which("unshare") and os.geteuid() == 0:
        argv = ["unshare", "--net", *argv]
    proc = subprocess.run(argv, cwd=workdir, env=env, capture_output=True, text=True, timeout=600, check=False)
    out = proc.stdout + proc.stderr
    results = {}
    if os.path.exists(results_file):
        with open(results_file, encoding="utf-8") as handle:
            results = json.load(handle)
    calls = []
    if os.path.exists(net_log):
        with open(net_log, encoding="utf-8") as handle:
            calls = handle.read().splitlines()
    return results, out, calls
