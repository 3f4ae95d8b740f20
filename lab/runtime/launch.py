"""From a pod's container spec to the sandbox spec of one process: argv (command/args with the
image's ENTRYPOINT/CMD and $(VAR) expansion), env (image ENV, service links, envFrom, env with
valueFrom), user and groups (securityContext over the image's USER), mounts and workdir, then
the image's translator."""

from __future__ import annotations

import os
import re

from . import images as imagesmod
from . import translate, volumes

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
VAR = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)|\$\$")


class ConfigError(Exception):
    """The kubelet's CreateContainerConfigError: a missing key or an impossible identity."""


def expand(text: str, env: dict[str, str]) -> str:
    def sub(m):
        if m.group(0) == "$$":
            return "$"
        return env.get(m.group(1), m.group(0))

    return VAR.sub(sub, text)


def service_env(services: list[dict]) -> dict[str, str]:
    out = {}
    for svc in services:
        ip = svc.get("spec", {}).get("clusterIP")
        if not ip or ip == "None":
            continue
        name = svc["metadata"]["name"].upper().replace("-", "_")
        ports = svc["spec"].get("ports", [])
        if not ports:
            continue
        out[name + "_SERVICE_HOST"] = ip
        out[name + "_SERVICE_PORT"] = str(ports[0]["port"])
        out[name + "_PORT"] = "tcp://%s:%d" % (ip, ports[0]["port"])
        for p in ports:
            proto = p.get("protocol", "TCP")
            base = "%s_PORT_%d_%s" % (name, p["port"], proto)
            out[base] = "%s://%s:%d" % (proto.lower(), ip, p["port"])
            out[base + "_PROTO"] = proto.lower()
            out[base + "_PORT"] = str(p["port"])
            out[base + "_ADDR"] = ip
            if p.get("name"):
                out["%s_SERVICE_PORT_%s" % (name, p["name"].upper().replace("-", "_"))] = str(p["port"])
    return out


def resolve_env(rt, pod: dict, c: dict, entry: dict, pod_ip: str, host_ip: str) -> dict[str, str]:
    ns = pod["metadata"]["namespace"]
    src = volumes.VolumeSource(rt)
    env = {"PATH": DEFAULT_PATH, "HOSTNAME": pod["spec"].get("hostname") or pod["metadata"]["name"]}
    env.update({k: str(v) for k, v in (entry.get("env") or {}).items()})
    if pod["spec"].get("enableServiceLinks", True):
        env.update(service_env(rt.cache.list("services", ns)))
    env["KUBERNETES_SERVICE_HOST"] = "127.0.0.1"
    env["KUBERNETES_SERVICE_PORT"] = str(rt.apiserver_port)
    env["KUBERNETES_SERVICE_PORT_HTTPS"] = str(rt.apiserver_port)
    for ref in c.get("envFrom", []):
        prefix = ref.get("prefix", "")
        if "configMapRef" in ref:
            data, what, optional = src.configmap(ns, ref["configMapRef"]["name"]), "ConfigMap", ref["configMapRef"].get("optional", False)
            name = ref["configMapRef"]["name"]
        else:
            data, what, optional = src.secret(ns, ref["secretRef"]["name"]), "Secret", ref["secretRef"].get("optional", False)
            name = ref["secretRef"]["name"]
        if data is None:
            if optional:
                continue
            raise ConfigError('%s "%s" not found' % (what.lower(), name))
        env.update({prefix + k: v.decode(errors="replace") for k, v in data.items()})
    for var in c.get("env", []):
        if "valueFrom" not in var:
            env[var["name"]] = expand(str(var.get("value", "")), env)
            continue
        vf = var["valueFrom"]
        if "fieldRef" in vf:
            env[var["name"]] = volumes.field_ref(pod, vf["fieldRef"]["fieldPath"], pod_ip, host_ip)
        elif "resourceFieldRef" in vf:
            env[var["name"]] = volumes.resource_field(
                pod, dict(vf["resourceFieldRef"], containerName=vf["resourceFieldRef"].get("containerName", c["name"]))
            )
        else:
            kind = "configMapKeyRef" if "configMapKeyRef" in vf else "secretKeyRef"
            ref = vf[kind]
            data = src.configmap(ns, ref["name"]) if kind == "configMapKeyRef" else src.secret(ns, ref["name"])
            label = "configmap" if kind == "configMapKeyRef" else "secret"
            if data is None or ref["key"] not in data:
                if ref.get("optional"):
                    continue
                if data is None:
                    raise ConfigError('%s "%s" not found' % (label, ref["name"]))
                raise ConfigError("couldn't find key %s in %s %s/%s" % (ref["key"], label.capitalize(), ns, ref["name"]))
            env[var["name"]] = data[ref["key"]].decode(errors="replace")
    return env


def _passwd_ids(entry: dict, uid: int) -> int | None:
    for line in entry.get("users") or []:
        parts = line.split(":")
        if len(parts) > 3 and parts[2] == str(uid):
            return int(parts[3])
    return None


def identity(pod: dict, c: dict, entry: dict) -> tuple[int, int, list[int]]:
    psc = pod["spec"].get("securityContext") or {}
    csc = c.get("securityContext") or {}
    uid = csc.get("runAsUser", psc.get("runAsUser", entry.get("user", 0)))
    uid = int(uid)
    gid = csc.get("runAsGroup", psc.get("runAsGroup"))
    if gid is None:
        gid = _passwd_ids(entry, uid)
    gid = int(gid or 0)
    groups = [int(g) for g in psc.get("supplementalGroups", [])]
    if psc.get("fsGroup") is not None:
        groups.append(int(psc["fsGroup"]))
    if csc.get("runAsNonRoot", psc.get("runAsNonRoot")) and uid == 0:
        raise ConfigError("container has runAsNonRoot and image will run as root")
    return uid, gid, sorted(set(groups))


def build(rt, pod: dict, c: dict, entry_name: str, entry: dict, pod_ip: str, host_ip: str, paths: dict[str, str], pod_dir: str):
    """(sandbox spec, Launch) for one container; raises ConfigError like the kubelet."""
    env = resolve_env(rt, pod, c, entry, pod_ip, host_ip)
    if c.get("command"):
        argv = list(c["command"]) + list(c.get("args") or [])
    else:
        argv = list(entry.get("entrypoint") or []) + list(c["args"] if "args" in c else entry.get("cmd") or [])
    argv = [expand(str(a), env) for a in argv]
    if not argv:
        raise ConfigError("no command specified")
    launch = translate.Launch(pod=pod, container=c, argv=argv, env=env, pod_ip=pod_ip, alloc_port=rt.alloc_port, litellm=rt.litellm_info)
    if entry.get("translate"):
        translate.TRANSLATORS[entry["translate"]](launch)
    uid, gid, groups = identity(pod, c, entry)
    mounts = [
        {"source": os.path.join(pod_dir, "etc", "hosts"), "path": "/etc/hosts", "readOnly": True},
        {"source": os.path.join(pod_dir, "etc", "resolv.conf"), "path": "/etc/resolv.conf", "readOnly": True},
        {"source": os.path.join(pod_dir, "etc", "hostname"), "path": "/etc/hostname", "readOnly": True},
    ]
    if entry.get("users"):
        mounts.append({"source": os.path.join(rt.layer(entry_name, entry), "etc", "passwd"), "path": "/etc/passwd", "readOnly": True})
    for vm in c.get("volumeMounts", []):
        if vm["name"] not in paths:
            raise ConfigError("volumeMount %s refers to no volume" % vm["name"])
        source = paths[vm["name"]]
        if vm.get("subPath"):
            source = os.path.join(source, vm["subPath"])
            if not os.path.lexists(source):
                os.makedirs(source, exist_ok=True)
            source = os.path.realpath(source)
        mounts.append({"source": source, "path": vm["mountPath"], "readOnly": vm.get("readOnly", False)})
    traverse = [imagesmod.LAB if t == "lab" else t for t in entry.get("traverse", [])]
    if entry.get("translate") == "litellm":
        info = rt.litellm_info()
        traverse += [info["prefix"]] + ([info["kit"]] if info.get("kit") else [])
    spec = {
        "scratch": None,  # set by the caller (one per container start)
        "layers": [rt.layer(entry_name, entry)],
        "mounts": mounts,
        "traverse": traverse,
        "workdir": c.get("workingDir") or entry.get("workdir") or "/",
        "uid": uid,
        "gid": gid,
        "groups": groups,
        "env": launch.env,
        "argv": launch.argv,
        "hostname": (pod["spec"].get("hostname") or pod["metadata"]["name"])[:63],
    }
    return spec, launch
