"""k8s_apply's pure logic: ordering, selectors, redaction, change detection, retry policy."""

from __future__ import annotations

import pytest

from ansible_collections.llm.platform.plugins.module_utils import _k8s


def cm(name, ns="default", **data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": data}


CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "widgets.example.com"}}
NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}


def test_order_puts_crds_then_namespaces_first_and_keeps_list_order_otherwise():
    objs = [cm("a"), {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}, NS, cm("b"), CRD]
    assert _k8s.order(objs) == [4, 2, 0, 1, 3]


def test_a_kind_named_like_a_crd_in_another_group_is_not_a_crd():
    fake = dict(CRD, apiVersion="example.com/v1")
    assert not _k8s.is_crd(fake) and _k8s.is_crd(CRD)
    assert not _k8s.is_namespace(dict(NS, apiVersion="example.com/v1"))


def test_ident_names_kind_namespace_and_name():
    assert _k8s.ident(cm("a", "ns1")) == "ConfigMap ns1/a"
    assert _k8s.ident(NS) == "Namespace team-a"


def test_split_api_version():
    assert _k8s.split_api_version("v1") == ("", "v1")
    assert _k8s.split_api_version("apps/v1") == ("apps", "v1")


@pytest.mark.parametrize(
    "selector,labels", [("a=b", {"a": "b"}), ("a==b, c=d", {"a": "b", "c": "d"}), ("x.io/set=apps", {"x.io/set": "apps"})]
)
def test_parse_selector_equality(selector, labels):
    assert _k8s.parse_selector(selector) == labels


@pytest.mark.parametrize("selector", ["a!=b", "a in (b,c)", "a", "", " , "])
def test_parse_selector_rejects_what_cannot_be_a_label(selector):
    with pytest.raises(ValueError):
        _k8s.parse_selector(selector)


def test_paths():
    assert _k8s.collection_path("v1", "configmaps", "ns") == "/api/v1/namespaces/ns/configmaps"
    assert _k8s.collection_path("apps/v1", "deployments") == "/apis/apps/v1/deployments"
    assert _k8s.object_path("example.com/v1", "widgets", None, "w 1") == "/apis/example.com/v1/widgets/w%201"


# -- redaction --
SECRET = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "s", "namespace": "ns", "annotations": {_k8s.LAST_APPLIED: '{"data":{"k":"c2VjcmV0"}}', "x": "y"}},
    "data": {"k": "c2VjcmV0", "other": "b3RoZXI="},
    "stringData": {"p": "plain-secret"},
}


def test_redact_hides_secret_values_and_last_applied_but_keeps_keys():
    out = _k8s.redact(SECRET)
    text = repr(out)
    assert "c2VjcmV0" not in text and "plain-secret" not in text and "b3RoZXI=" not in text
    assert set(out["data"]) == {"k", "other"} and set(out["stringData"]) == {"p"}
    assert out["metadata"]["annotations"]["x"] == "y"
    assert SECRET["data"]["k"] == "c2VjcmV0", "the input is not modified"


def test_redact_leaves_other_kinds_alone():
    obj = cm("a", data="x")
    assert _k8s.redact(obj) is obj


def test_redact_pair_marks_changed_values_without_showing_them():
    after = dict(SECRET, data={"k": "bmV3", "other": "b3RoZXI=", "added": "eA=="})
    before, after_r = _k8s.redact_pair(SECRET, after)
    assert after_r["data"] == {"k": _k8s.REDACTED_CHANGED, "other": _k8s.REDACTED, "added": _k8s.REDACTED}
    assert "bmV3" not in repr((before, after_r))
    assert _k8s.changed_paths(before, after_r) == ["data.added", "data.k"]


def test_redact_params_for_the_invocation_echo():
    params = {"objects": [SECRET, cm("a", v="visible")], "field_manager": "m"}
    out = _k8s.redact_params(params)
    assert "plain-secret" not in repr(out) and "visible" in repr(out)
    assert params["objects"][0] is SECRET


# -- change detection --
LIVE = {
    "metadata": {
        "name": "a",
        "namespace": "default",
        "resourceVersion": "10",
        "uid": "u",
        "managedFields": [
            {"manager": "llm-platform", "operation": "Apply", "time": "2026-01-01T00:00:00Z", "fieldsV1": {"f:data": {}}},
            {"manager": "kubelet", "operation": "Update", "subresource": "status", "time": "t", "fieldsV1": {"f:status": {}}},
        ],
    },
    "data": {"a": "1"},
    "status": {"x": 1},
}


def test_identical_dry_run_answer_is_no_change_despite_noise():
    answer = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": dict(
            LIVE["metadata"],
            resourceVersion="11",
            managedFields=[dict(LIVE["metadata"]["managedFields"][0], time="2026-02-02T00:00:00Z")],
        ),
        "data": {"a": "1"},
        "status": {"x": 2},
    }
    assert not _k8s.would_change(LIVE, answer)


def test_a_changed_field_or_a_new_manager_is_a_change():
    answer = dict(LIVE, data={"a": "2"})
    assert _k8s.would_change(LIVE, answer)
    extra = {"manager": "other", "operation": "Apply", "fieldsV1": {"f:data": {}}}
    answer = dict(LIVE, metadata=dict(LIVE["metadata"], managedFields=[*LIVE["metadata"]["managedFields"], extra]))
    assert _k8s.would_change(LIVE, answer)
    assert _k8s.would_change(None, answer)


def test_clean_drops_status_and_server_metadata():
    out = _k8s.clean(dict(LIVE, metadata=dict(LIVE["metadata"], annotations={_k8s.LAST_APPLIED: "{}"})))
    assert out == {"metadata": {"name": "a", "namespace": "default"}, "data": {"a": "1"}}
    assert _k8s.clean(None) == {}


def test_changed_paths_names_the_field():
    before = {"spec": {"replicas": 1, "template": {"containers": [{"image": "a"}, {"image": "b"}]}}, "data": {"k": "v"}}
    after = {"spec": {"replicas": 2, "template": {"containers": [{"image": "a"}, {"image": "c"}]}}, "data": {"k": "v", "n": "x"}}
    assert _k8s.changed_paths(before, after) == ["data.n", "spec.replicas", "spec.template.containers[1].image"]
    assert _k8s.changed_paths({"l": [1]}, {"l": [1, 2]}) == ["l"]
    assert _k8s.changed_paths(before, before) == []


# -- retry policy --
# As kube-apiserver 1.36 words them (measured on the lab).
CONFLICT = {
    "reason": "Conflict",
    "details": {"causes": [{"reason": "FieldManagerConflict", "message": 'conflict with "x"', "field": ".data.k"}]},
}
TYPED = {
    "kind": "Status",
    "message": "failed to create typed patch object (default/w; g/v1, Kind=Widget): .spec.size: expected numeric",
    "code": 500,
}


@pytest.mark.parametrize(
    "status,body,retry",
    [
        (429, None, True),
        (500, None, True),
        (502, None, True),
        (503, None, True),
        (504, None, True),
        (409, {"reason": "Conflict", "message": "the object has been modified"}, True),
        (409, {"reason": "AlreadyExists"}, True),
        (409, CONFLICT, False),
        (500, TYPED, False),
        (500, {"message": "etcdserver: request timed out"}, True),
        (400, None, False),
        (403, None, False),
        (404, None, False),
        (422, None, False),
    ],
)
def test_retry_policy(status, body, retry):
    assert _k8s.should_retry(status, body) is retry


def test_backoff_is_exponential_capped_and_honours_retry_after():
    assert [_k8s.backoff_delay(a) for a in range(1, 7)] == [0.5, 1, 2, 4, 8, 8]
    assert _k8s.backoff_delay(1, retry_after="3") == 3
    assert _k8s.backoff_delay(1, retry_after="120") == 8
    assert _k8s.backoff_delay(2, retry_after="soon") == 1


def test_error_text_names_object_status_and_server_message():
    err = _k8s._error(
        "PATCH", "/api/v1/x", 409, dict(CONFLICT, message='Apply failed with 1 conflict: conflict with "kubectl"'), "", "ConfigMap ns/a", 1
    )
    text = err.describe()
    assert text.startswith('ConfigMap ns/a: HTTP 409 Conflict: Apply failed with 1 conflict: conflict with "kubectl"')
    assert "force_conflicts=true" in text
    assert err.as_dict()["causes"][0]["field"] == ".data.k"


def test_prepare_skips_empty_documents_flattens_lists_and_drops_server_metadata():
    dumped = dict(cm("a", x="1"))
    dumped["metadata"] = dict(dumped["metadata"], resourceVersion="5", uid="u", managedFields=[{}], creationTimestamp="t")
    items = _k8s.prepare([None, {"apiVersion": "v1", "kind": "List", "items": [dumped, None, cm("b")]}, cm("c")], labels={"s": "1"})
    assert [i.meta["name"] for i in items] == ["a", "b", "c"]
    assert [i.index for i in items] == [1, 1, 2]
    assert items[0].meta == {"name": "a", "namespace": "default", "labels": {"s": "1"}}
    assert dumped["metadata"]["resourceVersion"] == "5", "the input is not modified"


def test_prepare_names_every_bad_entry():
    with pytest.raises(ValueError) as exc:
        _k8s.prepare(["text", {"kind": "ConfigMap", "metadata": {"name": "x"}}, {"apiVersion": "v1", "kind": "Secret"}])
    msg = str(exc.value)
    assert "objects[0] is not a dictionary" in msg
    assert "objects[1] (ConfigMap x) has no apiVersion" in msg
    assert "objects[2] (Secret ?) has no metadata.name" in msg


def test_the_servers_before_first_apply_bookkeeping_is_no_change():
    # Measured on the lab's kube-apiserver: a Namespace created by an apply owning no field has no
    # managedFields; the next apply of the same object only adds this entry (and bumps resourceVersion).
    live = {
        "metadata": {"name": "n", "labels": {"kubernetes.io/metadata.name": "n"}, "resourceVersion": "358"},
        "spec": {"finalizers": ["kubernetes"]},
    }
    entry = {"manager": "before-first-apply", "operation": "Update", "fieldsV1": {"f:spec": {"f:finalizers": {}}}, "time": "t"}
    answer = dict(live, metadata=dict(live["metadata"], managedFields=[entry]))
    assert not _k8s.would_change(live, answer)
    assert _k8s.would_change(live, dict(answer, spec={"finalizers": []}))


def test_a_schema_mismatch_reads_as_an_invalid_object():
    err = _k8s._error("PATCH", "/apis/g/v1/namespaces/default/widgets/w", 500, TYPED, "", "Widget default/w", 1)
    assert err.describe().startswith("Widget default/w: HTTP 500 Invalid: failed to create typed patch object")
    assert err.describe().endswith("(the object does not match its kind's schema)")
