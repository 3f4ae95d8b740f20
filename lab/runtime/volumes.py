"""Pod volumes as files, the way the kubelet writes them: configMap, secret, projected
(serviceAccountToken through the TokenRequest API, bound to the pod; configMap; secret;
downwardAPI), downwardAPI, emptyDir (medium Memory on the runtime's tmpfs) and
persistentVolumeClaim (the lab provisioner's directory). Atomic updates use the kubelet's
`..data` symlink swap, so readers never see a half-written set of keys."""

from __future__ import annotations

import base64
import json
import os
import shutil
import time


class NotReady(Exception):
    """A volume's source is missing (the kubelet's FailedMount): retried, never half-mounted."""


def _field(pod: dict, path: str) -> str:
    if path.startswith("metadata.labels['") or path.startswith("metadata.annotations['"):
        key = path.split("['", 1)[1].rstrip("']")
        section = "labels" if path.startswith("metadata.labels") else "annotations"
        return pod["metadata"].get(section, {}).get(key, "")
    if path == "metadata.labels":
        return "\n".join('%s="%s"' % kv for kv in sorted(pod["metadata"].get("labels", {}).items()))
    if path == "metadata.annotations":
        return "\n".join('%s="%s"' % kv for kv in sorted(pod["metadata"].get("annotations", {}).items()))
    obj = pod
    for part in path.split("."):
        obj = obj.get(part, "") if isinstance(obj, dict) else ""
    return "" if obj is None else str(obj)


def field_ref(pod: dict, path: str, pod_ip: str, host_ip: str) -> str:
    if path == "status.podIP" or path == "status.podIPs":
        return pod_ip
    if path == "status.hostIP" or path == "status.hostIPs":
        return host_ip
    return _field(pod, path)


def write_atomic(directory: str, files: dict[str, tuple[bytes, int]]) -> None:
    """Write {relative path: (content, mode)} into directory with a ..data symlink swap."""
    os.makedirs(directory, exist_ok=True)
    stamp = "..%d_%d" % (time.time_ns(), os.getpid())
    staging = os.path.join(directory, stamp)
    os.makedirs(staging)
    for rel, (content, mode) in files.items():
        path = os.path.join(staging, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode & 0o777), "wb") as handle:
            handle.write(content)
        os.chmod(path, mode & 0o777)
    link = os.path.join(directory, "..data")
    tmp_link = os.path.join(directory, "..data_tmp")
    old = os.readlink(link) if os.path.islink(link) else None
    if os.path.lexists(tmp_link):
        os.remove(tmp_link)
    os.symlink(stamp, tmp_link)
    os.rename(tmp_link, link)
    tops = {rel.split("/", 1)[0] for rel in files}
    for top in tops:
        user_link = os.path.join(directory, top)
        if not os.path.lexists(user_link):
            os.symlink(os.path.join("..data", top), user_link)
    for entry in os.listdir(directory):
        path = os.path.join(directory, entry)
        if entry.startswith("..") or entry in tops:
            continue
        if os.path.islink(path):
            os.remove(path)
    if old and old != stamp:
        shutil.rmtree(os.path.join(directory, old), ignore_errors=True)


def _items(data: dict[str, bytes], items: list | None, default_mode: int, what: str, optional: bool) -> dict[str, tuple[bytes, int]]:
    if not items:
        return {k: (v, default_mode) for k, v in data.items()}
    out = {}
    for item in items:
        if item["key"] not in data:
            if optional:
                continue
            raise NotReady("%s has no key %r" % (what, item["key"]))
        out[item["path"]] = (data[item["key"]], item.get("mode", default_mode))
    return out


class VolumeSource:
    """Looks objects up for volumes and env: the runtime's informer caches plus the API."""

    def __init__(self, runtime):
        self.rt = runtime

    def configmap(self, namespace: str, name: str) -> dict[str, bytes] | None:
        obj = self.rt.cache.get("configmaps", namespace, name)
        if obj is None:
            return None
        data = {k: v.encode() for k, v in (obj.get("data") or {}).items()}
        data.update({k: base64.b64decode(v) for k, v in (obj.get("binaryData") or {}).items()})
        return data

    def secret(self, namespace: str, name: str) -> dict[str, bytes] | None:
        obj = self.rt.cache.get("secrets", namespace, name)
        if obj is None:
            return None
        return {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()}


def configmap_files(src: VolumeSource, ns: str, spec: dict, default_mode: int) -> dict[str, tuple[bytes, int]]:
    data = src.configmap(ns, spec["name"])
    what = "ConfigMap %s/%s" % (ns, spec["name"])
    if data is None:
        if spec.get("optional"):
            return {}
        raise NotReady(what + " not found")
    return _items(data, spec.get("items"), spec.get("defaultMode", default_mode), what, spec.get("optional", False))


def secret_files(src: VolumeSource, ns: str, spec: dict, default_mode: int) -> dict[str, tuple[bytes, int]]:
    name = spec.get("secretName") or spec.get("name")
    data = src.secret(ns, name)
    what = "Secret %s/%s" % (ns, name)
    if data is None:
        if spec.get("optional"):
            return {}
        raise NotReady(what + " not found")
    return _items(data, spec.get("items"), spec.get("defaultMode", default_mode), what, spec.get("optional", False))


def downward_files(pod: dict, items: list, default_mode: int, pod_ip: str, host_ip: str) -> dict[str, tuple[bytes, int]]:
    out = {}
    for item in items or []:
        if "fieldRef" in item:
            value = field_ref(pod, item["fieldRef"]["fieldPath"], pod_ip, host_ip)
        else:
            value = resource_field(pod, item["resourceFieldRef"])
        out[item["path"]] = (value.encode(), item.get("mode", default_mode))
    return out


def resource_field(pod: dict, ref: dict) -> str:
    """limits/requests of a container, in the divisor's unit (default 1); unset limits report the
    node's allocatable as the kubelet does (here: a large number)."""
    name = ref.get("containerName")
    containers = pod["spec"]["containers"]
    container = next((c for c in containers if c["name"] == name), containers[0])
    kind, _unused, res = ref["resource"].partition(".")
    value = (container.get("resources", {}).get(kind) or {}).get(res)
    if value is None:
        return "2147483647" if kind == "limits" else "0"
    return str(value)


def token_request(rt, pod: dict, audience: str | None, seconds: int) -> tuple[bytes, float]:
    ns = pod["metadata"]["namespace"]
    sa = pod["spec"].get("serviceAccountName") or "default"
    body = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenRequest",
        "spec": {
            "audiences": [audience] if audience else [],
            "expirationSeconds": max(int(seconds), 600),
            "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": pod["metadata"]["name"], "uid": pod["metadata"]["uid"]},
        },
    }
    resp = rt.client.request("POST", "/api/v1/namespaces/%s/serviceaccounts/%s/token" % (ns, sa), body)
    return resp["status"]["token"].encode(), time.time() + body["spec"]["expirationSeconds"]


def projected_files(rt, src: VolumeSource, pod: dict, spec: dict, pod_ip: str, host_ip: str, tokens: dict) -> dict[str, tuple[bytes, int]]:
    ns = pod["metadata"]["namespace"]
    default_mode = spec.get("defaultMode", 0o644)
    out: dict[str, tuple[bytes, int]] = {}
    for source in spec.get("sources", []):
        if "serviceAccountToken" in source:
            sat = source["serviceAccountToken"]
            key = (sat.get("audience"), sat["path"])
            token, expiry = tokens.get(key, (None, 0.0))
            seconds = sat.get("expirationSeconds", 3607)
            if token is None or time.time() > expiry - 0.2 * seconds:
                token, expiry = token_request(rt, pod, sat.get("audience"), seconds)
                tokens[key] = (token, expiry)
            out[sat["path"]] = (token, default_mode)
        elif "configMap" in source:
            out.update(configmap_files(src, ns, source["configMap"], default_mode))
        elif "secret" in source:
            out.update(secret_files(src, ns, source["secret"], default_mode))
        elif "downwardAPI" in source:
            out.update(downward_files(pod, source["downwardAPI"].get("items"), default_mode, pod_ip, host_ip))
    return out


def materialize(rt, pod: dict, pod_dir: str, pod_ip: str, host_ip: str, tokens: dict) -> dict[str, str]:
    """Write every volume of the pod; returns {volume name: host directory}. Raises NotReady
    (with the kubelet's reason) when a source is missing; nothing is half-written then."""
    src = VolumeSource(rt)
    ns = pod["metadata"]["namespace"]
    staged: list[tuple[str, str, dict | None]] = []
    paths: dict[str, str] = {}
    for vol in pod["spec"].get("volumes", []):
        name = vol["name"]
        target = os.path.join(pod_dir, "volumes", name)
        if "configMap" in vol:
            staged.append((name, target, configmap_files(src, ns, vol["configMap"], vol["configMap"].get("defaultMode", 0o644))))
        elif "secret" in vol:
            staged.append(
                (
                    name,
                    os.path.join(rt.secret_dir(pod), name),
                    secret_files(src, ns, vol["secret"], vol["secret"].get("defaultMode", 0o644)),
                )
            )
        elif "projected" in vol:
            staged.append(
                (name, os.path.join(rt.secret_dir(pod), name), projected_files(rt, src, pod, vol["projected"], pod_ip, host_ip, tokens))
            )
        elif "downwardAPI" in vol:
            spec = vol["downwardAPI"]
            staged.append((name, target, downward_files(pod, spec.get("items"), spec.get("defaultMode", 0o644), pod_ip, host_ip)))
        elif "emptyDir" in vol:
            memory = (vol["emptyDir"] or {}).get("medium") == "Memory"
            staged.append((name, os.path.join(rt.secret_dir(pod), name) if memory else target, None))
        elif "persistentVolumeClaim" in vol:
            staged.append((name, rt.pvc_dir(ns, vol["persistentVolumeClaim"]["claimName"]), None))
        else:
            kinds = [k for k in vol if k != "name"]
            raise NotReady("volume %s: type %s is not supported by the lab runtime" % (name, ",".join(kinds)))
    for name, target, files in staged:
        if files is None:
            os.makedirs(target, exist_ok=True)
            os.chmod(target, 0o777)  # noqa: S103 - emptyDir and PVC directories are writable by any pod user
        else:
            write_atomic(target, files)
            os.chmod(target, 0o755)  # noqa: S103 - the kubelet's mode for configMap/secret volume dirs
        paths[name] = target
    return paths


def dump_json(path: str, data) -> None:
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
        json.dump(data, handle)
