# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judge Argo CD's own assessment of the platform's Applications (roles/platform_apps gathers
them with kubernetes.core.k8s_info): which are not done yet, and why."""

from __future__ import annotations

MANUAL_ANNOTATION = "llm-platform/sync"
NO_STATUS = "no status yet: is argocd-application-controller running and can it reach the repository?"
STALE = "status compared against an earlier spec (the controller has not reconciled the change yet)"


def _without_nulls(value):
    """Helm values as Argo CD records them in comparedTo: its JSON round trip drops null members."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _source_key(source):
    """The parts of a source whose change must be seen by the controller before its status
    counts. Argo CD copies the spec's source into status.sync.comparedTo when it compares; the
    other fields are left out because Go's marshalling drops their empty values."""
    source = source or {}
    return (
        source.get("repoURL", ""),
        source.get("path", ""),
        source.get("chart", ""),
        source.get("targetRevision", ""),
        _without_nulls((source.get("helm") or {}).get("valuesObject") or {}),
    )


def _sources(holder):
    holder = holder or {}
    return [_source_key(holder.get("source"))] + [_source_key(s) for s in holder.get("sources") or []]


def _bad_resources(status):
    bad = []
    for res in status.get("resources") or []:
        health = (res.get("health") or {}).get("status", "Healthy")
        if res.get("status", "Synced") != "Synced" or health != "Healthy":
            where = (res["namespace"] + "/") if res.get("namespace") else ""
            bad.append("%s/%s%s %s/%s" % (res.get("kind", "?"), where, res.get("name", "?"), res.get("status", "?"), health))
    return bad


def _judge(name, app):
    """None when the Application is done, else {name, sync, health, phase, message}."""
    if not app:
        return {"name": name, "sync": "Missing", "health": "Missing", "phase": "", "message": "Application not created yet"}
    status = app.get("status") or {}
    sync = (status.get("sync") or {}).get("status", "Unknown")
    health = (status.get("health") or {}).get("status", "Unknown")
    phase = (status.get("operationState") or {}).get("phase", "")
    entry = {"name": name, "sync": sync, "health": health, "phase": phase}
    if not status:
        return dict(entry, message=NO_STATUS)
    if _sources((status.get("sync") or {}).get("comparedTo")) != _sources(app.get("spec")):
        return dict(entry, message=STALE)
    manual = ((app.get("metadata") or {}).get("annotations") or {}).get(MANUAL_ANNOTATION) == "manual"
    bad = _bad_resources(status)
    if manual or (sync == "Synced" and health == "Healthy" and phase == "Succeeded" and not bad):
        return None
    notes = [(status.get("health") or {}).get("message", ""), (status.get("operationState") or {}).get("message", "")]
    notes += [c.get("message", "") for c in status.get("conditions") or []] + bad[:5]
    return dict(entry, message="; ".join(n for n in notes if n))


def argocd_pending(applications, root):
    """{done, pending}: the root and every child Application the root lists in its
    status.resources, judged by Argo CD's own assessment. Done means sync Synced, health
    Healthy, the last operation Succeeded and every managed resource Synced and Healthy (since
    Argo CD 3.4 a resource missing from the cluster reads Healthy at the Application level), each
    compared against the current spec. Manual-sync children (the GPU cost gate) only need to
    exist and to have been compared against their current spec."""
    by_name = {(a.get("metadata") or {}).get("name"): a for a in applications or []}
    root_status = (by_name.get(root) or {}).get("status") or {}
    children = [r["name"] for r in root_status.get("resources") or [] if r.get("kind") == "Application"]
    pending = []
    for name in [root, *children]:
        verdict = _judge(name, by_name.get(name))
        if verdict:
            pending.append(verdict)
    return {"done": not pending and bool(children), "pending": pending}


class FilterModule:
    def filters(self):
        return {"argocd_pending": argocd_pending}
