"""The living lab's pod runtime: a kubelet stand-in for the lab's kwok nodes.

It watches the lab's API server; every scheduled pod whose images are all in images.yml runs
here as real processes (pods.PodWorker), with its own 127.128.x address, its ServiceAccount's
token, its volumes as files, probes and restarts. It also serves the Services' ClusterIPs and
DNS (network.py), provisions PersistentVolumes for the `lab-local` StorageClass, and keeps
kwok's Logs and PortForward objects so `kubectl logs` and `kubectl port-forward` reach the
processes. Pods it does not back stay kwok's. Runs inside the lab's network namespace.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import subprocess
import sys
import threading
import time

from . import images as imagesmod
from . import kube, network
from .pods import PodWorker

PROVISIONER = "lab.llm-platform.io/local-path"
STORAGE_CLASS = "lab-local"


class Cache:
    """Informer caches: kind -> {(namespace, name): object}, plus pods by uid."""

    def __init__(self):
        self.data: dict[str, dict[tuple[str, str], dict]] = {}
        self.pods_by_uid: dict[str, dict] = {}
        self.lock = threading.Lock()
        self.synced: set[str] = set()

    def apply(self, kind: str, event: str, obj) -> None:
        with self.lock:
            store = self.data.setdefault(kind, {})
            if event == "SYNC":
                store.clear()
                for item in obj:
                    store[(item["metadata"].get("namespace", ""), item["metadata"]["name"])] = item
                if kind == "pods":
                    self.pods_by_uid = {p["metadata"]["uid"]: p for p in obj}
                self.synced.add(kind)
                return
            key = (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
            if event == "DELETED":
                store.pop(key, None)
                if kind == "pods":
                    self.pods_by_uid.pop(obj["metadata"]["uid"], None)
            else:
                store[key] = obj
                if kind == "pods":
                    self.pods_by_uid[obj["metadata"]["uid"]] = obj

    def get(self, kind: str, namespace: str, name: str) -> dict | None:
        with self.lock:
            return self.data.get(kind, {}).get((namespace, name))

    def get_uid(self, kind: str, uid: str) -> dict | None:
        with self.lock:
            return self.pods_by_uid.get(uid)

    def list(self, kind: str, namespace: str | None = None) -> list[dict]:
        with self.lock:
            return [o for (ns, _unused), o in self.data.get(kind, {}).items() if namespace is None or ns == namespace]


def _selects(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


class Runtime:
    def __init__(self, kubeconfig: str, state_dir: str, cache_dir: str, apiserver_port: int):
        self.client = kube.Client(kubeconfig)
        self.state_dir = state_dir
        self.cache_dir = cache_dir
        self.apiserver_port = apiserver_port
        self.dns_ip = network.DNS_IP
        self.images = imagesmod.ImageMap(cache=cache_dir)
        self.cache = Cache()
        self.ipam = network.IPAM()
        self.net = network.Network(self, apiserver_port)
        self.workers: dict[str, PodWorker] = {}
        self.workers_lock = threading.Lock()
        self.stop = threading.Event()
        self._litellm = None
        self._layers: dict[str, str] = {}
        self._layers_lock = threading.Lock()
        self.tmpfs = os.path.join(state_dir, "tmpfs")
        self.simulated: dict[str, str] = {}
        self._endpoints_sent: dict[tuple[str, str], str] = {}
        self.violations: list[str] = []  # non-loopback connects refused by bindfix

    # ------------------------------------------------------------------ helpers for workers
    def log(self, msg: str) -> None:
        print("%s lab-runtime: %s" % (datetime.datetime.now().strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)

    def alloc_port(self) -> int:
        return network.free_port()

    def secret_dir(self, pod: dict) -> str:
        return os.path.join(self.tmpfs, pod["metadata"]["uid"])

    def layer(self, name: str, entry: dict) -> str:
        with self._layers_lock:
            return self._layer(name, entry)

    def _layer(self, name: str, entry: dict) -> str:
        if name not in self._layers:
            self._layers[name] = imagesmod.build_layer(
                name,
                entry,
                self.images.versions,
                self.cache_dir,
                lambda: self.litellm_info()["prefix"],
                os.path.join(self.state_dir, "layers"),
            )
        return self._layers[name]

    def litellm_info(self) -> dict:
        """The LiteLLM install behind the litellm images (installed once, on first use)."""
        if self._litellm is None:
            sys.path.insert(0, imagesmod.LAB)
            import litellm_install

            prefix = litellm_install.ensure()
            kit = litellm_install.find_kit()
            info = {"prefix": prefix, "kind": "kit" if kit else "pip", "kit": kit, "env": {}}
            keep = (
                "PRISMA_",
                "CHECKPOINT_DISABLE",
                "LITELLM_OFFLINE_MODE",
                "LITELLM_LOCAL_MODEL_COST_MAP",
                "LITELLM_PRISMA_COMMAND_TIMEOUT",
                "STORE_MODEL_IN_DB",
            )
            out = subprocess.run(
                ["bash", "-c", '. "$1/env.sh" && env -0', "_", prefix], capture_output=True, check=True, env={"PATH": os.environ["PATH"]}
            ).stdout
            for item in out.split(b"\0"):
                key, _unused, value = item.decode().partition("=")
                if key.startswith(keep):
                    info["env"][key] = value
            site = subprocess.run(
                [os.path.join(prefix, "venv", "bin", "python"), "-c", "import litellm,os;print(os.path.dirname(litellm.__file__))"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            info["migration_script"] = os.path.join(site, "proxy", "prisma_migration.py")
            self._litellm = info
        return self._litellm

    def node_ip(self, node: str | None) -> str:
        obj = self.cache.get("nodes", "", node or "")
        for addr in (obj or {}).get("status", {}).get("addresses", []):
            if addr.get("type") == "InternalIP":
                return addr["address"]
        return "127.0.0.1"

    def pvc_dir(self, namespace: str, claim: str) -> str:
        from .volumes import NotReady

        pvc = self.cache.get("persistentvolumeclaims", namespace, claim)
        if pvc is None:
            raise NotReady('persistentvolumeclaim "%s" not found' % claim)
        volume = pvc.get("spec", {}).get("volumeName")
        pv = self.cache.get("persistentvolumes", "", volume or "")
        if not volume or pv is None or pvc.get("status", {}).get("phase") != "Bound":
            raise NotReady('persistentvolumeclaim "%s" is not bound' % claim)
        path = (pv["spec"].get("hostPath") or pv["spec"].get("local") or {}).get("path")
        if not path:
            raise NotReady("persistentvolume %s has no hostPath/local path the lab can mount" % volume)
        os.makedirs(path, exist_ok=True)
        return path

    def event(self, pod: dict, kind: str, reason: str, message: str) -> None:
        ns = pod["metadata"]["namespace"]
        ts = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        body = {
            "apiVersion": "events.k8s.io/v1",
            "kind": "Event",
            "metadata": {"generateName": pod["metadata"]["name"] + ".", "namespace": ns},
            "eventTime": ts,
            "reportingController": "llm-platform.io/lab-runtime",
            "reportingInstance": "lab-runtime",
            "action": reason,
            "reason": reason,
            "type": kind,
            "note": message[:1000],
            "regarding": {
                "kind": "Pod",
                "namespace": ns,
                "name": pod["metadata"]["name"],
                "uid": pod["metadata"]["uid"],
                "apiVersion": "v1",
            },
        }
        with contextlib.suppress(Exception):  # events are best effort, as the kubelet's are
            self.client.request("POST", "/apis/events.k8s.io/v1/namespaces/%s/events" % ns, body)

    def _owner(self, worker: PodWorker) -> list[dict]:
        return [{"apiVersion": "v1", "kind": "Pod", "name": worker.pod_name, "uid": worker.uid}]

    def publish_debug_objects(self, worker: PodWorker) -> None:
        """kwok's PortForward object for the pod (kubectl port-forward reaches its address)."""
        ports = sorted({int(p["containerPort"]) for c in worker.pod["spec"].get("containers", []) for p in c.get("ports", [])})
        if not ports:
            return
        body = {
            "apiVersion": "kwok.x-k8s.io/v1alpha1",
            "kind": "PortForward",
            "metadata": {"name": worker.pod_name, "namespace": worker.ns, "ownerReferences": self._owner(worker)},
            "spec": {"forwards": [{"ports": [p], "target": {"port": p, "address": worker.ip}} for p in ports]},
        }
        try:
            self.client.apply("/apis/kwok.x-k8s.io/v1alpha1/namespaces/%s/portforwards/%s" % (worker.ns, worker.pod_name), body)
        except kube.ApiError as exc:
            self.log("portforward object for %s/%s: %s" % (worker.ns, worker.pod_name, exc))

    def update_logs_object(self, worker: PodWorker, container, log_path: str) -> None:
        """kwok's Logs object: each container's current and previous log file."""
        logs = []
        for c in worker.init + worker.main:
            base = os.path.join(worker.dir, "logs", c.name)
            current = os.path.join(base, "%d.log" % c.restarts)
            entry = {"containers": [c.name], "logsFile": current, "follow": True}
            if c.restarts:
                entry["previousLogsFile"] = os.path.join(base, "%d.log" % (c.restarts - 1))
            logs.append(entry)
        body = {
            "apiVersion": "kwok.x-k8s.io/v1alpha1",
            "kind": "Logs",
            "metadata": {"name": worker.pod_name, "namespace": worker.ns, "ownerReferences": self._owner(worker)},
            "spec": {"logs": logs},
        }
        try:
            self.client.apply("/apis/kwok.x-k8s.io/v1alpha1/namespaces/%s/logs/%s" % (worker.ns, worker.pod_name), body)
        except kube.ApiError as exc:
            self.log("logs object for %s/%s: %s" % (worker.ns, worker.pod_name, exc))

    # ------------------------------------------------------------------ services and DNS
    def service_backend(self, key: str, port: int, turn: int) -> tuple[str, int] | None:
        ns, name = key.split("/", 1)
        if key == "default/kubernetes":
            return "127.0.0.1", self.apiserver_port
        svc = self.cache.get("services", ns, name)
        if not svc:
            return None
        sp = next((p for p in svc["spec"].get("ports", []) if int(p["port"]) == port), None)
        if sp is None:
            return None
        backends = []
        for pod in self.ready_pods(ns, svc["spec"].get("selector") or {}):
            target = self._target_port(pod, sp.get("targetPort", sp["port"]))
            if target:
                backends.append((pod["status"]["podIP"], target))
        if not backends:
            return None
        return backends[turn % len(backends)]

    def ready_pods(self, ns: str, selector: dict) -> list[dict]:
        out = []
        for pod in self.cache.list("pods", ns):
            st = pod.get("status") or {}
            if not _selects(selector, pod["metadata"].get("labels") or {}) or pod["metadata"].get("deletionTimestamp"):
                continue
            if st.get("podIP") and any(c["type"] == "Ready" and c["status"] == "True" for c in st.get("conditions", [])):
                out.append(pod)
        return sorted(out, key=lambda p: p["metadata"]["name"])

    @staticmethod
    def _target_port(pod: dict, target) -> int | None:
        if isinstance(target, int) or str(target).isdigit():
            return int(target)
        for c in pod["spec"].get("containers", []):
            for p in c.get("ports", []):
                if p.get("name") == target:
                    return int(p["containerPort"])
        return None

    def resolve(self, name: str) -> list[str] | None:
        parts = name.rstrip(".").split(".")
        if parts[-2:] != ["cluster", "local"]:
            return None
        parts = parts[:-2]
        if len(parts) == 3 and parts[2] == "pod":
            return [parts[0].replace("-", ".")] if parts[0].startswith("127-") else None
        if len(parts) in (3, 4) and parts[-1] == "svc":
            if len(parts) == 4:  # <hostname>.<subdomain>.<ns>.svc
                host, sub, ns = parts[0], parts[1], parts[2]
                for pod in self.cache.list("pods", ns):
                    spec = pod["spec"]
                    if (
                        spec.get("subdomain") == sub
                        and (spec.get("hostname") or pod["metadata"]["name"]) == host
                        and (pod.get("status") or {}).get("podIP")
                    ):
                        return [pod["status"]["podIP"]]
                return None
            svc_name, ns = parts[0], parts[1]
            svc = self.cache.get("services", ns, svc_name)
            if svc is None:
                return None
            ip = svc["spec"].get("clusterIP")
            if svc["spec"].get("type") == "ExternalName":
                return ["127.0.0.1"] if svc["spec"].get("externalName") in ("localhost", "127.0.0.1") else None
            if ip and ip != "None":
                return [ip]
            return [p["status"]["podIP"] for p in self.ready_pods(ns, svc["spec"].get("selector") or {})]
        return None

    # ------------------------------------------------------------------ aggregated APIs
    def sync_endpointslices(self) -> None:
        """The endpointslice controller's job, for every Service with a selector. EndpointSlices
        cannot hold loopback addresses, yet components read them to learn whether a Service has
        ready backends (the aggregator's APIService availability check, External Secrets' cert
        controller before it reports ready). So each Ready pod the Service selects is written
        with a TEST-NET-1 documentation placeholder address (RFC 5737, 192.0.2.x) and a
        targetRef naming the pod. The count and readiness are true; the address is never
        dialed: traffic goes to the ClusterIP, which this runtime serves, and a connect to such
        an address from a backed pod is refused and recorded (bindfix)."""
        for svc in self.cache.list("services"):
            if not (svc.get("spec") or {}).get("selector") or svc["spec"].get("type") == "ExternalName":
                continue
            ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
            pods = self.ready_pods(ns, svc["spec"].get("selector") or {})
            ports = []
            for p in svc["spec"].get("ports", []):
                target = self._target_port(pods[0], p.get("targetPort", p["port"])) if pods else None
                ports.append({"name": p.get("name", ""), "port": target or int(p["port"]), "protocol": p.get("protocol", "TCP")})
            endpoints = [
                {
                    "addresses": ["192.0.2.%d" % (i + 1)],
                    "conditions": {"ready": True},
                    "targetRef": {"kind": "Pod", "namespace": ns, "name": pod["metadata"]["name"], "uid": pod["metadata"]["uid"]},
                }
                for i, pod in enumerate(pods[:250])
            ]
            body = {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {
                    "name": name + "-lab-runtime",
                    "namespace": ns,
                    "labels": {"kubernetes.io/service-name": name, "endpointslice.kubernetes.io/managed-by": "lab-runtime.llm-platform.io"},
                    "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": name, "uid": svc["metadata"]["uid"]}],
                },
                "addressType": "IPv4",
                "endpoints": endpoints,
                "ports": ports,
            }
            key = repr(body)
            if self._endpoints_sent.get((ns, name)) == key:
                continue
            try:
                self.client.apply("/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices/%s-lab-runtime" % (ns, name), body)
                self._endpoints_sent[(ns, name)] = key
            except kube.ApiError as exc:
                self.log("endpointslice for APIService service %s/%s: %s" % (ns, name, exc))

    # ------------------------------------------------------------------ provisioner
    def provision(self) -> None:
        """Bind every pending claim of the lab-local class to a new hostPath volume; delete
        released volumes of ours (reclaim policy Delete)."""
        for pvc in self.cache.list("persistentvolumeclaims"):
            spec = pvc.get("spec", {})
            if spec.get("volumeName") or spec.get("storageClassName") != STORAGE_CLASS or pvc["metadata"].get("deletionTimestamp"):
                continue
            name = "pvc-" + pvc["metadata"]["uid"]
            path = os.path.join(self.state_dir, "volumes", name)
            os.makedirs(path, exist_ok=True)
            os.chmod(path, 0o777)  # noqa: S103 - a fresh volume is writable by the pod's user, like a new disk
            pv = {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": name, "annotations": {"pv.kubernetes.io/provisioned-by": PROVISIONER}},
                "spec": {
                    "capacity": {"storage": spec.get("resources", {}).get("requests", {}).get("storage", "1Gi")},
                    "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                    "persistentVolumeReclaimPolicy": "Delete",
                    "storageClassName": STORAGE_CLASS,
                    "hostPath": {"path": path, "type": "DirectoryOrCreate"},
                    "claimRef": {"namespace": pvc["metadata"]["namespace"], "name": pvc["metadata"]["name"], "uid": pvc["metadata"]["uid"]},
                },
            }
            try:
                self.client.request("POST", "/api/v1/persistentvolumes", pv, ok=(201, 409))
            except kube.ApiError as exc:
                self.log("provisioning %s: %s" % (name, exc))
        for pv in self.cache.list("persistentvolumes"):
            ours = (pv["metadata"].get("annotations") or {}).get("pv.kubernetes.io/provisioned-by") == PROVISIONER
            if ours and pv.get("status", {}).get("phase") == "Released":
                self.client.delete("/api/v1/persistentvolumes/" + pv["metadata"]["name"])
                path = (pv["spec"].get("hostPath") or {}).get("path", "")
                if path.startswith(os.path.join(self.state_dir, "volumes")):
                    subprocess.run(["rm", "-rf", "--one-file-system", path], check=False)

    # ------------------------------------------------------------------ main loop
    def on_event(self, kind: str):
        def handler(event: str, obj) -> None:
            self.cache.apply(kind, event, obj)
            if kind == "services":
                items = obj if event == "SYNC" else [obj]
                if event == "SYNC":
                    keys = {"%s/%s" % (s["metadata"]["namespace"], s["metadata"]["name"]) for s in items}
                    for stale in set(self.net.service_keys) - keys:
                        self.net.sync_service(None, stale)
                for svc in items:
                    key = "%s/%s" % (svc["metadata"]["namespace"], svc["metadata"]["name"])
                    self.net.sync_service(None if event == "DELETED" else svc, key)
            elif kind == "pods":
                for pod in obj if event == "SYNC" else [obj]:
                    self.consider(pod)

        return handler

    def consider(self, pod: dict) -> None:
        uid = pod["metadata"]["uid"]
        with self.workers_lock:
            worker = self.workers.get(uid)
        if worker:
            worker.wake.set()
            return
        if not pod["spec"].get("nodeName") or (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            return
        backed, why = self.images.classify(pod)
        key = "%s/%s" % (pod["metadata"]["namespace"], pod["metadata"]["name"])
        if not backed:
            self.simulated[key] = why
            return
        if pod["metadata"].get("deletionTimestamp"):
            self.client.delete("/api/v1/namespaces/%s/pods/%s" % tuple(key.split("/")), {"gracePeriodSeconds": 0})
            return
        ip = (pod.get("status") or {}).get("podIP", "")
        owned = any(o.get("controller") for o in pod["metadata"].get("ownerReferences", []))
        if ip and not ip.startswith("127.128.") and owned:
            # kwok simulated it before the image map backed its images: its controller makes a
            # new one, which this runtime runs (a pod's address cannot change).
            self.log("pod %s was simulated but its images are backed now: deleting it for its controller to recreate" % key)
            self.client.delete("/api/v1/namespaces/%s/pods/%s" % tuple(key.split("/")), {"gracePeriodSeconds": 0})
            return
        worker = PodWorker(self, pod)
        with self.workers_lock:
            self.workers[uid] = worker
        worker.start()

    def worker_done(self, worker: PodWorker) -> None:
        with self.workers_lock:
            self.workers.pop(worker.uid, None)

    def write_state(self) -> None:
        with self.workers_lock:
            backed = [w.summary() for w in self.workers.values()]
        state = {
            "time": time.time(),
            "pid": os.getpid(),
            "backed": sorted(backed, key=lambda s: (s["namespace"], s["name"])),
            "simulated": self.simulated,
            # Every connect to a non-loopback address a pod tried (refused with ENETUNREACH).
            "violations": list(self.violations),
        }
        tmp = os.path.join(self.state_dir, "state.json.tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(state, handle, indent=1)
        os.replace(tmp, os.path.join(self.state_dir, "state.json"))

    def run(self) -> None:
        os.makedirs(self.tmpfs, exist_ok=True)
        if not os.path.ismount(self.tmpfs):
            subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0700,size=256m", "tmpfs", self.tmpfs], check=True)
        self.net.start()
        watches = [
            ("nodes", "/api/v1/nodes"),
            ("services", "/api/v1/services"),
            ("configmaps", "/api/v1/configmaps"),
            ("secrets", "/api/v1/secrets"),
            ("persistentvolumeclaims", "/api/v1/persistentvolumeclaims"),
            ("persistentvolumes", "/api/v1/persistentvolumes"),
        ]
        for kind, path in watches:
            threading.Thread(
                target=self.client.watch, args=(path, self.stop, self.on_event(kind)), name="watch-" + kind, daemon=True
            ).start()
        deadline = time.time() + 60
        while time.time() < deadline and len(self.cache.synced) < len(watches):
            time.sleep(0.1)
        self._storage_class()
        threading.Thread(
            target=self.client.watch,
            args=("/api/v1/pods", self.stop, self.on_event("pods")),
            kwargs={"query": "fieldSelector=spec.nodeName%21%3D"},
            name="watch-pods",
            daemon=True,
        ).start()
        self.log("running: pod addresses %s, services on their ClusterIPs, DNS on %s" % (network.POD_CIDR, self.dns_ip))
        while not self.stop.wait(2):
            self.provision()
            self.sync_endpointslices()
            self.write_state()

    def _storage_class(self) -> None:
        sc = {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": STORAGE_CLASS, "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": PROVISIONER,
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "Immediate",
        }
        self.client.apply("/apis/storage.k8s.io/v1/storageclasses/" + STORAGE_CLASS, sc)

    def shutdown(self) -> None:
        self.stop.set()
        with self.workers_lock:
            workers = list(self.workers.values())
        for w in workers:
            w._teardown(grace=5)
        subprocess.run(["umount", "-l", self.tmpfs], check=False)
