"""Gateway API objects -> one Envoy configuration: the living lab's gateway implementation.

No Gateway API implementation that supports InferencePool builds from the module proxy, so the
lab renders Envoy's configuration from the objects Argo CD applied. What it translates:

- Gateway: each HTTP listener becomes an Envoy listener on its port (other protocols are
  refused in the listener's status: UnsupportedProtocol). Requests no route matches get 404.
- Request processors: the Gateway annotation gateway.lab.llm-platform.io/request-processors
  ("<service>:<port>[,...]" in the Gateway's namespace) puts each as an ext_proc filter before
  routing, the request full-duplex streamed and no response events, with the route cache
  cleared after it (the body-based router sets the model header there). This is the lab's
  stand-in for GKE's GCPRoutingExtension, with the events that one declares.
- HTTPRoute attached to a listener (parentRefs, same or sectionName): each rule's matches
  (path PathPrefix/Exact, headers Exact, method) become Envoy routes in the rules' order;
  timeouts.request becomes the route timeout; other filters are refused (Accepted=False,
  UnsupportedValue).
- backendRefs: a core Service (its ClusterIP:port, resolved through cluster DNS) or an
  InferencePool (inference.networking.k8s.io/v1): its endpointPickerRef Service becomes the
  route's ext_proc (full-duplex streamed, as in GIE's standalone chart: the picker answers with
  x-gateway-destination-endpoint) in front of an ORIGINAL_DST cluster that sends the request to
  the chosen pod. Several backendRefs become weighted clusters (their weights); a pool's
  failureMode FailOpen lets the request through without a pick.
- Not translated: TLS listeners, hostnames (every route matches any host), query-param matches,
  request mirroring, redirects, URL rewrites, GRPCRoute.

render() is pure (objects in, config out) and unit-tested; controller.py feeds it.
"""

from __future__ import annotations

import hashlib
import json

ANNOTATION_PROCESSORS = "gateway.lab.llm-platform.io/request-processors"
DEST_HEADER = "x-gateway-destination-endpoint"
READY_PORT = 19001
ADMIN_PORT = 19000
POOL_GROUP = "inference.networking.k8s.io"
ACCESS_LOG = (
    '{"start":"%START_TIME%","method":"%REQ(:METHOD)%","path":"%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",'
    '"code":"%RESPONSE_CODE%","flags":"%RESPONSE_FLAGS%","model":"%REQ(X-GATEWAY-MODEL-NAME)%",'
    '"route":"%ROUTE_NAME%","cluster":"%UPSTREAM_CLUSTER%","upstream":"%UPSTREAM_HOST%",'
    '"picked":"%REQ(X-GATEWAY-DESTINATION-ENDPOINT)%","duration_ms":"%DURATION%",'
    '"ttfb_ms":"%RESPONSE_DURATION%","bytes_out":"%BYTES_SENT%"}\n'
)


def _typed(kind: str, **fields) -> dict:
    return {"@type": "type.googleapis.com/" + kind, **fields}


def _dns_cluster(name: str, host: str, port: int, http2: bool = False, tls: bool = False) -> dict:
    cluster = {
        "name": name,
        "type": "STRICT_DNS",
        "connect_timeout": "5s",
        "dns_lookup_family": "V4_ONLY",
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {"socket_address": {"address": host, "port_value": port}}}}]}],
        },
    }
    if http2:
        cluster["typed_extension_protocol_options"] = {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": _typed(
                "envoy.extensions.upstreams.http.v3.HttpProtocolOptions", explicit_http_config={"http2_protocol_options": {}}
            )
        }
    if tls:
        cluster["transport_socket"] = {
            "name": "envoy.transport_sockets.tls",
            "typed_config": _typed("envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext", common_tls_context={}),
        }
    return cluster


# The events a processor sees. A request processor gets the request only, as GKE's
# GCPRoutingExtension for it says (supportedEvents: RequestHeaders, RequestBody, RequestTrailers):
# the body-based router of GIE v1.5 gathers a streamed response body until its end before it
# answers, so sending it the response held every SSE answer back until the last token (TTFT =
# E2E through the gateway). The picker streams each response chunk back as it comes.
REQUEST_EVENTS = {"request_header_mode": "SEND", "request_body_mode": "FULL_DUPLEX_STREAMED", "request_trailer_mode": "SEND"}
RESPONSE_EVENTS = {"response_header_mode": "SEND", "response_body_mode": "FULL_DUPLEX_STREAMED", "response_trailer_mode": "SEND"}
NO_RESPONSE_EVENTS = {"response_header_mode": "SKIP", "response_body_mode": "NONE", "response_trailer_mode": "SKIP"}


def _ext_proc(cluster: str, fail_open: bool, request_only: bool = False) -> dict:
    extra = {"route_cache_action": "CLEAR"} if request_only else {}
    return _typed(
        "envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor",
        grpc_service={"envoy_grpc": {"cluster_name": cluster}, "timeout": "10s"},
        failure_mode_allow=fail_open,
        allow_mode_override=True,
        processing_mode={**REQUEST_EVENTS, **(NO_RESPONSE_EVENTS if request_only else RESPONSE_EVENTS)},
        message_timeout="1000s",
        **extra,
    )


def _picker_on(cluster: str | None, fail_open: bool) -> dict:
    return _typed(
        "envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute",
        overrides={
            "grpc_service": {"envoy_grpc": {"cluster_name": cluster or "epp-placeholder"}, "timeout": "10s"},
            "failure_mode_allow": fail_open,
        },
    )


# Routes without a pool skip the picker. The picker filter's per-route config is read when it
# starts on a request, after the request processors (the body-based router) re-selected the
# route, whereas a filter disabled in the chain is only switched on by the route matched at the
# stream's start, before the model header exists.
PICKER_OFF = {"envoy.filters.http.ext_proc.epp": _typed("envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute", disabled=True)}


def _svc_host(name: str, namespace: str) -> str:
    return "%s.%s.svc.cluster.local" % (name, namespace)


def _attached(route: dict, gw: dict, listener: dict) -> bool:
    gw_ns = gw["metadata"]["namespace"]
    for ref in route["spec"].get("parentRefs", []):
        if ref.get("kind", "Gateway") != "Gateway" or ref.get("group", "gateway.networking.k8s.io") != "gateway.networking.k8s.io":
            continue
        if ref["name"] != gw["metadata"]["name"] or ref.get("namespace", route["metadata"]["namespace"]) != gw_ns:
            continue
        if ref.get("sectionName") and ref["sectionName"] != listener["name"]:
            continue
        if ref.get("port") and int(ref["port"]) != int(listener["port"]):
            continue
        return True
    return False


def _allowed(route: dict, gw: dict, listener: dict) -> bool:
    frm = ((listener.get("allowedRoutes") or {}).get("namespaces") or {}).get("from", "Same")
    return frm == "All" or (frm == "Same" and route["metadata"]["namespace"] == gw["metadata"]["namespace"])


class Render:
    def __init__(self, gateway: dict, routes: list[dict], pools: list[dict], services: list[dict]):
        self.gw = gateway
        self.routes = sorted(
            routes, key=lambda r: (r["metadata"].get("creationTimestamp", ""), r["metadata"]["namespace"], r["metadata"]["name"])
        )
        self.pools = {(p["metadata"]["namespace"], p["metadata"]["name"]): p for p in pools}
        self.services = {(s["metadata"]["namespace"], s["metadata"]["name"]): s for s in services}
        self.clusters: dict[str, dict] = {}
        self.route_status: dict[tuple[str, str], dict] = {}
        self.pool_status: dict[tuple[str, str], bool] = {}
        self.listener_status: list[dict] = []

    # ------------------------------------------------------------------ backends
    def _pool_backend(self, ns: str, name: str) -> tuple[str, str, bool] | str:
        pool = self.pools.get((ns, name))
        if pool is None:
            return "InferencePool %s/%s not found" % (ns, name)
        ref = pool["spec"].get("endpointPickerRef") or {}
        port = int(((ref.get("port") or {}).get("number")) or 9002)
        picker = "epp-%s-%s" % (ns, name)
        # The picker serves TLS with a self-signed certificate (GIE's default --secure-serving).
        self.clusters[picker] = _dns_cluster(picker, _svc_host(ref["name"], ns), port, http2=True, tls=True)
        dest = "pool-%s-%s" % (ns, name)
        self.clusters[dest] = {
            "name": dest,
            "type": "ORIGINAL_DST",
            "connect_timeout": "10s",
            "lb_policy": "CLUSTER_PROVIDED",
            "original_dst_lb_config": {"use_http_header": True, "http_header_name": DEST_HEADER},
            "circuit_breakers": {"thresholds": [{"max_connections": 40000, "max_pending_requests": 40000, "max_requests": 40000}]},
        }
        self.pool_status[(ns, name)] = True
        return dest, picker, ref.get("failureMode") == "FailOpen"

    def _service_backend(self, ns: str, name: str, port: int | None) -> str | tuple[str, None, bool]:
        svc = self.services.get((ns, name))
        if svc is None:
            return "Service %s/%s not found" % (ns, name)
        ports = [p for p in svc["spec"].get("ports", []) if port is None or int(p["port"]) == int(port)]
        if not ports:
            return "Service %s/%s has no port %s" % (ns, name, port)
        cname = "svc-%s-%s-%d" % (ns, name, int(ports[0]["port"]))
        self.clusters[cname] = _dns_cluster(cname, _svc_host(name, ns), int(ports[0]["port"]))
        return cname, None, False

    # ------------------------------------------------------------------ routes
    def _envoy_routes(self, route: dict) -> tuple[list[dict], str]:
        ns, name = route["metadata"]["namespace"], route["metadata"]["name"]
        out = []
        for i, rule in enumerate(route["spec"].get("rules", [])):
            if rule.get("filters"):
                return [], "UnsupportedValue: HTTPRoute filters are not translated by the lab gateway"
            backends = []
            for ref in rule.get("backendRefs", []):
                bns = ref.get("namespace", ns)
                if ref.get("group") == POOL_GROUP and ref.get("kind") == "InferencePool":
                    got = self._pool_backend(bns, ref["name"])
                elif ref.get("group", "") == "" and ref.get("kind", "Service") == "Service":
                    got = self._service_backend(bns, ref["name"], ref.get("port"))
                else:
                    return [], "InvalidKind: backend %s/%s is not a Service or an InferencePool" % (ref.get("group"), ref.get("kind"))
                if isinstance(got, str):
                    return [], "BackendNotFound: " + got
                backends.append((got, int(ref.get("weight", 1))))
            if not backends:
                continue
            action: dict = {"timeout": (rule.get("timeouts") or {}).get("request", "300s"), "idle_timeout": "3600s"}
            if len(backends) == 1:
                action["cluster"] = backends[0][0][0]
            else:
                action["weighted_clusters"] = {"clusters": [{"name": b[0], "weight": w} for b, w in backends if w > 0]}
            pickers = {b[1] for b, _unused in backends if b[1]}
            per_filter = {}
            if pickers:
                # The picker filter is off by default (a request no route matches gets its 404
                # without a pick) and switched on here. With weighted pools the pool is chosen
                # with the route, so each weighted cluster carries its own pool's picker.
                if len(backends) == 1:
                    per_filter = {"envoy.filters.http.ext_proc.epp": _picker_on(backends[0][0][1], backends[0][0][2])}
                else:
                    for wc, (b, _unused) in zip(action["weighted_clusters"]["clusters"], [x for x in backends if x[1] > 0], strict=True):
                        wc["typed_per_filter_config"] = {"envoy.filters.http.ext_proc.epp": _picker_on(b[1], b[2])}
            for j, match in enumerate(rule.get("matches") or [{"path": {"type": "PathPrefix", "value": "/"}}]):
                env_match: dict = {}
                path = match.get("path") or {"type": "PathPrefix", "value": "/"}
                if path.get("type", "PathPrefix") == "Exact":
                    env_match["path"] = path["value"]
                else:
                    env_match["prefix"] = path.get("value", "/")
                headers = [{"name": h["name"].lower(), "string_match": {"exact": h["value"]}} for h in match.get("headers", [])]
                if match.get("method"):
                    headers.append({"name": ":method", "string_match": {"exact": match["method"]}})
                if headers:
                    env_match["headers"] = headers
                entry = {"name": "%s/%s/rule-%d/match-%d" % (ns, name, i, j), "match": env_match, "route": dict(action)}
                entry["typed_per_filter_config"] = per_filter or PICKER_OFF
                out.append(entry)
        return out, ""

    # ------------------------------------------------------------------ the configuration
    def config(self) -> dict:
        gw = self.gw
        processors = [p.strip() for p in (gw["metadata"].get("annotations") or {}).get(ANNOTATION_PROCESSORS, "").split(",") if p.strip()]
        listeners = []
        for listener in gw["spec"].get("listeners", []):
            if listener.get("protocol") != "HTTP":
                self.listener_status.append({"name": listener["name"], "ok": False, "reason": "UnsupportedProtocol"})
                continue
            routes, attached = [], 0
            for route in self.routes:
                if not (_attached(route, gw, listener) and _allowed(route, gw, listener)):
                    continue
                key = (route["metadata"]["namespace"], route["metadata"]["name"])
                envoy_routes, problem = self._envoy_routes(route)
                self.route_status[key] = {"accepted": not problem, "message": problem}
                if not problem:
                    routes += envoy_routes
                    attached += 1
            http_filters = []
            for k, proc in enumerate(processors):
                svc, _unused, port = proc.partition(":")
                cname = "processor-%s" % svc
                # GIE's processors serve TLS with a self-signed certificate (--secure-serving).
                self.clusters[cname] = _dns_cluster(
                    cname, _svc_host(svc, gw["metadata"]["namespace"]), int(port or 9004), http2=True, tls=True
                )
                http_filters.append(
                    {
                        "name": "envoy.filters.http.ext_proc.processor-%d" % k,
                        "typed_config": _ext_proc(cname, False, request_only=True),
                    }
                )
            http_filters.append({"name": "envoy.filters.http.ext_proc.epp", "typed_config": _ext_proc("epp-placeholder", fail_open=False)})
            # What no HTTPRoute matches: 404, without a pick.
            routes.append(
                {
                    "name": "no-route",
                    "match": {"prefix": "/"},
                    "direct_response": {"status": 404, "body": {"inline_string": "no route for this request\n"}},
                    "typed_per_filter_config": PICKER_OFF,
                }
            )
            http_filters.append(
                {
                    "name": "envoy.filters.http.router",
                    "typed_config": _typed("envoy.extensions.filters.http.router.v3.Router", suppress_envoy_headers=True),
                }
            )
            hcm = _typed(
                "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                stat_prefix="gw-%s" % listener["name"],
                access_log=[
                    {
                        "name": "envoy.access_loggers.stdout",
                        "typed_config": _typed(
                            "envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
                            log_format={"text_format_source": {"inline_string": ACCESS_LOG}},
                        ),
                    }
                ],
                route_config={"name": "gw-%s" % listener["name"], "virtual_hosts": [{"name": "all", "domains": ["*"], "routes": routes}]},
                http_filters=http_filters,
                stream_idle_timeout="3600s",
            )
            listeners.append(
                {
                    "name": "listener-%s" % listener["name"],
                    "address": {"socket_address": {"address": "0.0.0.0", "port_value": int(listener["port"])}},  # noqa: S104 - the pod's wildcard: its own address
                    "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": hcm}]}],
                }
            )
            self.listener_status.append({"name": listener["name"], "ok": True, "attached": attached})
        # The picker filter's default target: never used (pool routes override it, others switch it off).
        self.clusters["epp-placeholder"] = _dns_cluster("epp-placeholder", "localhost", 9, http2=True)
        listeners.append(_ready_listener())
        return {
            "admin": {"address": {"socket_address": {"address": "0.0.0.0", "port_value": ADMIN_PORT}}},  # noqa: S104 - the pod's wildcard
            "static_resources": {"listeners": listeners, "clusters": [self.clusters[k] for k in sorted(self.clusters)]},
        }


def _ready_listener() -> dict:
    hcm = _typed(
        "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        stat_prefix="ready",
        route_config={
            "name": "ready",
            "virtual_hosts": [
                {"name": "ready", "domains": ["*"], "routes": [{"match": {"prefix": "/stats/prometheus"}, "route": {"cluster": "admin"}}]}
            ],
        },
        http_filters=[
            {
                "name": "envoy.filters.http.health_check",
                "typed_config": _typed(
                    "envoy.extensions.filters.http.health_check.v3.HealthCheck",
                    pass_through_mode=False,
                    headers=[{"name": ":path", "string_match": {"exact": "/ready"}}],
                ),
            },
            {"name": "envoy.filters.http.router", "typed_config": _typed("envoy.extensions.filters.http.router.v3.Router")},
        ],
    )
    return {
        "name": "ready",
        "address": {"socket_address": {"address": "0.0.0.0", "port_value": READY_PORT}},  # noqa: S104 - the pod's wildcard
        "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": hcm}]}],
    }


def render(gateway: dict, routes: list[dict], pools: list[dict], services: list[dict]) -> tuple[dict, Render]:
    r = Render(gateway, routes, pools, services)
    cfg = r.config()
    r.clusters.setdefault("admin", _dns_cluster("admin", "localhost", ADMIN_PORT))
    cfg["static_resources"]["clusters"] = [r.clusters[k] for k in sorted(r.clusters)]
    return cfg, r


def digest(cfg: dict) -> str:
    return hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()[:16]
