"""The lab gateway controller (GatewayClass controllerName lab.llm-platform.io/gateway).

Runs as a pod (gitops/charts/lab-gateway) with its ServiceAccount's RBAC. For every Gateway of
a class it owns it renders Envoy's configuration (render.py) and provisions, in the Gateway's
namespace, what Envoy Gateway or agentgateway provision: a ConfigMap with the configuration, an
Envoy Deployment that rolls when the configuration changes, and a Service named like the
Gateway with its listener ports. It writes the statuses a Gateway API implementation writes:
GatewayClass Accepted; Gateway Accepted/Programmed (Programmed once the Envoy Deployment is
available) with its address; each attached HTTPRoute's parent Accepted/ResolvedRefs; each
referenced InferencePool's parent Accepted/ResolvedRefs. Reconciles every 2 s.

    python3 -m gateway.controller        (with lab/ on PYTHONPATH; in-cluster credentials)
"""

from __future__ import annotations

import datetime
import json
import os
import sys
import time

from runtime import kube

from . import render

CONTROLLER = "lab.llm-platform.io/gateway"
ENVOY_IMAGE = os.environ.get("LAB_GATEWAY_ENVOY_IMAGE", "docker.io/envoyproxy/envoy:v1.40.0")
MANAGER = "lab-gateway-controller"


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def log(msg: str) -> None:
    print(json.dumps({"ts": now(), "msg": msg}), flush=True)


def _cond(kind: str, ok: bool, reason: str, message: str, generation: int, old: list[dict]) -> dict:
    status = "True" if ok else "False"
    prev = next((c for c in old if c.get("type") == kind), {})
    when = prev.get("lastTransitionTime") if prev.get("status") == status else now()
    return {
        "type": kind,
        "status": status,
        "reason": reason,
        "message": message,
        "observedGeneration": generation,
        "lastTransitionTime": when or now(),
    }


class Controller:
    def __init__(self, client: kube.Client):
        self.c = client
        self.sent: dict[str, str] = {}

    def list(self, path: str) -> list[dict]:
        got = self.c.maybe_get(path)
        return (got or {}).get("items", [])

    def apply_once(self, path: str, obj: dict) -> None:
        key = json.dumps(obj, sort_keys=True)
        if self.sent.get(path) == key:
            return
        self.c.apply(path, obj, manager=MANAGER)
        self.sent[path] = key

    def status_once(self, path: str, body: dict) -> None:
        key = json.dumps(body, sort_keys=True)
        if self.sent.get(path) == key:
            return
        self.c.patch(path, body, kind="merge")
        self.sent[path] = key

    def reconcile(self) -> None:
        classes = [
            gc for gc in self.list("/apis/gateway.networking.k8s.io/v1/gatewayclasses") if gc["spec"].get("controllerName") == CONTROLLER
        ]
        for gc in classes:
            conds = [
                _cond(
                    "Accepted",
                    True,
                    "Accepted",
                    "handled by the lab gateway (Envoy)",
                    gc["metadata"].get("generation", 1),
                    (gc.get("status") or {}).get("conditions", []),
                )
            ]
            self.status_once(
                "/apis/gateway.networking.k8s.io/v1/gatewayclasses/%s/status" % gc["metadata"]["name"], {"status": {"conditions": conds}}
            )
        names = {gc["metadata"]["name"] for gc in classes}
        gateways = [g for g in self.list("/apis/gateway.networking.k8s.io/v1/gateways") if g["spec"].get("gatewayClassName") in names]
        if not gateways:
            return
        routes = self.list("/apis/gateway.networking.k8s.io/v1/httproutes")
        pools = self.list("/apis/inference.networking.k8s.io/v1/inferencepools")
        services = self.list("/api/v1/services")
        route_parents: dict[tuple[str, str], list[dict]] = {}
        pool_parents: dict[tuple[str, str], list[dict]] = {}
        for gw in gateways:
            cfg, r = render.render(gw, routes, pools, services)
            ready = self.provision(gw, cfg)
            self.gateway_status(gw, r, ready)
            for key, st in r.route_status.items():
                route_parents.setdefault(key, []).append((gw, st))
            for key in r.pool_status:
                pool_parents.setdefault(key, []).append(gw)
        for (ns, name), parents in route_parents.items():
            route = next(x for x in routes if x["metadata"]["namespace"] == ns and x["metadata"]["name"] == name)
            gen = route["metadata"].get("generation", 1)
            old = {
                (p["parentRef"].get("namespace"), p["parentRef"]["name"]): p.get("conditions", [])
                for p in (route.get("status") or {}).get("parents", [])
            }
            entries = []
            for gw, st in parents:
                ref = {
                    "group": "gateway.networking.k8s.io",
                    "kind": "Gateway",
                    "name": gw["metadata"]["name"],
                    "namespace": gw["metadata"]["namespace"],
                }
                prev = old.get((ref["namespace"], ref["name"]), [])
                reason = st["message"].split(":", 1)[0] if st["message"] else "Accepted"
                entries.append(
                    {
                        "parentRef": ref,
                        "controllerName": CONTROLLER,
                        "conditions": [
                            _cond(
                                "Accepted", st["accepted"], "Accepted" if st["accepted"] else reason, st["message"] or "attached", gen, prev
                            ),
                            _cond(
                                "ResolvedRefs",
                                st["accepted"],
                                "ResolvedRefs" if st["accepted"] else reason,
                                st["message"] or "all backends resolved",
                                gen,
                                prev,
                            ),
                        ],
                    }
                )
            self.status_once(
                "/apis/gateway.networking.k8s.io/v1/namespaces/%s/httproutes/%s/status" % (ns, name), {"status": {"parents": entries}}
            )
        for (ns, name), gws in pool_parents.items():
            pool = next((p for p in pools if p["metadata"]["namespace"] == ns and p["metadata"]["name"] == name), None)
            if pool is None:
                continue
            gen = pool["metadata"].get("generation", 1)
            entries = []
            for gw in gws:
                ref = {
                    "group": "gateway.networking.k8s.io",
                    "kind": "Gateway",
                    "name": gw["metadata"]["name"],
                    "namespace": gw["metadata"]["namespace"],
                }
                entries.append(
                    {
                        "parentRef": ref,
                        "conditions": [
                            _cond("Accepted", True, "Accepted", "routed by the lab gateway", gen, []),
                            _cond("ResolvedRefs", True, "ResolvedRefs", "endpoint picker resolved", gen, []),
                        ],
                    }
                )
            self.status_once(
                "/apis/inference.networking.k8s.io/v1/namespaces/%s/inferencepools/%s/status" % (ns, name), {"status": {"parents": entries}}
            )

    def provision(self, gw: dict, cfg: dict) -> bool:
        ns, name = gw["metadata"]["namespace"], gw["metadata"]["name"]
        owner = [
            {
                "apiVersion": "gateway.networking.k8s.io/v1",
                "kind": "Gateway",
                "name": name,
                "uid": gw["metadata"]["uid"],
                "controller": True,
            }
        ]
        labels = {"gateway.networking.k8s.io/gateway-name": name, "app.kubernetes.io/managed-by": MANAGER}
        text = json.dumps(cfg, indent=1, sort_keys=True)
        self.apply_once(
            "/api/v1/namespaces/%s/configmaps/%s-envoy" % (ns, name),
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": name + "-envoy", "namespace": ns, "labels": labels, "ownerReferences": owner},
                "data": {"envoy.json": text},
            },
        )
        ports = [int(lis["port"]) for lis in gw["spec"].get("listeners", []) if lis.get("protocol") == "HTTP"]
        self.apply_once(
            "/apis/apps/v1/namespaces/%s/deployments/%s-envoy" % (ns, name),
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": name + "-envoy", "namespace": ns, "labels": labels, "ownerReferences": owner},
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels, "annotations": {"lab.llm-platform.io/config-digest": render.digest(cfg)}},
                        "spec": {
                            "automountServiceAccountToken": False,
                            "enableServiceLinks": False,
                            "securityContext": {"runAsNonRoot": True, "runAsUser": 101, "runAsGroup": 101},
                            "containers": [
                                {
                                    "name": "envoy",
                                    "image": ENVOY_IMAGE,
                                    "command": ["envoy"],
                                    "args": [
                                        "-c",
                                        "/etc/envoy/envoy.json",
                                        "--log-level",
                                        "warn",
                                        "--concurrency",
                                        "2",
                                        "--drain-time-s",
                                        "5",
                                        "--disable-hot-restart",
                                    ],
                                    "ports": [{"name": "http-%d" % p, "containerPort": p} for p in ports]
                                    + [
                                        {"name": "ready", "containerPort": render.READY_PORT},
                                        {"name": "admin", "containerPort": render.ADMIN_PORT},
                                    ],
                                    "readinessProbe": {"httpGet": {"path": "/ready", "port": render.READY_PORT}, "periodSeconds": 2},
                                    "volumeMounts": [{"name": "config", "mountPath": "/etc/envoy", "readOnly": True}],
                                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
                                }
                            ],
                            "volumes": [{"name": "config", "configMap": {"name": name + "-envoy"}}],
                        },
                    },
                },
            },
        )
        self.apply_once(
            "/api/v1/namespaces/%s/services/%s" % (ns, name),
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": name, "namespace": ns, "labels": labels, "ownerReferences": owner},
                "spec": {"selector": labels, "ports": [{"name": "http-%d" % p, "port": p, "targetPort": p} for p in ports]},
            },
        )
        dep = self.c.maybe_get("/apis/apps/v1/namespaces/%s/deployments/%s-envoy" % (ns, name)) or {}
        st = dep.get("status") or {}
        return (
            st.get("observedGeneration", 0) >= dep.get("metadata", {}).get("generation", 1)
            and st.get("availableReplicas", 0) >= 1
            and st.get("updatedReplicas", 0) >= 1
        )

    def gateway_status(self, gw: dict, r: render.Render, ready: bool) -> None:
        ns, name = gw["metadata"]["namespace"], gw["metadata"]["name"]
        gen = gw["metadata"].get("generation", 1)
        old = (gw.get("status") or {}).get("conditions", [])
        svc = self.c.maybe_get("/api/v1/namespaces/%s/services/%s" % (ns, name)) or {}
        ip = (svc.get("spec") or {}).get("clusterIP")
        listeners = []
        for ls in r.listener_status:
            lold = next((x.get("conditions", []) for x in (gw.get("status") or {}).get("listeners", []) if x.get("name") == ls["name"]), [])
            listeners.append(
                {
                    "name": ls["name"],
                    "attachedRoutes": ls.get("attached", 0),
                    "supportedKinds": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"}],
                    "conditions": [
                        _cond(
                            "Accepted",
                            ls["ok"],
                            "Accepted" if ls["ok"] else ls["reason"],
                            "HTTP listener" if ls["ok"] else "only HTTP listeners are translated",
                            gen,
                            lold,
                        ),
                        _cond(
                            "Programmed",
                            ls["ok"] and ready,
                            "Programmed" if ls["ok"] and ready else "Pending",
                            "Envoy serves it" if ready else "waiting for the Envoy Deployment",
                            gen,
                            lold,
                        ),
                        _cond("ResolvedRefs", True, "ResolvedRefs", "", gen, lold),
                    ],
                }
            )
        status = {
            "conditions": [
                _cond("Accepted", True, "Accepted", "handled by the lab gateway", gen, old),
                _cond(
                    "Programmed",
                    ready,
                    "Programmed" if ready else "Pending",
                    "Envoy %s-envoy is available" % name if ready else "waiting for Envoy %s-envoy" % name,
                    gen,
                    old,
                ),
            ],
            "listeners": listeners,
        }
        if ip and ready:
            status["addresses"] = [{"type": "IPAddress", "value": ip}]
        self.status_once("/apis/gateway.networking.k8s.io/v1/namespaces/%s/gateways/%s/status" % (ns, name), {"status": status})


def main() -> int:
    client = kube.Client.in_cluster()
    ctl = Controller(client)
    log("lab gateway controller %s started" % CONTROLLER)
    while True:
        try:
            ctl.reconcile()
        except (kube.ApiError, OSError, KeyError, ValueError) as exc:
            log("reconcile failed (retrying): %r" % exc)
            ctl.sent.clear()
        time.sleep(2)


if __name__ == "__main__":
    sys.exit(main())
