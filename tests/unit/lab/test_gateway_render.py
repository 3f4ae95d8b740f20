"""The lab's Gateway API implementation (lab/gateway/render.py) on the objects the
inference-routing chart renders for the lab: one listener per Gateway listener, the body-based
router as the Gateway's request processor, one route per model header with the canary's
weights, the endpoint picker per pool route, ORIGINAL_DST to the picked pod and 404 for
anything no route matches."""

from __future__ import annotations

import copy
import os
import sys

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(REPO, "lab"))
sys.path.insert(0, os.path.join(REPO, "tests", "unit", "serving"))

from gateway import render  # noqa: E402
from serving_render import by_kind, helm_binary, render_serving  # noqa: E402

pytestmark = pytest.mark.skipif(helm_binary() is None, reason="helm not built yet (lab/build.sh)")


@pytest.fixture(scope="module")
def objects():
    with open(os.path.join(REPO, "tests", "unit", "serving", "models3.yml"), encoding="utf-8") as handle:
        models = yaml.safe_load(handle)["models"]
    return render_serving(models=models, substrate="lab")["inference-routing"]


def _render(objects, routes=None):
    (gw,) = by_kind(objects, "Gateway")
    routes = by_kind(objects, "HTTPRoute") if routes is None else routes
    return render.render(gw, routes, by_kind(objects, "InferencePool"), by_kind(objects, "Service"))


def _http(cfg):
    (listener,) = [entry for entry in cfg["static_resources"]["listeners"] if entry["name"] == "listener-http"]
    (hcm,) = listener["filter_chains"][0]["filters"]
    return listener, hcm["typed_config"]


def test_listener_processors_and_routes(objects):
    cfg, r = _render(objects)
    listener, hcm = _http(cfg)
    assert listener["address"]["socket_address"]["port_value"] == 80
    names = [f["name"] for f in hcm["http_filters"]]
    assert names[0].startswith("envoy.filters.http.ext_proc.processor") and names[-1] == "envoy.filters.http.router"
    routes = hcm["route_config"]["virtual_hosts"][0]["routes"]
    models = [rt["match"]["headers"][0]["string_match"]["exact"] for rt in routes[:-1]]
    assert models == ["qwen2.5-0.5b-instruct", "qwen2.5-0.5b-oci"]
    assert routes[-1]["direct_response"]["status"] == 404 and "headers" not in routes[-1]["match"]
    assert all(status["accepted"] for status in r.route_status.values())
    clusters = {c["name"]: c for c in cfg["static_resources"]["clusters"]}
    assert "processor-body-based-router" in clusters


def test_the_request_processor_sees_no_response_and_the_picker_streams_it(objects):
    """As GKE's GCPRoutingExtension declares (request events only): the body-based router
    gathers a streamed response until its end, so given the response it would hold every SSE
    answer back until the last token."""
    cfg, _r = _render(objects)
    _listener, hcm = _http(cfg)
    filters = {f["name"]: f["typed_config"] for f in hcm["http_filters"]}
    (processor,) = [cfg for name, cfg in filters.items() if name.startswith("envoy.filters.http.ext_proc.processor")]
    assert processor["processing_mode"]["request_body_mode"] == "FULL_DUPLEX_STREAMED"
    assert processor["processing_mode"]["response_header_mode"] == "SKIP"
    assert processor["processing_mode"]["response_body_mode"] == "NONE"
    assert processor["processing_mode"]["response_trailer_mode"] == "SKIP"
    picker = filters["envoy.filters.http.ext_proc.epp"]["processing_mode"]
    assert picker["request_body_mode"] == picker["response_body_mode"] == "FULL_DUPLEX_STREAMED"


def test_the_canary_split_and_a_picker_per_pool(objects):
    cfg, _r = _render(objects)
    _listener, hcm = _http(cfg)
    first = hcm["route_config"]["virtual_hosts"][0]["routes"][0]["route"]
    weights = {c["name"]: c["weight"] for c in first["weighted_clusters"]["clusters"]}
    assert weights == {"pool-serving-qwen-local": 90, "pool-serving-qwen-local-canary": 10}
    for c in first["weighted_clusters"]["clusters"]:
        per = c["typed_per_filter_config"]["envoy.filters.http.ext_proc.epp"]
        assert per  # the pool's own picker for this backend
    clusters = {c["name"]: c for c in cfg["static_resources"]["clusters"]}
    pool = clusters["pool-serving-qwen-local"]
    assert pool["type"] == "ORIGINAL_DST"
    assert pool["original_dst_lb_config"]["http_header_name"] == render.DEST_HEADER
    assert clusters["epp-serving-qwen-local"]["name"] == "epp-serving-qwen-local"


def test_an_unsupported_filter_is_refused_in_the_route_status(objects):
    routes = copy.deepcopy(by_kind(objects, "HTTPRoute"))
    routes[0]["spec"]["rules"][0]["filters"] = [{"type": "RequestMirror"}]
    _cfg, r = _render(objects, routes)
    key = (routes[0]["metadata"]["namespace"], routes[0]["metadata"]["name"])
    assert r.route_status[key]["accepted"] is False
    assert "UnsupportedValue" in r.route_status[key]["message"]


def test_a_missing_pool_is_reported_not_routed(objects):
    pools = [p for p in by_kind(objects, "InferencePool") if p["metadata"]["name"] != "qwen-oci"]
    (gw,) = by_kind(objects, "Gateway")
    _cfg, r = render.render(gw, by_kind(objects, "HTTPRoute"), pools, by_kind(objects, "Service"))
    status = r.route_status[("serving", "qwen-oci")]
    assert status["accepted"] is False and "BackendNotFound" in status["message"]


def test_the_digest_follows_the_config(objects):
    cfg, _r = _render(objects)
    again, _r2 = _render(objects)
    assert render.digest(cfg) == render.digest(again)
    routes = copy.deepcopy(by_kind(objects, "HTTPRoute"))
    routes[0]["spec"]["rules"][0]["timeouts"] = {"request": "30s"}
    changed, _r3 = _render(objects, routes)
    assert render.digest(changed) != render.digest(cfg)
