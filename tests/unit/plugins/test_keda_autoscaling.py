"""keda_autoscaling against a scripted KEDA: the pause annotation set and removed, KEDA's own report
waited for, the stale Paused=True of kedacore/keda#6421 mended by one more reconcile, check mode,
reruns without change, a missing ScaledObject, and a KEDA that never answers.

The fake reconciles like KEDA 2.20's ScaledObject controller (controllers/keda/scaledobject_controller.go):
a pause annotation change triggers a reconcile; pausing sets Paused=True and deletes the HPA;
resuming clears Paused and creates the HPA, which starts a scale loop; with `race` on, that loop's
first write puts back the Paused=True it read before the reconciler cleared it (the bug). A
reconcile that creates no HPA starts no loop, so its Paused=False stays."""

from __future__ import annotations

import copy
import json
import os
import sys

import pytest

from ansible_collections.llm.platform.plugins.module_utils import _k8s, _keda
from ansible_collections.llm.platform.plugins.modules import keda_autoscaling

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_kube import run_module

SO_PATH = "/apis/keda.sh/v1alpha1/namespaces/serving/scaledobjects/qwen-local"
HPA_PATH = "/apis/autoscaling/v2/namespaces/serving/horizontalpodautoscalers/keda-hpa-qwen-local"


class FakeKeda:
    def __init__(self, paused=True, race=True, reconciled=True, exists=True, running=True):
        self.race = race
        self.running = running
        self.hpa = False
        self.calls = []
        self.so = None
        if exists:
            annotations = {_keda.PAUSED: "true"} if paused else {}
            self.so = {"metadata": {"name": "qwen-local", "namespace": "serving", "annotations": annotations}, "spec": {}, "status": {}}
            if reconciled:
                self._set("Ready", "True")
                self._set("Paused", "True" if paused else "False")
                self.hpa = not paused

    def _set(self, kind, status):
        conds = self.so["status"].setdefault("conditions", [])
        conds[:] = [c for c in conds if c["type"] != kind] + [{"type": kind, "status": status, "message": "%s %s" % (kind, status)}]

    def paused_condition(self):
        return _keda.condition(self.so, "Paused")[0]

    def reconcile(self):
        if not self.running:
            return
        value = self.so["metadata"].get("annotations", {}).get(_keda.PAUSED)
        if value is not None and value.lower() in ("true", "t", "1"):
            self._set("Paused", "True")
            self.hpa = False
            return
        stale = copy.deepcopy(self.so["status"]["conditions"])
        self._set("Paused", "False")
        if not self.hpa:
            self.hpa = True  # a new HPA: a new scale loop
            if self.race:
                self.so["status"]["conditions"] = stale

    def send(self, method, path, query, body, content_type):
        self.calls.append((method, path, body))
        if path == SO_PATH:
            if self.so is None:
                return 404, {}, json.dumps({"kind": "Status", "reason": "NotFound", "code": 404})
            if method == "PATCH":
                assert content_type == "application/merge-patch+json"
                annotations = self.so["metadata"].setdefault("annotations", {})
                for key, value in body["metadata"]["annotations"].items():
                    if value is None:
                        annotations.pop(key, None)
                    else:
                        annotations[key] = value
                self.reconcile()
            return 200, {}, json.dumps(self.so)
        if path == HPA_PATH:
            if self.hpa:
                return 200, {}, json.dumps({"metadata": {"name": "keda-hpa-qwen-local"}})
            return 404, {}, json.dumps({"kind": "Status", "reason": "NotFound", "code": 404})
        raise AssertionError("unexpected call %s %s" % (method, path))

    def patches(self):
        return [c[2]["metadata"]["annotations"][_keda.PAUSED] for c in self.calls if c[0] == "PATCH"]


class Clock:
    def __init__(self):
        self.now = 0.0

    def sleep(self, seconds):
        self.now += seconds

    def __call__(self):
        return self.now


def scaled(keda):
    client = _k8s.K8sClient(None, retries=0, sleep=lambda s: None)
    client._send = keda.send
    clock = Clock()
    return _keda.ScaledObject(client, "serving", "qwen-local", sleep=clock.sleep, clock=clock)


def test_resume_after_a_paused_start_mends_the_stale_paused_condition():
    keda = FakeKeda(paused=True, race=True)
    so = scaled(keda)
    changed, before, after, seen = _keda.ensure(so, "resumed", check_mode=False, wait=True, timeout=60, poll=2)
    assert (changed, before, after) == (True, "true", None)
    assert keda.paused_condition() == "False" and keda.hpa
    assert so.nudges == 1, "the race left Paused=True: one more reconcile"
    assert keda.patches() == [None, "false", None], "resume, then the nudge (false, then absent)"
    assert seen["paused"]["status"] == "False" and seen["hpa"] is True
    assert "autoscaling.keda.sh/paused" not in keda.so["metadata"]["annotations"]


def test_resume_without_the_race_needs_no_nudge_and_a_rerun_changes_nothing():
    keda = FakeKeda(paused=True, race=False)
    so = scaled(keda)
    assert _keda.ensure(so, "resumed", False, True, 60, 2)[0] is True
    assert so.nudges == 0 and keda.patches() == [None]
    keda.calls.clear()
    again = scaled(keda)
    changed, before, after, _seen = _keda.ensure(again, "resumed", False, True, 60, 2)
    assert (changed, before, after, again.nudges) == (False, None, None, 0)
    assert keda.patches() == [], "a rerun writes nothing"


def test_pause_sets_the_annotation_and_waits_for_keda_to_drop_the_hpa():
    keda = FakeKeda(paused=False, race=True)
    changed, before, after, seen = _keda.ensure(scaled(keda), "paused", False, True, 60, 2)
    assert (changed, before, after) == (True, None, "true")
    assert keda.paused_condition() == "True" and not keda.hpa
    assert seen["paused"]["status"] == "True" and seen["hpa"] is False
    assert _keda.ensure(scaled(keda), "paused", False, True, 60, 2)[0] is False


def test_check_mode_reads_and_writes_nothing():
    keda = FakeKeda(paused=True)
    changed, before, after, seen = _keda.ensure(scaled(keda), "resumed", True, True, 60, 2)
    assert (changed, before, after, seen) == (True, "true", None, None)
    assert [c[0] for c in keda.calls] == ["GET"], "one read, no write, no wait"


def test_a_missing_scaledobject_is_nothing_to_pause_and_cannot_be_resumed():
    keda = FakeKeda(exists=False)
    so = scaled(keda)
    assert _keda.ensure(so, "paused", False, True, 60, 2) == (False, None, None, None)
    assert so.missing
    with pytest.raises(ValueError, match="ScaledObject serving/qwen-local not found: it exists only with the autoscaling feature on"):
        _keda.ensure(scaled(keda), "resumed", False, True, 60, 2)


def test_pausing_one_keda_never_reconciled_counts_as_done():
    keda = FakeKeda(paused=False, reconciled=False, running=False)
    changed, _before, after, seen = _keda.ensure(scaled(keda), "paused", False, True, 60, 2)
    assert (changed, after) == (True, "true")
    assert seen["paused"]["status"] is None and seen["hpa"] is False


def test_a_keda_that_never_answers_times_out_with_what_it_last_reported():
    keda = FakeKeda(paused=True, running=False)
    so = scaled(keda)
    with pytest.raises(_keda.KedaTimeout) as err:
        _keda.ensure(so, "resumed", False, True, 10, 2)
    assert "ScaledObject serving/qwen-local: KEDA did not report it resumed within 10s" in str(err.value)
    assert err.value.seen["paused"]["status"] == "True" and err.value.seen["hpa"] is False
    assert so.changed and so.nudges == 0, "no HPA: not the stale state, nothing to nudge"


def test_judge_needs_the_hpa_for_a_resume():
    so = {"metadata": {"name": "m"}, "status": {"conditions": [{"type": "Paused", "status": "False"}]}}
    assert _keda.judge(so, False, "resumed") == "waiting"
    assert _keda.judge(so, True, "resumed") == "settled"
    so["status"]["conditions"][0]["status"] = "True"
    assert _keda.judge(so, True, "resumed") == "stale"
    assert _keda.judge(so, True, "paused") == "settled"
    assert _keda.hpa_name({"metadata": {"name": "m"}, "spec": {"advanced": {"horizontalPodAutoscalerConfig": {"name": "own"}}}}) == "own"


def run_keda(keda, monkeypatch, capsys, check=False, diff=False, **args):
    args = dict({"name": "qwen-local", "namespace": "serving", "wait_poll": 0}, **args)
    code, out, _raw = run_module(keda_autoscaling.main, args, keda.send, monkeypatch, capsys, check=check, diff=diff)
    return code, out


def test_module_resume_diff_nudges_and_rerun(monkeypatch, capsys):
    keda = FakeKeda(paused=True, race=True)
    rc, out = run_keda(keda, monkeypatch, capsys, diff=True, state="resumed")
    assert rc == 0 and out["changed"] is True and out["nudges"] == 1
    assert out["annotation"] == {"before": "true", "after": None}
    assert out["diff"]["before"] == '"true"\n' and out["diff"]["after"] == "null\n"
    assert out["keda"]["paused"]["status"] == "False"
    rc, out = run_keda(keda, monkeypatch, capsys, diff=True, state="resumed")
    assert rc == 0 and out["changed"] is False and "diff" not in out and out["nudges"] == 0


def test_module_fails_clearly_on_a_missing_scaledobject_and_says_so_on_pause(monkeypatch, capsys):
    rc, out = run_keda(FakeKeda(exists=False), monkeypatch, capsys, state="resumed")
    assert rc == 1 and "ScaledObject serving/qwen-local not found" in out["msg"]
    rc, out = run_keda(FakeKeda(exists=False), monkeypatch, capsys, state="paused")
    assert rc == 0 and out["changed"] is False and out["found"] is False


def test_module_timeout_reports_the_last_status(monkeypatch, capsys):
    rc, out = run_keda(FakeKeda(paused=True, running=False), monkeypatch, capsys, state="resumed", wait_timeout=0)
    assert rc == 1 and "did not report it resumed" in out["msg"] and out["changed"] is True
    assert out["keda"]["hpa"] is False
