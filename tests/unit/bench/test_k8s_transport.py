"""The in-cluster Job's report transport: ``upload-k8s`` against a local HTTPS server on
127.0.0.1 that plays the Kubernetes API (self-signed CA, like a pod's service-account CA), the
ConfigMap size limit, ``from-configmap`` and ``render``."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import http.server
import ipaddress
import json
import os
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fakeserver import FakeServer

from bench import k8s
from bench.__main__ import main
from bench.report import schema_errors

TOKEN = "test-sa-token-%s" % os.urandom(4).hex()


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    crt, pem = d / "ca.crt", d / "key.pem"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    tok = d / "token"
    tok.write_text(TOKEN + "\n")
    return {"ca": str(crt), "key": str(pem), "token": str(tok)}


class FakeAPI:
    """An HTTPS server on 127.0.0.1 that records PATCH requests and answers like the API server."""

    def __init__(self, tls, status=200):
        self.requests: list[dict] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_PATCH(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                code = status if self.headers.get("Authorization") == "Bearer " + TOKEN else 401
                out = json.dumps({"kind": "ConfigMap"} if code == 200 else {"kind": "Status", "code": code}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls["ca"], tls["key"])
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def _run_argv(reports, run_id, *extra):
    return [
        "run", "--profile", "concurrency", "--concurrencies", "1,2", "--duration", "0.3", "--output-tokens", "3",
        "--input-tokens", "4", "--reports-dir", str(reports), "--run-id", run_id, "--cooldown", "0", "--model", "m", *extra,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    """A real report from a short run against the fake OpenAI server (plots drawn here)."""
    out = tmp_path_factory.mktemp("reports")
    with FakeServer(tokens=3) as s:
        rc = main(_run_argv(out, "k8s1", "--endpoint", s.url))
    assert rc == 0
    (day,) = os.listdir(out)
    return out / day / "k8s1"


def _upload_argv(api, tls, *extra):
    return [
        "upload-k8s", "--configmap", "bench-report-k8s1", "--namespace", "bench", "--api-host", "127.0.0.1",
        "--api-port", str(api.port), "--token-file", tls["token"], "--ca-file", tls["ca"], *extra,
    ]  # fmt: skip


def test_upload_patches_the_report_configmap(tls, report_dir, capsys, monkeypatch):
    monkeypatch.setenv("BENCH_API_KEY", "sk-secret-never-stored")
    err = report_dir / "stderr.txt"
    err.write_text("step 1/2\nendpoint said: bad key sk-secret-never-stored\n")
    with FakeAPI(tls) as api:
        rc = main(_upload_argv(api, tls, "--exit-code", "0", "--stderr-file", str(err), str(report_dir / "report.json")))
    assert rc == 0, capsys.readouterr().err
    (req,) = api.requests
    assert req["path"] == "/api/v1/namespaces/bench/configmaps/bench-report-k8s1"
    assert req["headers"]["Authorization"] == "Bearer " + TOKEN
    assert req["headers"]["Content-Type"] == "application/merge-patch+json"
    body = json.loads(req["body"])
    assert body["data"]["report.json"] == (report_dir / "report.json").read_text()
    assert body["data"]["exit_code"] == "0"
    assert "sk-secret-never-stored" not in body["data"]["stderr_tail"] and "bad key ***" in body["data"]["stderr_tail"]
    assert "binaryData" not in body
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["encoding"] == "plain"


def test_upload_env_overrides_and_a_rejected_token(tls, report_dir, capsys, monkeypatch):
    bad = report_dir / "bad-token"
    bad.write_text("not-the-token")
    with FakeAPI(tls) as api:
        monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(api.port))
        monkeypatch.setenv("BENCH_K8S_TOKEN_FILE", str(bad))
        monkeypatch.setenv("BENCH_K8S_CA_FILE", tls["ca"])
        rc = main(["upload-k8s", "--configmap", "cm", "--namespace", "ns", str(report_dir / "report.json")])
    assert rc == 4
    assert api.requests[0]["headers"]["Authorization"] == "Bearer not-the-token"
    assert "HTTP 401" in capsys.readouterr().err


def test_upload_checks_the_server_certificate(tls, report_dir, tmp_path, capsys):
    other = tmp_path / "other-ca.crt"
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "other")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key()).serial_number(1)
        .not_valid_before(now).not_valid_after(now + dt.timedelta(hours=1)).sign(key, hashes.SHA256())
    )  # fmt: skip
    other.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    with FakeAPI(tls) as api:
        argv = _upload_argv(api, tls, str(report_dir / "report.json"))
        argv[argv.index("--ca-file") + 1] = str(other)
        rc = main(argv)
    assert rc == 4 and api.requests == []
    assert "CERTIFICATE_VERIFY_FAILED" in capsys.readouterr().err


def test_large_report_travels_gzipped_and_comes_back_byte_for_byte(tls, report_dir, tmp_path, monkeypatch):
    rep = json.loads((report_dir / "report.json").read_text())
    rep["context"]["extra"]["padding"] = "x" * (k8s.PAYLOAD_LIMIT + 10)  # compresses well
    big = tmp_path / "report.json"
    big.write_bytes(json.dumps(rep, indent=1).encode())
    with FakeAPI(tls) as api:
        assert main(_upload_argv(api, tls, str(big))) == 0
    body = json.loads(api.requests[0]["body"])
    assert body["data"]["report.json"] is None  # merge patch removes a plain copy
    assert gzip.decompress(base64.b64decode(body["binaryData"]["report.json.gz"])) == big.read_bytes()
    cm = tmp_path / "cm.json"
    cm.write_text(json.dumps({"metadata": {"name": "bench-report-k8s1"}, "binaryData": body["binaryData"]}))
    out = tmp_path / "collected"
    assert main(["from-configmap", str(cm), "--reports-dir", str(out)]) == 0
    day = dt.datetime.fromisoformat(rep["run"]["started"]).strftime("%Y-%m-%d")
    assert (out / day / "k8s1" / "report.json").read_bytes() == big.read_bytes()


def test_report_over_the_configmap_limit_fails_clearly(tls, tmp_path, capsys):
    big = tmp_path / "report.json"
    big.write_text(json.dumps({"noise": base64.b64encode(os.urandom(k8s.MAX_CONFIGMAP_BYTES)).decode()}))
    with FakeAPI(tls) as api:
        rc = main(_upload_argv(api, tls, str(big)))
    assert rc == 4 and api.requests == []  # nothing sent
    err = capsys.readouterr().err
    assert "more than a ConfigMap holds" in err and "limit %d bytes" % k8s.PAYLOAD_LIMIT in err


def test_a_failed_harness_uploads_its_exit_code_without_a_report(tls, tmp_path):
    err = tmp_path / "stderr.txt"
    err.write_text("ERROR: endpoint http://litellm.litellm.svc:4000/v1 rejected the API key (HTTP 401)\n")
    with FakeAPI(tls) as api:
        assert main(_upload_argv(api, tls, "--exit-code", "2", "--stderr-file", str(err), str(tmp_path / "missing.json"))) == 0
    body = json.loads(api.requests[0]["body"])
    assert body == {"data": {"exit_code": "2", "stderr_tail": err.read_text()}}
    cm = tmp_path / "cm.json"
    cm.write_text(json.dumps({"metadata": {"name": "bench-report-x"}, "data": body["data"]}))
    assert main(["from-configmap", str(cm), "--reports-dir", str(tmp_path / "r")]) == 5


def test_upload_refuses_a_missing_report_after_a_successful_run(tls, tmp_path, capsys):
    with FakeAPI(tls) as api:
        assert main(_upload_argv(api, tls, "--exit-code", "0", str(tmp_path / "missing.json"))) == 4
    assert api.requests == [] and "no report at" in capsys.readouterr().err


def test_empty_configmap_has_no_report(tmp_path, capsys):
    cm = tmp_path / "cm.json"
    cm.write_text(json.dumps({"metadata": {"name": "bench-report-r1"}}))
    assert main(["from-configmap", str(cm), "--reports-dir", str(tmp_path)]) == 5
    assert "bench-report-r1 holds no report" in capsys.readouterr().err


def test_render_writes_markdown_and_plots_from_a_report(report_dir, tmp_path):
    """A Job's report (run with --no-plots) is rendered on the host into the same files."""
    with FakeServer(tokens=3) as s:
        rc = main(_run_argv(tmp_path, "job1", "--endpoint", s.url, "--no-plots", "--no-requests"))
    assert rc == 0
    (day,) = os.listdir(tmp_path)
    d = tmp_path / day / "job1"
    assert sorted(os.listdir(d)) == ["report.json", "report.md"]
    pod_report = json.loads((d / "report.json").read_text())
    assert pod_report["plots"] == [] and "rendered on the control host" in pod_report["plots_note"]
    (d / "report.md").unlink()
    assert main(["render", str(d / "report.json")]) == 0
    assert sorted(os.listdir(d)) == ["latency_vs_throughput.png", "report.json", "report.md"]
    assert (d / "latency_vs_throughput.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rendered = json.loads((d / "report.json").read_text())
    assert rendered["plots"] == ["latency_vs_throughput.png"] and "plots_note" not in rendered
    assert schema_errors(rendered) == []
    assert {k: v for k, v in rendered.items() if k not in ("plots", "plots_note")} == {
        k: v for k, v in pod_report.items() if k not in ("plots", "plots_note")
    }
    md = (d / "report.md").read_text()
    assert "![latency_vs_throughput](latency_vs_throughput.png)" in md and "| 1 concurrency 2 |" in md


def test_render_of_a_host_report_changes_nothing_but_rewrites_the_same_files(report_dir, tmp_path):
    """The host path's files come out the same when rendered again from its report.json."""
    before = {f: (report_dir / f).read_bytes() for f in ("report.json", "report.md")}
    out = tmp_path / "again"
    assert main(["render", str(report_dir / "report.json"), "--out-dir", str(out)]) == 0
    assert (out / "report.md").read_bytes() == before["report.md"]
    assert json.loads((out / "report.json").read_bytes()) == json.loads(before["report.json"])
    assert sorted(p for p in os.listdir(out) if p.endswith(".png")) == sorted(p for p in os.listdir(report_dir) if p.endswith(".png"))


def test_render_rejects_a_broken_report(tmp_path, capsys):
    p = tmp_path / "report.json"
    p.write_text(json.dumps({"schema_version": "1.0"}))
    assert main(["render", str(p)]) == 2
    assert "does not match its schema" in capsys.readouterr().err


def test_job_image_pins_match_the_project_lock():
    """bench/requirements-job.txt pins the same versions as requirements.txt."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

    def pins(path):
        out = {}
        with open(path, encoding="utf-8") as fh:
            for raw in fh:
                pin = raw.split("#")[0].strip()
                if pin:
                    name, _, version = pin.partition("==")
                    out[name.lower().replace("_", "-")] = version
        return out

    job = pins(os.path.join(root, "bench", "requirements-job.txt"))
    lock = pins(os.path.join(root, "requirements.txt"))
    assert {"aiohttp", "uvloop"} <= set(job)
    assert job == {n: lock.get(n) for n in job}
