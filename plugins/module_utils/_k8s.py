# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# ---------------------------------------------------------------------------
# PRIVATE: this module_utils is internal to the llm.platform collection.
# It is not a public API; it may change in any release without notice.
# ---------------------------------------------------------------------------
"""One Kubernetes API client and the batch server-side-apply engine of llm.platform.k8s_apply.

* Transport: the ``kubernetes`` client's ApiClient (kubeconfig, context, auth, TLS) with raw
  REST paths; no dynamic client, so no full discovery: one discovery call per apiVersion used.
* Retries with exponential backoff on 429, 5xx, connection errors and 409 conflicts that are
  not field-manager conflicts (those need ``force_conflicts``); ``Retry-After`` is honoured.
* Live state: one LIST per kind and namespace (paged), never a GET before each write.
* Validate first: every object is applied with ``dryRun=All`` before anything is written, so
  an invalid object means nothing was written (see ``apply_objects`` for the one exception:
  objects whose CRD or Namespace is created by the same call).
* ``changed`` from the server: the answer's resourceVersion against the listed one (re-read
  when the dry run disagrees with the LIST), and what it stores, status aside.
* Secret ``data``/``stringData`` never leave this module: redacted in diffs and results.
"""

from __future__ import annotations

import copy
import json
import time
import traceback
from urllib.parse import quote

try:
    import kubernetes  # the transport of K8sClient (its configuration and ApiClient)

    KUBERNETES_VERSION = kubernetes.__version__
    KUBERNETES_ERROR = None
except ImportError:
    KUBERNETES_VERSION = None
    KUBERNETES_ERROR = traceback.format_exc()

CRD_API = "apiextensions.k8s.io"
RETRY_STATUSES = (429, 500, 502, 503, 504)
REDACTED = "VALUE_REDACTED"
REDACTED_CHANGED = "VALUE_REDACTED (changed)"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
NEVER_PRUNED = ("CustomResourceDefinition", "Namespace")
# Metadata the server owns: left out of diffs (resourceVersion is reported on its own).
NOISE_METADATA = ("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink")
FORCE_HINT = "another field manager owns these fields; set force_conflicts=true to take them over"


def k8s_argument_spec():
    """Connection options of the module (kubernetes.core's names and environment variables)."""
    from ansible.module_utils.basic import env_fallback

    return dict(
        kubeconfig=dict(type="path", fallback=(env_fallback, ["K8S_AUTH_KUBECONFIG"])),
        context=dict(type="str", fallback=(env_fallback, ["K8S_AUTH_CONTEXT"])),
        request_timeout=dict(type="float", default=30),
        retries=dict(type="int", default=5),
    )


def module_client(module, **fail_extra):
    """The K8sClient for a module's connection options (k8s_argument_spec), or the module fails:
    without the kubernetes library or with a kubeconfig that does not load. `fail_extra` goes
    into those failures (e.g. the invocation)."""
    from ansible.module_utils.basic import missing_required_lib

    if KUBERNETES_ERROR:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=KUBERNETES_ERROR, **fail_extra)
    p = module.params
    try:
        return K8sClient.from_kubeconfig(p["kubeconfig"], p["context"], timeout=p["request_timeout"], retries=p["retries"])
    except Exception as e:  # kubeconfig errors and the like
        module.fail_json(msg="cannot load the kubeconfig: %s" % e, **fail_extra)


# ---------------------------------------------------------------------------
# Pure helpers: identity, ordering, labels, redaction, comparison, retry policy.
# ---------------------------------------------------------------------------
def split_api_version(api_version):
    """'apps/v1' -> ('apps', 'v1'); 'v1' -> ('', 'v1')."""
    if "/" in api_version:
        group, version = api_version.split("/", 1)
        return group, version
    return "", api_version


def is_crd(obj):
    return obj.get("kind") == "CustomResourceDefinition" and split_api_version(obj.get("apiVersion", ""))[0] == CRD_API


def is_namespace(obj):
    return obj.get("kind") == "Namespace" and obj.get("apiVersion") == "v1"


def ident(obj):
    """'Kind namespace/name' (or 'Kind name' when cluster-scoped): how errors and results name an object."""
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    name = meta.get("name", "?")
    return "%s %s/%s" % (obj.get("kind", "?"), ns, name) if ns else "%s %s" % (obj.get("kind", "?"), name)


def order(objects):
    """Indices in apply order: CRDs, then Namespaces, then the rest, each in list order."""

    def rank(i):
        obj = objects[i]
        return (0 if is_crd(obj) else 1 if is_namespace(obj) else 2, i)

    return sorted(range(len(objects)), key=rank)


def parse_selector(selector):
    """'a=b,c==d' -> {'a': 'b', 'c': 'd'}; ValueError for set-based or negative terms."""
    labels = {}
    for raw in (selector or "").split(","):
        term = raw.strip()
        if not term:
            continue
        if "!=" in term or " in " in term or " notin " in term or "(" in term or "=" not in term:
            raise ValueError(
                "prune_selector must be equality-based (key=value[,key=value]); its labels are added to every object: %r" % term
            )
        key, value = term.replace("==", "=").split("=", 1)
        labels[key.strip()] = value.strip()
    if not labels:
        raise ValueError("prune_selector is empty")
    return labels


def _is_secret(obj):
    return obj.get("kind") == "Secret" and obj.get("apiVersion") == "v1"


def redact(obj):
    """A copy without Secret values: data/stringData values and the last-applied annotation."""
    if not isinstance(obj, dict) or not _is_secret(obj):
        return obj
    out = copy.deepcopy(obj)
    for field in ("data", "stringData"):
        if isinstance(out.get(field), dict):
            out[field] = {k: REDACTED for k in out[field]}
    ann = (out.get("metadata") or {}).get("annotations")
    if isinstance(ann, dict) and LAST_APPLIED in ann:
        ann[LAST_APPLIED] = REDACTED
    return out


def redact_pair(before, after):
    """Redacted (before, after) of a Secret, where a changed value reads REDACTED_CHANGED in ``after``."""
    rb, ra = redact(before), redact(after)
    if isinstance(after, dict) and _is_secret(after):
        bdata = (before or {}).get("data") or {}
        for k, v in (after.get("data") or {}).items():
            if k in bdata and bdata[k] != v:
                ra["data"][k] = REDACTED_CHANGED
    return rb, ra


def clean(obj):
    """The object as a diff shows it: without status and server-owned metadata."""
    if not obj:
        return {}
    out = copy.deepcopy(obj)
    out.pop("status", None)
    meta = out.get("metadata") or {}
    for key in NOISE_METADATA:
        meta.pop(key, None)
    ann = meta.get("annotations")
    if isinstance(ann, dict):
        ann.pop(LAST_APPLIED, None)
        if not ann:
            meta.pop("annotations", None)
    return out


BEFORE_FIRST_APPLY = "before-first-apply"


def comparable(obj):
    """What decides whether an apply changes an object: everything the server stores, except
    status, resourceVersion, the managers' timestamps, status-subresource managers and the
    server's "before-first-apply" bookkeeping entry.
    (LIST items carry no apiVersion/kind, so those are left out too.)"""
    if not obj:
        return None
    out = copy.deepcopy(obj)
    for key in ("status", "apiVersion", "kind"):
        out.pop(key, None)
    meta = out.get("metadata") or {}
    meta.pop("resourceVersion", None)
    managers = []
    for entry in meta.get("managedFields") or []:
        # The server adds "before-first-apply" when an apply meets an object without managedFields
        # (one created by an apply that owned no field, e.g. a bare Namespace): bookkeeping only.
        if entry.get("subresource") or entry.get("manager") == BEFORE_FIRST_APPLY:
            continue
        managers.append({k: v for k, v in entry.items() if k != "time"})
    meta["managedFields"] = sorted(managers, key=lambda e: json.dumps(e, sort_keys=True))
    return out


def would_change(live, answer):
    """True when a (dry-run) answer differs from the live object in what ``comparable`` keeps."""
    return live is None or comparable(live) != comparable(answer)


def changed_paths(before, after, prefix=""):
    """Dotted paths of the leaves that differ between two objects (lists by index when same length)."""
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for key in sorted(set(before) | set(after), key=str):
            path = "%s.%s" % (prefix, key) if prefix else str(key)
            if key not in before or key not in after:
                if before.get(key) != after.get(key):
                    out.append(path)
                continue
            out.extend(changed_paths(before[key], after[key], path))
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        out = []
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            out.extend(changed_paths(b, a, "%s[%d]" % (prefix, i)))
        return out
    return [] if before == after else [prefix or "."]


def field_manager_conflict(body):
    """True for a 409 that is a server-side-apply conflict with another field manager
    (a Status whose ``details.causes[].reason`` is FieldManagerConflict)."""
    details = (body or {}).get("details") or {}
    return any((c or {}).get("reason") == "FieldManagerConflict" for c in details.get("causes") or [])


# kube-apiserver answers HTTP 500 when an apply body does not fit the kind's schema (a string where
# the schema says integer): deterministic, so never retried, and reported as an invalid object.
TYPED_PATCH_ERROR = "failed to create typed patch object"


def schema_mismatch(status, body):
    return status == 500 and TYPED_PATCH_ERROR in str((body or {}).get("message") or "")


def should_retry(status, body=None):
    """The retry policy: 429, 5xx (but not a schema mismatch) and 409 conflicts that a retry can
    resolve (not field-manager conflicts)."""
    if schema_mismatch(status, body):
        return False
    if status in RETRY_STATUSES:
        return True
    if status == 409:
        return not field_manager_conflict(body)
    return False


def backoff_delay(attempt, base=0.5, cap=8.0, retry_after=None):
    """Seconds to wait before attempt ``attempt + 1``: base * 2^(attempt-1), capped; Retry-After wins (capped too)."""
    if retry_after is not None:
        try:
            return min(max(float(retry_after), 0.0), cap)
        except (TypeError, ValueError):
            pass
    return min(base * (2 ** (attempt - 1)), cap)


class K8sError(Exception):
    """A failed API call, with the object it was about and the server's own words."""

    def __init__(self, method, path, status=None, reason=None, message="", obj=None, causes=None, attempts=1, hint=None):
        self.method = method
        self.path = path
        self.status = status
        self.reason = reason
        self.message = message
        self.obj = obj
        self.causes = causes or []
        self.attempts = attempts
        self.hint = hint
        super().__init__(self.describe())

    def describe(self):
        what = self.obj or "%s %s" % (self.method, self.path)
        if self.status is None:
            text = "%s: %s" % (what, self.message)
        else:
            text = "%s: HTTP %s %s: %s" % (what, self.status, self.reason or "", self.message)
        if self.attempts > 1:
            text += " (after %d attempts)" % self.attempts
        if self.hint:
            text += " (%s)" % self.hint
        return text

    def as_dict(self):
        return dict(
            object=self.obj,
            method=self.method,
            path=self.path,
            status=self.status,
            reason=self.reason,
            message=self.message,
            causes=self.causes,
            attempts=self.attempts,
        )


class BatchError(Exception):
    """Several objects failed validation; ``errors`` holds one K8sError each."""

    def __init__(self, phase, errors, applied=None):
        self.phase = phase
        self.errors = errors
        self.applied = applied or []
        head = "%d object(s) rejected by the server's dry run (%s)" % (len(errors), phase)
        super().__init__("%s: %s" % (head, "; ".join(e.describe() for e in errors)))


# ---------------------------------------------------------------------------
# The client: one ApiClient, raw REST paths, retries, discovery.
# ---------------------------------------------------------------------------
class K8sClient:
    def __init__(self, api_client=None, timeout=30, retries=5, sleep=time.sleep, base_delay=0.5):
        self.api = api_client
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.sleep = sleep
        self.base_delay = base_delay
        self.requests = []  # {method, path, dry_run} of every call
        self.retried = 0
        self._discovery = {}

    @classmethod
    def from_kubeconfig(cls, kubeconfig=None, context=None, **kw):
        from kubernetes import client, config

        conf = type.__call__(client.Configuration)  # a fresh one, not a copy of the process default
        config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=conf, persist_config=False)
        # Every retry happens in request() (counted, with our backoff): urllib3's own retries
        # (it honours Retry-After on 429/503 by itself) would double them, unseen.
        conf.retries = False
        return cls(client.ApiClient(configuration=conf), **kw)

    # -- transport (the one place that touches the network; unit tests replace it) --
    def _send(self, method, path, query, body, content_type):
        """(status, headers, text). HTTP errors return their status; network errors raise OSError."""
        import urllib3

        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type or "application/json"
        try:
            req = self.api.param_serialize(
                method, path, query_params=list(query or []), header_params=headers, body=body, auth_settings=["BearerToken"]
            )
            resp = self.api.call_api(*req, _request_timeout=self.timeout)
            text = resp.read()
        except urllib3.exceptions.HTTPError as e:
            raise OSError("cannot reach the API server: %s" % e) from None
        except Exception as e:  # kubernetes ApiException(status=0) for TLS errors
            if getattr(e, "status", None) == 0:
                raise OSError("cannot reach the API server: %s" % getattr(e, "reason", e)) from None
            raise
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        return resp.status, dict(resp.headers or {}), text

    def request(self, method, path, query=None, body=None, content_type=None, obj=None, not_found_ok=False, retry_not_found=0):
        """The decoded JSON answer, or None for a 404 with ``not_found_ok``; raises K8sError.

        ``retry_not_found``: seconds during which a 404 is retried too (a freshly established CRD)."""
        query = [(k, v) for k, v in (query or []) if v is not None]
        self.requests.append({"method": method, "path": path, "dry_run": ("dryRun", "All") in query})
        attempts = self.retries + 1
        attempt = 0
        nf_deadline = time.monotonic() + retry_not_found
        while True:
            attempt += 1
            try:
                status, headers, text = self._send(method, path, query, body, content_type)
            except OSError as e:
                if attempt < attempts:
                    self._wait(attempt)
                    continue
                raise K8sError(method, path, message=str(e), obj=obj, attempts=attempt) from None
            data = _decode(text)
            if 200 <= status < 300:
                return data
            if status == 404 and not_found_ok:
                return None
            if should_retry(status, data) and attempt < attempts:
                self._wait(attempt, (headers or {}).get("Retry-After"))
                continue
            if status == 404 and time.monotonic() < nf_deadline:
                self._wait(min(attempt, 3))
                continue
            raise _error(method, path, status, data, text, obj, attempt)

    def _wait(self, attempt, retry_after=None):
        self.retried += 1
        self.sleep(backoff_delay(attempt, self.base_delay, retry_after=retry_after))

    # -- discovery and paths --
    def resources(self, api_version):
        """{kind: (plural, namespaced)} of one apiVersion (one call, cached); None when not served."""
        if api_version not in self._discovery:
            group, version = split_api_version(api_version)
            path = "/api/%s" % version if not group else "/apis/%s/%s" % (group, version)
            data = self.request("GET", path, not_found_ok=True)
            found = None
            if data is not None:
                found = {}
                for r in data.get("resources") or []:
                    if "/" not in r.get("name", ""):
                        found.setdefault(r["kind"], (r["name"], bool(r.get("namespaced"))))
            self._discovery[api_version] = found
        return self._discovery[api_version]

    def forget(self, api_version=None):
        """Drop cached discovery (of one apiVersion, or all)."""
        if api_version is None:
            self._discovery.clear()
        else:
            self._discovery.pop(api_version, None)


def _decode(text):
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return {"message": text[:500]}


def _error(method, path, status, data, text, obj, attempts):
    data = data if isinstance(data, dict) else {}
    message = data.get("message") or (text or "")[:500]
    causes = (data.get("details") or {}).get("causes") or []
    hint = FORCE_HINT if status == 409 and field_manager_conflict(data) else None
    reason = data.get("reason")
    if schema_mismatch(status, data):
        reason, hint = reason or "Invalid", "the object does not match its kind's schema"
    return K8sError(method, path, status, reason, message, obj=obj, causes=causes, attempts=attempts, hint=hint)


def collection_path(api_version, plural, namespace=None):
    group, version = split_api_version(api_version)
    base = "/api/%s" % version if not group else "/apis/%s/%s" % (group, version)
    if namespace:
        base += "/namespaces/%s" % quote(namespace, safe="")
    return "%s/%s" % (base, plural)


def object_path(api_version, plural, namespace, name):
    return "%s/%s" % (collection_path(api_version, plural, namespace), quote(name, safe=""))


# ---------------------------------------------------------------------------
# The engine.
# ---------------------------------------------------------------------------
class Item:
    """One object of the list and what is learnt about it during the run."""

    def __init__(self, index, obj, default_namespace="default"):
        self.index = index
        self.obj = obj
        self.default_namespace = default_namespace
        self.crd = None  # the CRD item of the list that defines this object's kind
        self.pending = False  # the dry run says the write would change the object
        self.plural = None
        self.namespaced = None
        self.live = None
        self.answer = None
        self.deferred = None  # why it cannot be dry-run before the foundation exists
        self.validated = False
        self.action = None
        self.changed = False

    @property
    def meta(self):
        return self.obj["metadata"]

    @property
    def key(self):
        return (self.obj["apiVersion"], self.obj["kind"], self.meta.get("namespace"), self.meta["name"])

    @property
    def name(self):
        return ident(self.obj)


# Server-owned metadata an apply body must not carry (a resourceVersion would turn the apply into
# an optimistic-lock update that fails once the object moves; managedFields are refused).
SERVER_OWNED = ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "selfLink")


def flatten(objects):
    """(index, object) pairs: empty YAML documents (None) skipped, a v1 ``List`` replaced by its items."""
    out = []
    for i, obj in enumerate(objects or []):
        if obj is None:
            continue
        if isinstance(obj, dict) and obj.get("apiVersion") == "v1" and obj.get("kind") == "List":
            out.extend((i, o) for o in obj.get("items") or [] if o is not None)
        else:
            out.append((i, obj))
    return out


def prepare(objects, default_namespace="default", labels=None):
    """Checked copies of the objects (prune labels added, server-owned metadata dropped);
    ValueError naming every bad entry."""
    problems = []
    out = []
    for i, raw in flatten(objects):
        if not isinstance(raw, dict):
            problems.append("objects[%d] is not a dictionary" % i)
            continue
        obj = copy.deepcopy(raw)
        meta = obj.get("metadata")
        missing = [k for k in ("apiVersion", "kind") if not obj.get(k)]
        if not isinstance(meta, dict) or not meta.get("name"):
            missing.append("metadata.name")
        if missing:
            problems.append("objects[%d] (%s) has no %s" % (i, ident(obj), ", ".join(missing)))
            continue
        for key in SERVER_OWNED:
            meta.pop(key, None)
        if labels:
            meta["labels"] = dict(meta.get("labels") or {}, **labels)
        out.append(Item(i, obj, default_namespace))
    if problems:
        raise ValueError("; ".join(problems))
    return out


def _resolve(client, items):
    """Plural and scope of every object: from a CRD in the list, else discovery of its apiVersion."""
    from_list = {}
    for item in items:
        if is_crd(item.obj):
            spec = item.obj.get("spec") or {}
            names = spec.get("names") or {}
            for v in spec.get("versions") or []:
                api_version = "%s/%s" % (spec.get("group"), v.get("name"))
                from_list[(api_version, names.get("kind"))] = (names.get("plural"), spec.get("scope") == "Namespaced", item)
    problems = []
    for item in items:
        api_version, kind = item.obj["apiVersion"], item.obj["kind"]
        served = client.resources(api_version)
        crd = from_list.get((api_version, kind))
        if served and kind in served:
            item.plural, item.namespaced = served[kind]
        elif crd:
            item.plural, item.namespaced = crd[0], crd[1]
            item.deferred = "its CustomResourceDefinition %s is applied by this call" % crd[2].meta["name"]
            item.crd = crd[2]
        else:
            problems.append("%s: the server has no kind %s in %s" % (item.name, kind, api_version))
            continue
        if item.namespaced:
            item.meta.setdefault("namespace", item.default_namespace)
        else:
            item.meta.pop("namespace", None)
    if problems:
        raise ValueError("; ".join(problems))
    keys = {}
    for item in items:
        if item.key in keys:
            problems.append("%s is listed twice (objects[%d] and objects[%d])" % (item.name, keys[item.key], item.index))
        keys[item.key] = item.index
    if problems:
        raise ValueError("; ".join(problems))


def _list_live(client, items):
    """One LIST per kind and namespace (paged): {(api_version, plural, namespace): {name: object}}."""
    groups = {}
    for item in items:
        if item.deferred:
            continue
        groups.setdefault((item.obj["apiVersion"], item.plural, item.meta.get("namespace")), []).append(item)
    live = {}
    for (api_version, plural, ns), members in groups.items():
        found = {}
        cont = None
        while True:
            what = "LIST %s%s" % (members[0].obj["kind"], " in namespace %s" % ns if ns else "")
            data = client.request("GET", collection_path(api_version, plural, ns), query=[("limit", "500"), ("continue", cont)], obj=what)
            for obj in (data or {}).get("items") or []:
                # LIST items of built-in kinds carry no apiVersion/kind: put them back (redaction needs them)
                found[obj["metadata"]["name"]] = dict(obj, apiVersion=api_version, kind=members[0].obj["kind"])
            cont = ((data or {}).get("metadata") or {}).get("continue")
            if not cont:
                break
        live[(api_version, plural, ns)] = found
        for item in members:
            item.live = found.get(item.meta["name"])
    # A namespaced object in a Namespace that this call creates cannot be dry-run before it exists.
    new_ns = {i.meta["name"] for i in items if is_namespace(i.obj) and i.live is None}
    for item in items:
        if not item.deferred and item.namespaced and item.meta.get("namespace") in new_ns:
            item.deferred = "its Namespace %s is created by this call" % item.meta["namespace"]
    return live


def _apply(client, item, opts, dry_run, retry_not_found=0):
    query = [("fieldManager", opts["field_manager"]), ("force", "true" if opts["force_conflicts"] else "false")]
    if dry_run:
        query.append(("dryRun", "All"))
    path = object_path(item.obj["apiVersion"], item.plural, item.meta.get("namespace"), item.meta["name"])
    return client.request(
        "PATCH",
        path,
        query=query,
        body=item.obj,
        content_type="application/apply-patch+yaml",
        obj=item.name,
        retry_not_found=retry_not_found,
    )


def _validate(client, items, opts, phase, applied=None, retry_not_found=0):
    errors = []
    for item in items:
        try:
            wait = retry_not_found if item.crd is not None else 0
            item.answer = _apply(client, item, opts, dry_run=True, retry_not_found=wait)
            item.validated = True
        except K8sError as e:
            errors.append(e)
    if errors:
        raise BatchError(phase, errors, applied)


def _wait_established(client, crds, timeout, sleep):
    deadline = time.monotonic() + timeout
    for item in crds:
        name = item.meta["name"]
        path = "/apis/%s/v1/customresourcedefinitions/%s" % (CRD_API, quote(name, safe=""))
        state = item.answer
        while True:
            conds = {c.get("type"): c for c in ((state or {}).get("status") or {}).get("conditions") or []}
            if (conds.get("Established") or {}).get("status") == "True":
                break
            accepted = conds.get("NamesAccepted") or {}
            if accepted.get("status") == "False":
                raise K8sError("GET", path, obj=item.name, message="names not accepted: %s" % accepted.get("message"))
            if time.monotonic() >= deadline:
                raise K8sError("GET", path, obj=item.name, message="not Established within wait_crds_timeout=%ss" % timeout)
            sleep(0.5)
            state = client.request("GET", path, obj=item.name)


def _recheck(client, item):
    """A pending object that exists is read again before it is judged: a controller may have
    written it between the LIST and the dry run (the Deployment controller's revision annotation on
    a new Deployment), and the dry-run answer then differs from the listed object although this
    apply changes nothing. Costs one GET per pending object; a no-op rerun has none."""
    if item.live is None or not item.pending:
        return
    path = object_path(item.obj["apiVersion"], item.plural, item.meta.get("namespace"), item.meta["name"])
    current = client.request("GET", path, obj=item.name, not_found_ok=True)
    if current is None:
        return
    item.live = dict(current, apiVersion=item.obj["apiVersion"], kind=item.obj["kind"])
    item.pending = would_change(item.live, item.answer)


def _write(client, item, opts, retry_not_found=0, written=None):
    """The real apply; ``changed`` when the server's resourceVersion moved and what the server
    stores differs from before (a status written meanwhile moves the resourceVersion too)."""
    item.answer = _apply(client, item, opts, dry_run=False, retry_not_found=retry_not_found)
    if written is not None:
        written.append(item.name)
    before = ((item.live or {}).get("metadata") or {}).get("resourceVersion")
    after = ((item.answer or {}).get("metadata") or {}).get("resourceVersion")
    item.changed = item.live is None or (before != after and would_change(item.live, item.answer))
    item.action = "created" if item.live is None else "configured" if item.changed else "unchanged"


def _prune(client, items, labels, check_mode, written=None):
    """Delete objects of the listed kinds that carry the prune labels and are no longer listed."""
    selector = ",".join("%s=%s" % kv for kv in sorted(labels.items()))
    kept = {(i.obj["apiVersion"], i.obj["kind"], i.meta.get("namespace"), i.meta["name"]) for i in items}
    kinds = {}
    for item in items:
        if item.obj["kind"] not in NEVER_PRUNED:
            kinds.setdefault((item.obj["apiVersion"], item.obj["kind"]), item)
    pruned = []
    for (api_version, kind), sample in kinds.items():
        path = collection_path(api_version, sample.plural)
        data = client.request("GET", path, query=[("labelSelector", selector)], not_found_ok=True, obj="LIST %s to prune" % kind)
        for listed in (data or {}).get("items") or []:
            meta = listed.get("metadata") or {}
            if meta.get("deletionTimestamp"):
                continue
            key = (api_version, kind, meta.get("namespace"), meta.get("name"))
            if key in kept:
                continue
            obj = dict(listed, apiVersion=api_version, kind=kind)
            query = [("propagationPolicy", "Background")]
            if check_mode:
                query.append(("dryRun", "All"))
            path = object_path(api_version, sample.plural, meta.get("namespace"), meta["name"])
            client.request("DELETE", path, query=query, obj=ident(obj), not_found_ok=True)
            pruned.append(obj)
            if written is not None and not check_mode:
                written.append("%s (pruned)" % ident(obj))
    return pruned


def apply_objects(client, objects, opts, check_mode=False, sleep=time.sleep, written=None):
    """Apply ``objects`` server-side in one run. Returns (results, diffs).

    ``written`` (a list), if given, receives the name of every object written, as it is
    written, so a failure later in the run can say what was applied.

    Order: CRDs, then Namespaces, then the rest (list order within each).

    Guarantee for an invalid object: every object is first applied with ``dryRun=All``; if the
    server rejects any, the run fails naming all rejected objects and nothing was written.
    Only objects whose CustomResourceDefinition or Namespace is itself created by this call
    cannot be dry-run before that exists: they are dry-run right after the CRDs and Namespaces
    are written (and before any other object is); if one of them is rejected, only those CRDs
    and Namespaces were written (the error lists them in ``applied``).

    Writes only what the dry run says would change: an object whose dry-run answer equals the
    listed live object is ``unchanged`` without a write.
    """
    labels = parse_selector(opts["prune_selector"]) if opts.get("prune_selector") else None
    items = prepare(objects, opts.get("namespace") or "default", labels)
    client.forget()  # discovery is per run: a previous run may have created CRDs
    _resolve(client, items)
    _list_live(client, items)
    ordered = [items[i] for i in order([it.obj for it in items])]
    ready = [i for i in ordered if not i.deferred]
    deferred = [i for i in ordered if i.deferred]

    _validate(client, ready, opts, "every object, before any write")
    for item in ready:
        item.pending = would_change(item.live, item.answer)
        _recheck(client, item)

    if check_mode:
        for item in ordered:
            if item.deferred:
                item.changed, item.action = True, "created"
            else:
                item.changed = item.pending
                item.action = "created" if item.live is None else "configured" if item.pending else "unchanged"
    else:
        foundation = [i for i in ready if is_crd(i.obj) or is_namespace(i.obj)]
        for item in foundation:
            if item.pending:
                _write(client, item, opts, written=written)
            else:
                item.changed, item.action = False, "unchanged"
        crds = [i for i in foundation if is_crd(i.obj)]
        wait = opts.get("wait_crds_timeout", 60)
        _wait_established(client, crds, wait, sleep)
        if deferred:
            applied = [i.name for i in foundation if i.changed]
            _validate(client, deferred, opts, "objects whose CRD or Namespace this call created", applied, wait)
            for item in deferred:
                item.pending = True
        for item in ordered:
            if item in foundation:
                continue
            if item.pending:
                _write(client, item, opts, retry_not_found=wait if item.crd is not None else 0, written=written)
            else:
                item.changed, item.action = False, "unchanged"
    pruned = _prune(client, ordered, labels, check_mode, written) if labels else []
    return _report(ordered, pruned, check_mode)


def _report(items, pruned, check_mode):
    results = []
    diffs = []
    for item in items:
        after = item.answer if item.answer is not None else item.obj
        before, after_r = redact_pair(clean(item.live), clean(dict(after, apiVersion=item.obj["apiVersion"], kind=item.obj["kind"])))
        paths = changed_paths(before, after_r) if item.action == "configured" else []
        meta = (item.answer or {}).get("metadata") or {}
        live_meta = (item.live or {}).get("metadata") or {}
        results.append(
            dict(
                kind=item.obj["kind"],
                api_version=item.obj["apiVersion"],
                namespace=item.meta.get("namespace"),
                name=item.meta["name"],
                action=item.action,
                changed=item.changed,
                changed_fields=paths,
                validated=item.validated,
                resource_version=(live_meta if check_mode else meta).get("resourceVersion"),
            )
        )
        if item.changed:
            diffs.append(dict(before=before, after=after_r, before_header=item.name, after_header=item.name))
    for obj in pruned:
        meta = obj["metadata"]
        results.append(
            dict(
                kind=obj["kind"],
                api_version=obj["apiVersion"],
                namespace=meta.get("namespace"),
                name=meta["name"],
                action="pruned",
                changed=True,
                changed_fields=[],
                validated=True,
                resource_version=meta.get("resourceVersion"),
            )
        )
        diffs.append(dict(before=redact(clean(obj)), after={}, before_header=ident(obj), after_header="(pruned)"))
    return results, diffs


def redact_params(params):
    """The module's arguments as its ``invocation`` echo shows them: Secret values redacted."""
    out = dict(params)
    out["objects"] = [redact(o) for o in params.get("objects") or []]
    return out
