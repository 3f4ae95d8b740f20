"""Report transport of the in-cluster Job runner (stdlib only: the Job image needs no Kubernetes
client).

Inside the pod, ``upload-k8s`` PATCHes report.json into a ConfigMap the bench role pre-created
(its ServiceAccount may only get/update/patch that one ConfigMap), using the pod's service-account
token and CA and ``KUBERNETES_SERVICE_HOST``/``PORT``. On the control host, ``from-configmap``
turns the ConfigMap the role read back into ``<reports_dir>/<YYYY-MM-DD>/<run id>/report.json``,
the same place the host runner writes it.

ConfigMap keys written (all under ``data`` except the compressed report):
  report.json       the report as is, when the ConfigMap stays under the size limit
  report.json.gz    (binaryData) gzip of the report, when the plain text would not fit
  exit_code         the harness's exit code
  stderr_tail       the last lines of the harness's stderr (the API key redacted)
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
# etcd/apiserver limit of one ConfigMap is 1 MiB (data + binaryData + metadata); keep headroom
# for metadata and the JSON/base64 encoding of the PATCH body.
MAX_CONFIGMAP_BYTES = 1024 * 1024
PAYLOAD_LIMIT = MAX_CONFIGMAP_BYTES - 16 * 1024
STDERR_TAIL_BYTES = 4096


class UploadError(RuntimeError):
    """The report could not be stored in the ConfigMap."""


class NoReport(RuntimeError):
    """The ConfigMap holds no report."""


def payload(report_bytes: bytes | None, exit_code: int | None = None, stderr_tail: str | None = None) -> dict:
    """The merge-patch body for the report ConfigMap. Raises UploadError when even the gzip of
    the report exceeds the ConfigMap limit."""
    data: dict = {}
    binary: dict = {}
    if exit_code is not None:
        data["exit_code"] = str(exit_code)
    if stderr_tail:
        data["stderr_tail"] = stderr_tail
    if report_bytes is not None:
        json.loads(report_bytes)  # only a JSON document is uploaded
        if len(report_bytes) + sum(len(v) for v in data.values()) <= PAYLOAD_LIMIT:
            data["report.json"] = report_bytes.decode("utf-8")
        else:
            gz = base64.b64encode(gzip.compress(report_bytes, mtime=0)).decode("ascii")
            if len(gz) + sum(len(v) for v in data.values()) > PAYLOAD_LIMIT:
                raise UploadError(
                    "report.json is %d bytes, %d bytes gzip+base64: more than a ConfigMap holds (limit %d bytes). "
                    "Use fewer or shorter load steps." % (len(report_bytes), len(gz), PAYLOAD_LIMIT)
                )
            binary["report.json.gz"] = gz
            data["report.json"] = None  # merge patch: drop a stale plain copy
    body: dict = {"data": data}
    if binary:
        body["binaryData"] = binary
    return body


def redact(text: str, secrets: list[str]) -> str:
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    return text


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        return fh.read().strip()


def api_base(host: str | None = None, port: str | None = None) -> str:
    host = host or os.environ.get("KUBERNETES_SERVICE_HOST")
    port = port or os.environ.get("KUBERNETES_SERVICE_PORT") or "443"
    if not host:
        raise UploadError("KUBERNETES_SERVICE_HOST is not set (not in a pod?); pass --api-host")
    if ":" in host and not host.startswith("["):
        host = "[%s]" % host  # IPv6 service address
    return "https://%s:%s" % (host, port)


def patch_configmap(base: str, namespace: str, name: str, body: dict, token: str, ca_file: str, timeout: float = 30.0) -> dict:
    """PATCH (JSON merge patch) one ConfigMap; returns the API's answer."""
    url = "%s/api/v1/namespaces/%s/configmaps/%s" % (base, urllib.parse.quote(namespace), urllib.parse.quote(name))
    req = urllib.request.Request(  # noqa: S310 (api_base builds an https URL)
        url,
        data=json.dumps(body).encode("utf-8"),
        method="PATCH",
        headers={
            "Authorization": "Bearer " + token,
            "Content-Type": "application/merge-patch+json",
            "Accept": "application/json",
            "User-Agent": "llm-platform-bench",
        },
    )
    ctx = ssl.create_default_context(cafile=ca_file)
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=ctx) as resp:  # noqa: S310 (https only)
            return json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:500].decode("utf-8", "replace")
        raise UploadError("PATCH configmaps/%s in %s: HTTP %d: %s" % (name, namespace, exc.code, detail)) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise UploadError("PATCH configmaps/%s in %s: %s" % (name, namespace, exc)) from exc


def upload(
    report_path: str | None,
    namespace: str | None,
    name: str,
    exit_code: int | None = None,
    stderr_file: str | None = None,
    api_host: str | None = None,
    api_port: str | None = None,
    token_file: str | None = None,
    ca_file: str | None = None,
    redact_env: str = "BENCH_API_KEY",
) -> dict:
    """Upload the report (and the harness's exit code and stderr tail) into ConfigMap ``name``.
    A missing report file is not an error when the harness failed: the exit code and stderr
    still travel, so the control host can say why."""
    token_file = token_file or os.environ.get("BENCH_K8S_TOKEN_FILE") or os.path.join(SA_DIR, "token")
    ca_file = ca_file or os.environ.get("BENCH_K8S_CA_FILE") or os.path.join(SA_DIR, "ca.crt")
    namespace = namespace or os.environ.get("POD_NAMESPACE") or _read(os.path.join(SA_DIR, "namespace"))
    report_bytes = None
    if report_path and os.path.isfile(report_path):
        with open(report_path, "rb") as fh:
            report_bytes = fh.read()
    elif exit_code in (None, 0, 3):
        raise UploadError("no report at %s" % report_path)
    tail = None
    if stderr_file and os.path.isfile(stderr_file):
        with open(stderr_file, "rb") as fh:
            raw = fh.read()[-STDERR_TAIL_BYTES:]
        tail = redact(raw.decode("utf-8", "replace"), [os.environ.get(redact_env, "")])
    body = payload(report_bytes, exit_code, tail)
    patch_configmap(api_base(api_host, api_port), namespace, name, body, _read(token_file), ca_file)
    return {
        "configmap": "%s/%s" % (namespace, name),
        "report_bytes": len(report_bytes or b""),
        "encoding": "gzip+base64" if "binaryData" in body else ("plain" if report_bytes is not None else "none"),
    }


def report_from_configmap(cm: dict) -> bytes:
    """The report bytes a ConfigMap (as returned by the API) holds; NoReport when none."""
    data = cm.get("data") or {}
    binary = cm.get("binaryData") or {}
    if binary.get("report.json.gz"):
        return gzip.decompress(base64.b64decode(binary["report.json.gz"]))
    if data.get("report.json"):
        return data["report.json"].encode("utf-8")
    raise NoReport("ConfigMap %s holds no report" % ((cm.get("metadata") or {}).get("name") or "?"))


def collect(configmap_json: str, reports_dir: str) -> dict:
    """Write the report of a ConfigMap (a JSON file of the object) to
    ``<reports_dir>/<YYYY-MM-DD of the run's start>/<run id>/report.json``, byte for byte."""
    with open(configmap_json, encoding="utf-8") as fh:
        cm = json.load(fh)
    cm = cm.get("resources", [cm])[0] if "resources" in cm else cm
    raw = report_from_configmap(cm)
    report = json.loads(raw)
    run_id = report["run"]["id"]
    if not run_id or "/" in run_id or run_id in (".", ".."):
        raise ValueError("report run id %r is not a folder name" % run_id)
    day = dt.datetime.fromisoformat(report["run"]["started"]).astimezone(dt.UTC).strftime("%Y-%m-%d")
    run_dir = os.path.join(reports_dir, day, run_id)
    os.makedirs(run_dir, exist_ok=True)
    path = os.path.join(run_dir, "report.json")
    with open(path, "wb") as fh:
        fh.write(raw)
    return {
        "run_id": run_id,
        "run_dir": os.path.abspath(run_dir),
        "report": os.path.abspath(path),
        "prometheus": (report.get("prometheus") or {}).get("status"),
    }
