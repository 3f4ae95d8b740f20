"""Network safety of the lab: nothing the API server would call may leave loopback.

Lists every Validating/MutatingWebhookConfiguration, every CRD conversion webhook and every
APIService, and fails on any that points at a Service (other than an ExternalName Service
resolving to localhost) or at a URL whose host is not loopback.
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.lab


def _service_target_ok(lab, ref):
    """A Service reference is allowed only when that Service is ExternalName -> localhost."""
    proc = lab.kubectl("get", "service", ref["name"], "-n", ref["namespace"], "-o", "json", check=False)
    if proc.returncode != 0:
        return False, f"service {ref['namespace']}/{ref['name']} (missing: the apiserver would still try it)"
    svc = json.loads(proc.stdout)
    spec = svc["spec"]
    if spec.get("type") == "ExternalName" and spec.get("externalName") in ("localhost", "127.0.0.1"):
        return True, ""
    return False, f"service {ref['namespace']}/{ref['name']} of type {spec.get('type')}"


def _client_config_problem(lab, cfg):
    if cfg.get("url"):
        return None if lab.url_is_loopback(cfg["url"]) else f"url {cfg['url']}"
    if cfg.get("service"):
        ok, why = _service_target_ok(lab, cfg["service"])
        return None if ok else why
    return "clientConfig without url or service"


def test_no_webhook_dials_out_of_loopback(lab):
    problems = []
    for kind in ("validatingwebhookconfigurations", "mutatingwebhookconfigurations"):
        for item in lab.kubectl_json("get", kind)["items"]:
            for hook in item.get("webhooks", []):
                why = _client_config_problem(lab, hook.get("clientConfig", {}))
                if why:
                    problems.append(f"{kind}/{item['metadata']['name']} webhook {hook['name']}: {why}")
    assert not problems, problems


def test_no_crd_conversion_webhook_dials_out_of_loopback(lab):
    problems = []
    for crd in lab.kubectl_json("get", "crd")["items"]:
        conv = crd["spec"].get("conversion", {})
        if conv.get("strategy") == "Webhook":
            why = _client_config_problem(lab, conv.get("webhook", {}).get("clientConfig", {}))
            if why:
                problems.append(f"crd/{crd['metadata']['name']}: {why}")
    assert not problems, problems


def test_no_apiservice_dials_out_of_loopback(lab):
    problems = []
    items = lab.kubectl_json("get", "apiservices")["items"]
    assert items, "no APIService at all: the listing itself failed"
    for item in items:
        ref = item["spec"].get("service")
        if ref:  # None means served locally by kube-apiserver
            ok, why = _service_target_ok(lab, ref)
            if not ok:
                problems.append(f"apiservice/{item['metadata']['name']}: {why}")
    assert not problems, problems


def test_kubernetes_service_has_no_endpoints(lab):
    """--endpoint-reconciler-type=none: the default `kubernetes` Service publishes no address."""
    slices = lab.kubectl_json("get", "endpointslices", "-n", "default",
                              "-l", "kubernetes.io/service-name=kubernetes")["items"]
    assert all(not s.get("endpoints") for s in slices), slices
