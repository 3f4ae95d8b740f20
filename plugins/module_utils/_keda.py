# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# ---------------------------------------------------------------------------
# PRIVATE: this module_utils is internal to the llm.platform collection.
# It is not a public API; it may change in any release without notice.
# ---------------------------------------------------------------------------
"""Pause and resume a KEDA ScaledObject, and wait until KEDA itself reports it.

The pause is the annotation ``autoscaling.keda.sh/paused``; KEDA answers with its ``Paused``
condition and, on resume, an HPA. KEDA 2.x has a race on resume (kedacore/keda#6421, open in
2.20): the scale loop the resume starts writes back the conditions it read before the reconciler
cleared ``Paused``, so a ScaledObject created paused and then resumed keeps ``Paused=True``
though it scales (its HPA exists). Nothing reconciles it again: Argo CD then reports its
Application ``Suspended``. The remedy is one more reconcile that starts no new loop: a change of
the pause annotation (KEDA's PausedPredicate) to ``"false"`` and back to absent, both "not
paused" to KEDA (strconv.ParseBool), once the HPA exists.
"""

from __future__ import annotations

import time

from ansible_collections.llm.platform.plugins.module_utils import _k8s

API_VERSION = "keda.sh/v1alpha1"
PAUSED = "autoscaling.keda.sh/paused"
# Consecutive polls that must agree before the state counts as settled (and before a stale
# Paused=True is nudged): one read can fall between KEDA's HPA write and its status write.
AGREEING_POLLS = 2


class KedaTimeout(Exception):
    def __init__(self, message, seen):
        super().__init__(message)
        self.seen = seen


def condition(so, kind):
    """The status ("True", "False", "Unknown" or None) and message of one condition."""
    for c in (so.get("status") or {}).get("conditions") or []:
        if c.get("type") == kind:
            return c.get("status"), c.get("message", "")
    return None, ""


def hpa_name(so):
    advanced = (so.get("spec") or {}).get("advanced") or {}
    name = (advanced.get("horizontalPodAutoscalerConfig") or {}).get("name")
    return name or (so.get("status") or {}).get("hpaName") or "keda-hpa-%s" % so["metadata"]["name"]


def judge(so, hpa_exists, state):
    """'settled', 'waiting' or 'stale' (resumed, scaling, but Paused=True: keda#6421).

    Paused is settled too while KEDA has never reported on the object (no conditions): without
    its first reconcile there is no HPA and no scale loop that could still move the replicas."""
    paused, _msg = condition(so, "Paused")
    if state == "paused":
        return "settled" if paused == "True" or not (so.get("status") or {}).get("conditions") else "waiting"
    if paused != "True":
        return "settled" if hpa_exists else "waiting"
    return "stale" if hpa_exists else "waiting"


def summary(so, hpa_exists):
    out = {"hpa": hpa_exists}
    for kind in ("Ready", "Active", "Paused"):
        status, msg = condition(so, kind)
        out[kind.lower()] = {"status": status, "message": msg}
    return out


class ScaledObject:
    def __init__(self, client, namespace, name, sleep=time.sleep, clock=time.monotonic):
        self.client = client
        self.namespace = namespace
        self.name = name
        self.sleep = sleep
        self.clock = clock
        self.path = _k8s.object_path(API_VERSION, "scaledobjects", namespace, name)
        self.nudges = 0
        self.changed = False  # whether the pause annotation was changed (nudges aside)
        self.missing = False

    def read(self, missing_ok=False):
        so = self.client.request("GET", self.path, not_found_ok=True)
        if so is None and not missing_ok:
            raise ValueError(
                "ScaledObject %s/%s not found: it exists only with the autoscaling feature on and the model's Application synced"
                % (self.namespace, self.name)
            )
        return so

    def annotate(self, value):
        body = {"metadata": {"annotations": {PAUSED: value}}}
        self.client.request("PATCH", self.path, body=body, content_type="application/merge-patch+json")

    def hpa_exists(self, so):
        path = _k8s.object_path("autoscaling/v2", "horizontalpodautoscalers", self.namespace, hpa_name(so))
        return self.client.request("GET", path, not_found_ok=True) is not None

    def nudge(self):
        self.annotate("false")
        self.annotate(None)
        self.nudges += 1

    def wait(self, state, timeout, poll):
        """Poll until KEDA reports `state` on AGREEING_POLLS reads in a row; nudge a stale resume."""
        deadline = self.clock() + timeout
        agreeing = {"settled": 0, "stale": 0}
        while True:
            so = self.read()
            hpa = self.hpa_exists(so)
            verdict = judge(so, hpa, state)
            for key in agreeing:
                agreeing[key] = agreeing[key] + 1 if verdict == key else 0
            if agreeing["settled"] >= AGREEING_POLLS:
                return so, hpa
            if agreeing["stale"] >= AGREEING_POLLS:
                self.nudge()
                agreeing["stale"] = 0
            if self.clock() >= deadline:
                seen = summary(so, hpa)
                message = "ScaledObject %s/%s: KEDA did not report it %s within %ss" % (self.namespace, self.name, state, timeout)
                raise KedaTimeout("%s (last seen: %s)" % (message, seen), seen)
            self.sleep(poll)


def ensure(scaled, state, check_mode, wait, timeout, poll):
    """Set the pause annotation for `state` ('paused' or 'resumed') and wait for KEDA.

    Returns (changed, before, after, seen): the annotation before and after (None when absent),
    and what KEDA reported last (None when not waited for). Pausing a ScaledObject that does not
    exist changes nothing (there is no autoscaler to pause) and returns before = after = None,
    seen = None; resuming one fails."""
    so = scaled.read(missing_ok=state == "paused")
    if so is None:
        scaled.missing = True
        return False, None, None, None
    before = ((so.get("metadata") or {}).get("annotations") or {}).get(PAUSED)
    after = "true" if state == "paused" else None
    changed = before != after
    if changed and not check_mode:
        scaled.annotate(after)
        scaled.changed = True
    seen = None
    if wait and not check_mode:
        so, hpa = scaled.wait(state, timeout, poll)
        seen = summary(so, hpa)
    return changed, before, after, seen
