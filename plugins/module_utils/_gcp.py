# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to the llm.platform collection: a small REST client for the Google Cloud APIs
the GKE substrate needs (GKE, IAM, Cloud Resource Manager, Service Usage, Secret Manager,
Compute for the teardown audit).

* Credentials: Application Default Credentials, a service-account key file or JSON, a
  short-lived access token, or anonymous (API test servers only). Never printed.
* Retries with exponential backoff (and Retry-After) on 429, 5xx and connection errors,
  and on GKE's "incompatible operation in progress" precondition.
* Long-running operations (GKE ``status: DONE``, Service Usage ``done: true``) polled
  with a recorded progress trail and a timeout.
* API errors mapped to clear messages: a quota error names the quota.

Not a public API: modules of this collection only.
"""

from __future__ import annotations

import json
import random
import re
import time

try:
    import google.auth
    import google.auth.credentials
    import google.auth.exceptions
    import google.oauth2.credentials
    import google.oauth2.service_account
    from google.auth.transport.requests import AuthorizedSession

    HAS_GOOGLE_AUTH = True
    GOOGLE_AUTH_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported through missing_required_lib
    HAS_GOOGLE_AUTH = False
    GOOGLE_AUTH_IMPORT_ERROR = exc

try:
    import requests

    HAS_REQUESTS = True
except ImportError:  # pragma: no cover
    HAS_REQUESTS = False

from ansible.module_utils.basic import env_fallback, missing_required_lib

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"

# Service name -> production base URL. An override (``api_endpoint``) replaces them
# all; a ``{service}`` placeholder in the override is replaced by the service name.
ENDPOINTS = {
    "container": "https://container.googleapis.com",
    "iam": "https://iam.googleapis.com",
    "cloudresourcemanager": "https://cloudresourcemanager.googleapis.com",
    "serviceusage": "https://serviceusage.googleapis.com",
    "secretmanager": "https://secretmanager.googleapis.com",
    "compute": "https://compute.googleapis.com",
}

RETRY_STATUS = frozenset((429, 500, 502, 503, 504))
MUTATING = frozenset(("POST", "PUT", "PATCH", "DELETE"))
# GKE answers 400 FAILED_PRECONDITION while another operation runs on the cluster.
_BUSY = re.compile(r"incompatible operation|operation .* is currently|already an operation|please try again", re.I)
_QUOTA_PATTERNS = (
    re.compile(r"Quota '([A-Za-z0-9_.\-/]+)' exceeded"),
    re.compile(r"resource \"([A-Za-z0-9_.\-/]+)\""),
    re.compile(r"quota metric '([^']+)'", re.I),
    re.compile(r"\[([A-Z0-9_]+)\] quota", re.I),
    re.compile(r"([A-Z][A-Z0-9_]{3,}) quota", re.I),
)


def gcp_argument_spec():
    """Connection options shared by every GCP module (see doc fragment llm.platform.gcp)."""
    return {
        "auth_kind": {
            "type": "str",
            "default": "application",
            "choices": ["application", "serviceaccount", "accesstoken", "anonymous"],
            "fallback": (env_fallback, ["GCP_AUTH_KIND"]),
        },
        "service_account_file": {"type": "path", "fallback": (env_fallback, ["GCP_SERVICE_ACCOUNT_FILE"])},
        "service_account_contents": {"type": "jsonarg", "no_log": True, "fallback": (env_fallback, ["GCP_SERVICE_ACCOUNT_CONTENTS"])},
        "access_token": {"type": "str", "no_log": True, "fallback": (env_fallback, ["GCP_ACCESS_TOKEN"])},
        "scopes": {"type": "list", "elements": "str", "default": [CLOUD_PLATFORM_SCOPE]},
        "api_endpoint": {"type": "str", "fallback": (env_fallback, ["LLM_PLATFORM_GCP_API_ENDPOINT"])},
        "request_timeout": {"type": "int", "default": 60},
        "retries": {"type": "int", "default": 6},
        "retry_backoff": {"type": "float", "default": 1.0, "fallback": (env_fallback, ["LLM_PLATFORM_GCP_RETRY_BACKOFF"])},
        "operation_timeout": {"type": "int", "default": 1800},
        "poll_interval": {"type": "float", "default": 5.0, "fallback": (env_fallback, ["LLM_PLATFORM_GCP_POLL_INTERVAL"])},
    }


class GcpError(Exception):
    """An API call or an operation failed; carries a structured ``failure`` dict."""

    def __init__(self, message, status=None, code=None, reason=None, quota=None, details=None, request=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.reason = reason
        self.quota = quota
        self.details = details
        self.request = request

    def failure(self):
        out = {"status": self.status, "code": self.code, "reason": self.reason, "message": self.message}
        if self.quota:
            out["quota"] = self.quota
        if self.request:
            out["request"] = self.request
        if self.details:
            out["details"] = self.details
        return out


def _quota_name(message, details):
    for detail in details or []:
        meta = detail.get("metadata") or {}
        for key in ("quota_metric", "quota_limit", "quota_id", "quotaMetric"):
            if meta.get(key):
                return meta[key]
        for violation in detail.get("violations") or []:
            for key in ("quotaMetric", "quotaId", "subject"):
                if violation.get(key):
                    return violation[key]
    for pattern in _QUOTA_PATTERNS:
        found = pattern.search(message or "")
        if found:
            return found.group(1)
    return None


def is_quota_error(status, code, message, details):
    if code == "RESOURCE_EXHAUSTED" and status != 429:
        return True
    reasons = {d.get("reason") for d in details or []}
    if reasons & {"QUOTA_EXCEEDED", "RESOURCE_EXHAUSTED", "rateLimitExceeded"} and status != 429:
        return True
    text = (message or "").lower()
    return "quota" in text and ("exceeded" in text or "insufficient" in text)


def map_error(status, payload, request=None):
    """Turn an API error (HTTP status + Google error JSON) into a GcpError with a clear message."""
    err = (payload or {}).get("error") if isinstance(payload, dict) else None
    if not isinstance(err, dict):
        err = {"message": payload if isinstance(payload, str) else json.dumps(payload)}
    message = err.get("message") or "HTTP %s" % status
    code = err.get("status")
    details = err.get("details") or []
    reason = next((d.get("reason") for d in details if d.get("reason")), None)
    where = "%s %s" % (request["method"], request["path"]) if request else "the request"
    if is_quota_error(status, code, message, details):
        quota = _quota_name(message, details) or "unknown quota"
        text = "Quota exceeded: %s. %s (raise it under IAM & Admin > Quotas, or choose another location or machine/accelerator type)" % (
            quota,
            message,
        )
        return GcpError(text, status, code or "RESOURCE_EXHAUSTED", reason or "QUOTA_EXCEEDED", quota, details, request)
    if reason == "SERVICE_DISABLED" or "has not been used in project" in message or "it is disabled" in message:
        service = next(((d.get("metadata") or {}).get("service") for d in details if d.get("metadata")), None)
        text = "API %s is not enabled: %s (enable it with llm.platform.gcp_service)" % (service or "", message)
        return GcpError(text, status, code, reason or "SERVICE_DISABLED", None, details, request)
    if status == 401:
        text = "Not authenticated (%s): check auth_kind and the credentials (ADC, key file or token)" % message
        return GcpError(text, status, code or "UNAUTHENTICATED", reason, None, details, request)
    if status == 403:
        text = "Permission denied for %s: %s" % (where, message)
        return GcpError(text, status, code or "PERMISSION_DENIED", reason, None, details, request)
    return GcpError("%s failed (HTTP %s %s): %s" % (where, status, code or "", message), status, code, reason, None, details, request)


class GcpClient:
    """REST client over google-auth with retries, operation polling and a request log."""

    def __init__(self, params, session=None, sleep=time.sleep, clock=time.monotonic, log=None):
        self.params = params

        def opt(name, default):
            value = params.get(name)
            return default if value is None else value

        self.timeout = opt("request_timeout", 60)
        self.retries = max(0, opt("retries", 6))
        self.backoff = float(opt("retry_backoff", 1.0))
        self.operation_timeout = opt("operation_timeout", 1800)
        self.poll_interval = float(opt("poll_interval", 5.0))
        self.endpoint = params.get("api_endpoint")
        self.sleep = sleep
        self.clock = clock
        self.log = log or (lambda msg: None)
        self.requests = []  # mutating requests sent: method, service, path, body
        self.operations = []  # long-running operations waited for, with progress
        self.retried = 0
        self.session = session or AuthorizedSession(self._credentials())

    # ------------------------------------------------------------------ credentials
    def _credentials(self):
        kind = self.params.get("auth_kind") or "application"
        scopes = self.params.get("scopes") or [CLOUD_PLATFORM_SCOPE]
        try:
            if kind == "anonymous":
                return google.auth.credentials.AnonymousCredentials()
            if kind == "accesstoken":
                token = self.params.get("access_token")
                if not token:
                    raise GcpError("auth_kind=accesstoken needs access_token (or GCP_ACCESS_TOKEN)")
                return google.oauth2.credentials.Credentials(token)
            if kind == "serviceaccount":
                contents = self.params.get("service_account_contents")
                if contents:
                    info = json.loads(contents) if isinstance(contents, str) else contents
                    return google.oauth2.service_account.Credentials.from_service_account_info(info, scopes=scopes)
                path = self.params.get("service_account_file")
                if not path:
                    raise GcpError("auth_kind=serviceaccount needs service_account_file or service_account_contents")
                return google.oauth2.service_account.Credentials.from_service_account_file(path, scopes=scopes)
            credentials, _project = google.auth.default(scopes=scopes)
            return credentials
        except GcpError:
            raise
        except Exception as exc:  # google.auth raises several types; never echo key material
            raise GcpError("Could not load %s credentials: %s" % (kind, type(exc).__name__ + ": " + str(exc)[:200])) from None

    def access_token(self):
        """A short-lived OAuth access token from the configured credentials (never logged)."""
        creds = self.session.credentials
        if isinstance(creds, google.auth.credentials.AnonymousCredentials):
            return None
        if not creds.valid:
            creds.refresh(google.auth.transport.requests.Request())
        return creds.token

    # ------------------------------------------------------------------ requests
    def url(self, service, path):
        base = self.endpoint.rstrip("/").replace("{service}", service) if self.endpoint else ENDPOINTS[service]
        return base + "/" + path.lstrip("/")

    def request(self, method, service, path, body=None, params=None, allow=(), retry_busy=True, read=False, redact=False):
        """Send one request; returns (status, json). Raises GcpError unless status in ``allow``.

        Mutating requests (not marked ``read``) are recorded in ``self.requests``; with
        ``redact`` (a body carrying a secret) the record and any error hold no body."""
        method = method.upper()
        url = self.url(service, path)
        entry = {"method": method, "service": service, "path": "/" + path.lstrip("/")}
        if params:
            entry["params"] = params
        if body is not None:
            entry["body"] = "(redacted)" if redact else body
        if method in MUTATING and not read:
            self.requests.append(entry)
        attempt = 0
        while True:
            try:
                resp = self.session.request(method, url, json=body, params=params, timeout=self.timeout)
                status = resp.status_code
                try:
                    payload = resp.json() if resp.content else {}
                except ValueError:
                    payload = resp.text
                retry_after = resp.headers.get("Retry-After")
            except requests.exceptions.RequestException as exc:
                status, payload, retry_after = None, "connection error: %s" % type(exc).__name__, None
            except google.auth.exceptions.GoogleAuthError as exc:  # the token exchange itself failed
                raise GcpError(
                    "Could not get an access token (%s credentials): %s: %s"
                    % (self.params.get("auth_kind") or "application", type(exc).__name__, str(exc)[:300]),
                    status=401,
                    code="UNAUTHENTICATED",
                    request=entry,
                ) from None
            busy = (
                retry_busy
                and status in (400, 409)
                and isinstance(payload, dict)
                and (payload.get("error") or {}).get("status") == "FAILED_PRECONDITION"
                and _BUSY.search((payload.get("error") or {}).get("message") or "")
            )
            if status is not None and 200 <= status < 300:
                return status, payload
            if status in allow:
                return status, payload
            retryable = status is None or status in RETRY_STATUS or busy
            if retryable and attempt < self.retries:
                delay = self._delay(attempt, retry_after)
                self.log("GCP %s %s -> %s, retry %d in %.2fs" % (method, entry["path"], status, attempt + 1, delay))
                self.retried += 1
                attempt += 1
                self.sleep(delay)
                continue
            if status is None:
                raise GcpError("%s %s: %s after %d attempts" % (method, url, payload, attempt + 1), request=entry)
            raise map_error(status, payload, entry)

    def _delay(self, attempt, retry_after):
        if retry_after:
            try:
                return min(float(retry_after), 60.0)
            except ValueError:
                pass
        return min(self.backoff * (2**attempt), 60.0) * (0.5 + random.random() / 2)  # noqa: S311 - jitter

    def get(self, service, path, params=None):
        """GET a resource; None when it does not exist (404)."""
        status, payload = self.request("GET", service, path, params=params, allow=(404,))
        return None if status == 404 else payload

    # ------------------------------------------------------------------ operations
    def wait_gke(self, project, location, operation, what=""):
        """Poll a GKE operation until DONE; raise GcpError on an operation error or timeout."""
        name = operation.get("name")
        path = "v1/projects/%s/locations/%s/operations/%s" % (project, location, name)
        return self._wait(operation, lambda: self.get("container", path), _gke_done, _gke_error, what or name)

    def wait_compute(self, project, region, operation, what=""):
        """Poll a Compute Engine regional operation until DONE."""
        path = "compute/v1/projects/%s/regions/%s/operations/%s" % (project, region, operation.get("name"))
        return self._wait(operation, lambda: self.get("compute", path), _gke_done, _compute_error, what or operation.get("name"))

    def wait_lro(self, service, operation, what=""):
        """Poll a google.longrunning Operation (Service Usage) until done."""
        if operation.get("done"):
            return self._wait(operation, None, _lro_done, _lro_error, what or operation.get("name"))
        path = "v1/" + operation["name"]
        return self._wait(operation, lambda: self.get(service, path), _lro_done, _lro_error, what or operation["name"])

    def _wait(self, operation, fetch, done, error, what):
        start = self.clock()
        record = {"name": operation.get("name"), "what": what, "type": operation.get("operationType"), "polls": 0, "progress": []}
        self.operations.append(record)
        op = operation
        while True:
            record["progress"].append(_progress(op))
            if done(op):
                record["status"] = "DONE"
                message = error(op)
                if message:
                    status = (op.get("error") or {}).get("code") if isinstance(op.get("error"), dict) else None
                    details = (op.get("error") or {}).get("details") if isinstance(op.get("error"), dict) else None
                    if is_quota_error(None, None, message, details):
                        mapped = map_error(
                            status or 403, {"error": {"message": message, "status": "RESOURCE_EXHAUSTED", "details": details or []}}
                        )
                        mapped.message = "Operation %s (%s) failed. %s" % (record["name"], what, mapped.message)
                        raise mapped
                    raise GcpError("Operation %s (%s) failed: %s" % (record["name"], what, message), status=status, details=details)
                return op
            if fetch is None:
                return op
            if self.clock() - start > self.operation_timeout:
                raise GcpError(
                    "Timed out after %ss waiting for operation %s (%s); last progress: %s. It may still complete: "
                    "re-run to pick it up." % (self.operation_timeout, record["name"], what, record["progress"][-1])
                )
            self.sleep(self.poll_interval)
            record["polls"] += 1
            op = fetch() or op
            self.log("GCP operation %s: %s" % (record["name"], record["progress"][-1]))


def _gke_done(op):
    return op.get("status") == "DONE"


def _gke_error(op):
    err = op.get("error")
    if isinstance(err, dict) and (err.get("message") or err.get("code")):
        return err.get("message") or "code %s" % err.get("code")
    if op.get("statusMessage") and op.get("status") == "DONE" and "error" in op.get("statusMessage", "").lower():
        return op["statusMessage"]
    return None


def _compute_error(op):
    errors = ((op.get("error") or {}).get("errors")) or []
    if errors:
        return "; ".join("%s: %s" % (e.get("code"), e.get("message")) for e in errors)
    return None


def _lro_done(op):
    return bool(op.get("done"))


def _lro_error(op):
    err = op.get("error")
    if isinstance(err, dict) and err:
        return err.get("message") or "code %s" % err.get("code")
    return None


def _progress(op):
    """A short human-readable progress line for an operation snapshot."""
    status = op.get("status") or ("DONE" if op.get("done") else "RUNNING")
    progress = op.get("progress")
    if isinstance(progress, int):  # Compute Engine operations: a percentage
        return "%s %d%%" % (status, progress)
    metrics = ((progress or {}).get("metrics")) or []
    parts = []
    for metric in metrics:
        value = metric.get("intValue", metric.get("doubleValue", metric.get("stringValue")))
        parts.append("%s=%s" % (metric.get("name"), value))
    return status + ((" " + ", ".join(parts)) if parts else "")


class GcpModule:
    """Helpers shared by the GCP modules: client construction, failing with a structured failure."""

    def __init__(self, module):
        self.module = module
        if not HAS_GOOGLE_AUTH:
            module.fail_json(msg=missing_required_lib("google-auth"), exception=str(GOOGLE_AUTH_IMPORT_ERROR))
        if not HAS_REQUESTS:
            module.fail_json(msg=missing_required_lib("requests"))
        try:
            self.client = GcpClient(module.params, log=module.log)
        except GcpError as exc:
            module.fail_json(msg=exc.message, failure=exc.failure())

    def fail(self, exc, **result):
        result.setdefault("requests", self.client.requests)
        result.setdefault("operations", self.client.operations)
        self.module.fail_json(msg=exc.message, failure=exc.failure(), **result)

    def exit(self, **result):
        result.setdefault("requests", self.client.requests)
        result.setdefault("operations", self.client.operations)
        self.module.exit_json(**result)


def prune(value):
    """Drop None values (recursively) so only what the user set is compared and sent."""
    if isinstance(value, dict):
        return {k: prune(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [prune(v) for v in value]
    return value
