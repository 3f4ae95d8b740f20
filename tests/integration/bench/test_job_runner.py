"""The bench role's in-cluster Job runner (bench_runner: job) against the lab: a real
kube-apiserver, controller-manager and scheduler with kwok nodes (kwok runs no containers; its
default stages complete a scheduled Job pod, so the Job controller marks the Job Complete).

Happy path: playbooks/bench.yml applies the objects with a node selector no node carries, so the
pod stays Pending. The test then acts as the pod: a TokenRequest token of the Job's
ServiceAccount, the lab CA and KUBERNETES_SERVICE_HOST/PORT pointed at the lab API, and the very
same ``python -m bench upload-k8s`` uploads a real report (from a short run against
llm-d-inference-sim in the bench tests' network namespace). RBAC is real: the token must be
refused every other ConfigMap and the key Secret. Labelling one node lets the scheduler place
the pod, kwok completes it, and the role collects, renders and validates the report, then
deletes every object. Container command: the test plays the kubelet (source ConfigMap laid out
by the volume items, env from the container spec, the container's own shell line) against a
small OpenAI-compatible server, so the Job's command, the ConfigMap copy of the harness and the
host-side plot rendering are exercised too. Failure path: activeDeadlineSeconds with a pod kept
Pending makes the Job controller fail the Job (DeadlineExceeded); the play fails naming the Job
and still cleans up.

Everything dials 127.0.0.1 only (the lab API on 127.0.0.1:16443; the simulator inside its own
network namespace)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import ssl
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import uuid

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lab"))

import benchkit  # noqa: E402
import labkit  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "unit", "bench"))
from fakeserver import FakeServer  # noqa: E402

pytestmark = [pytest.mark.bench, pytest.mark.lab, pytest.mark.slow]

# One namespace per test session (created by the role, deleted at the end): concurrent runs of
# this module on the shared lab never touch each other's objects.
NAMESPACE = "bench-it-%s" % uuid.uuid4().hex[:6]
IMAGE = "registry.invalid/llm-platform/bench@sha256:" + "5e" * 32  # well-formed; kwok pulls nothing
KINDS = "jobs.batch,secrets,configmaps,serviceaccounts,roles.rbac.authorization.k8s.io,rolebindings.rbac.authorization.k8s.io"


@pytest.fixture(scope="module")
def lab():
    if not labkit.ready():
        pytest.fail(
            "the lab is not running at %s; start it with: MOLECULE_GLOB='molecule/*/molecule.yml' molecule create -s default"
            % labkit.KUBECONFIG
        )
    yield labkit
    labkit.kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=false", check=False)


@pytest.fixture(scope="module")
def lab_ca(lab, tmp_path_factory):
    """The lab API's CA as a file (what a pod finds at .../serviceaccount/ca.crt)."""
    with open(lab.KUBECONFIG, encoding="utf-8") as fh:
        cfg = yaml.safe_load(fh)
    cluster = cfg["clusters"][0]["cluster"]
    assert labkit.url_is_loopback(cluster["server"]), cluster["server"]
    path = tmp_path_factory.mktemp("ca") / "ca.crt"
    if cluster.get("certificate-authority-data"):
        path.write_bytes(base64.b64decode(cluster["certificate-authority-data"]))
    else:
        ca = cluster["certificate-authority"]
        with open(ca if os.path.isabs(ca) else os.path.join(os.path.dirname(lab.KUBECONFIG), ca), "rb") as fh:
            path.write_bytes(fh.read())
    return str(path)


def _run_id(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:6])


def _extra_vars(run_id, reports, **over):
    ev = {
        "bench_runner": "job",
        "bench_key_mode": "existing",
        "bench_job_image": IMAGE,
        "bench_job_namespace": NAMESPACE,
        "bench_run_id": run_id,
        "bench_reports_dir": str(reports),
        "bench_job_poll_seconds": 1,
        "bench_timeout_seconds": 300,
        "bench_profile": "concurrency",
        "bench_concurrencies": [1],
        "bench_prometheus_url": "",
        "bench_prometheus_required": False,
    }
    ev.update(over)
    return ev


class Playbook:
    """playbooks/bench.yml in the background (host network namespace, -v), output to a file."""

    def __init__(self, extra_vars, key, log):
        exe = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
        env = dict(
            os.environ,
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_FORCE_COLOR="0",
            ANSIBLE_CONFIG=os.path.join(labkit.REPO_ROOT, "ansible.cfg"),
            BENCH_API_KEY=key,
        )
        self.log = log
        self._fh = open(log, "wb")  # noqa: SIM115 (closed in wait())
        cmd = [exe, "-i", labkit.INVENTORY, "playbooks/bench.yml", "-v", "-e", json.dumps(extra_vars), *labkit.lab_extra_vars()]
        self.p = subprocess.Popen(cmd, cwd=labkit.REPO_ROOT, env=env, stdout=self._fh, stderr=subprocess.STDOUT)

    def wait(self, timeout=600):
        try:
            self.p.wait(timeout)
        finally:
            if self.p.poll() is None:
                self.p.kill()
                self.p.wait(10)
            self._fh.close()
        with open(self.log, encoding="utf-8", errors="replace") as fh:
            return self.p.returncode, fh.read()

    def release_and_wait(self, label, timeout=600):
        """Label an untainted node with the Job's selector so the scheduler places the held pod
        (kwok then completes it and the Job becomes Complete), wait for the play, unlabel."""
        node = _schedulable_node()
        labkit.kubectl("label", "node", node, "llm.platform/bench-test=" + label, "--overwrite")
        try:
            return self.wait(timeout)
        finally:
            labkit.kubectl("label", "node", node, "llm.platform/bench-test-", check=False)

    def running(self):
        return self.p.poll() is None

    def stop(self):
        """After a failed assertion: end the play (its always section does not run then; the
        namespace of this module is deleted at the end)."""
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait(10)
        self._fh.close()


def _api(method, path, token, ca, body=None):
    """One request to the lab API as the pod would make it; returns the HTTP status."""
    req = urllib.request.Request(  # noqa: S310 (https to 127.0.0.1 only)
        "https://127.0.0.1:%d%s" % (labkit.PORT, path),
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/merge-patch+json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=15, context=ssl.create_default_context(cafile=ca)) as resp:  # noqa: S310
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _leftovers(run_id):
    out = labkit.kubectl("get", KINDS, "-n", NAMESPACE, "-l", "llm.platform/bench-run=" + run_id, "-o", "name", check=False)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def _schedulable_node():
    for node in labkit.kubectl_json("get", "nodes")["items"]:
        taints = [t for t in node["spec"].get("taints") or [] if t.get("effect") in ("NoSchedule", "NoExecute")]
        if not taints and not node["spec"].get("unschedulable"):
            return node["metadata"]["name"]
    raise AssertionError("no untainted lab node to place the bench pod on")


@pytest.fixture(scope="module")
def sim_report(bench, sim, workdir):
    """A real report.json from a short run against llm-d-inference-sim; its run id is the one the
    Job run will use, as the harness inside the pod would write it."""
    run_id = _run_id("jt")
    rc, _out, err, res = bench(
        "run",
        "--endpoint",
        sim,
        "--model",
        "bench-model",
        "--profile",
        "concurrency",
        "--concurrencies",
        "1,2",
        "--duration",
        "2",
        "--max-requests",
        "40",
        "--output-tokens",
        "8",
        "--input-tokens",
        "16",
        "--warmup",
        "2",
        "--cooldown",
        "0",
        "--no-requests",
        "--run-id",
        run_id,
        "--reports-dir",
        os.path.join(workdir, "job-reports"),
    )
    assert rc == 0, err
    return run_id, res["report"]


def test_job_runner_collects_the_uploaded_report_and_cleans_up(lab, lab_ca, sim_report, tmp_path):
    run_id, report_path = sim_report
    key = "sk-bench-dummy-%s" % uuid.uuid4().hex
    label = _run_id("sel")
    reports = tmp_path / "reports"
    job, cm, other_cm, secret = "bench-" + run_id, "bench-report-" + run_id, "bench-run-" + run_id, "bench-key-" + run_id
    pb = Playbook(_extra_vars(run_id, reports, bench_job_node_selector={"llm.platform/bench-test": label}), key, tmp_path / "play.log")
    try:

        def pending_pod():
            if not pb.running():
                raise AssertionError("the playbook ended before the Job ran:\n" + pb.log.read_text()[-6000:])
            pods = labkit.kubectl_json("get", "pods", "-n", NAMESPACE, "-l", "batch.kubernetes.io/job-name=" + job)["items"]
            return pods[0] if pods and pods[0]["status"].get("phase") == "Pending" else None

        pod = labkit.wait_for(pending_pod, 180, 1, "the Job's Pending pod")
        assert not pod["spec"].get("nodeName"), "the pod was scheduled although no node has the selector label"

        # The pod as the role wrote it: hardened, the key only through secretKeyRef.
        spec = labkit.kubectl_json("get", "job", job, "-n", NAMESPACE)
        assert key not in json.dumps(spec)
        tmpl = spec["spec"]["template"]["spec"]
        assert spec["spec"]["backoffLimit"] == 0 and spec["spec"]["activeDeadlineSeconds"] == 300
        assert tmpl["restartPolicy"] == "Never" and tmpl["serviceAccountName"] == job
        assert tmpl["securityContext"]["runAsNonRoot"] is True and tmpl["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        (ctr,) = tmpl["containers"]
        assert ctr["image"] == IMAGE
        sc = ctr["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False and sc["capabilities"]["drop"] == ["ALL"]
        env = {e["name"]: e for e in ctr["env"]}
        assert env["BENCH_API_KEY"]["valueFrom"]["secretKeyRef"] == {"name": secret, "key": "BENCH_API_KEY"}
        src = labkit.kubectl_json("get", "configmap", other_cm, "-n", NAMESPACE)["data"]
        assert {"run.json", "k8s.py", "__main__.py", "schema.report-v1.schema.json"} <= set(src)
        assert json.loads(src["run.json"])["endpoint"] == "http://litellm.litellm.svc:4000/v1"
        assert key not in json.dumps(src)
        assert labkit.kubectl_json("get", "configmap", cm, "-n", NAMESPACE).get("data") is None  # pre-created, empty
        ns_labels = labkit.kubectl_json("get", "namespace", NAMESPACE)["metadata"]["labels"]
        assert ns_labels["pod-security.kubernetes.io/enforce"] == "restricted"

        # Act as the pod: a token of the Job's ServiceAccount from the TokenRequest API.
        token = labkit.kubectl("create", "token", job, "-n", NAMESPACE, "--duration", "10m").stdout.strip()
        tok = tmp_path / "token"
        tok.write_text(token)
        up_env = dict(
            os.environ,
            KUBERNETES_SERVICE_HOST="127.0.0.1",
            KUBERNETES_SERVICE_PORT=str(labkit.PORT),
            BENCH_K8S_TOKEN_FILE=str(tok),
            BENCH_K8S_CA_FILE=lab_ca,
            POD_NAMESPACE=NAMESPACE,
            BENCH_API_KEY=key,
        )

        def upload_to(configmap):
            argv = [sys.executable, "-m", "bench", "upload-k8s", "--configmap", configmap, "--exit-code", "0", report_path]
            return subprocess.run(argv, cwd=benchkit.REPO, env=up_env, capture_output=True, text=True, timeout=60, check=False)

        up = upload_to(cm)
        assert up.returncode == 0, up.stderr
        assert json.loads(up.stdout.strip().splitlines()[-1])["encoding"] == "plain"
        stored = labkit.kubectl_json("get", "configmap", cm, "-n", NAMESPACE)["data"]
        with open(report_path, encoding="utf-8") as fh:
            assert stored["report.json"] == fh.read()

        # Least privilege, enforced by the real authorizer: the same code may not write another
        # ConfigMap, and the token can neither read it nor the key Secret, nor list anything.
        other = upload_to(other_cm)
        assert other.returncode == 4 and "HTTP 403" in other.stderr, other.stderr
        base = "/api/v1/namespaces/%s" % NAMESPACE
        assert _api("GET", "%s/configmaps/%s" % (base, cm), token, lab_ca) == 200
        assert _api("GET", "%s/configmaps/%s" % (base, other_cm), token, lab_ca) == 403
        assert _api("PATCH", "%s/configmaps/%s" % (base, other_cm), token, lab_ca, {"data": {"x": "y"}}) == 403
        assert _api("GET", "%s/secrets/%s" % (base, secret), token, lab_ca) == 403
        assert _api("GET", "%s/configmaps" % base, token, lab_ca) == 403
        assert _api("DELETE", "%s/configmaps/%s" % (base, cm), token, lab_ca) == 403
        assert _api("POST", "%s/configmaps" % base, token, lab_ca, {"metadata": {"name": "x"}}) == 403

        rc, out = pb.release_and_wait(label)
    finally:
        if pb.running():
            pb.stop()

    assert rc == 0, out[-8000:]
    assert key not in out
    assert all(out[i - 1 : i + 3] == "(sk-" for i in _find_all(out, "sk-")), "an sk- key-like string in the output"
    with open(report_path, "rb") as fh:
        uploaded = fh.read()
    day = dt.datetime.fromisoformat(json.loads(uploaded)["run"]["started"]).strftime("%Y-%m-%d")
    run_dir = reports / day / run_id
    assert (run_dir / "report.json").read_bytes() == uploaded
    assert (run_dir / "report.md").read_text().startswith("# Bench report %s" % run_id)
    pngs = sorted(p.name for p in run_dir.glob("*.png"))
    assert pngs == sorted(json.loads(uploaded)["plots"]) and pngs, pngs
    assert all((run_dir / p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    val = subprocess.run(
        [sys.executable, "-m", "bench", "validate", str(run_dir / "report.json")],
        cwd=benchkit.REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert val.returncode == 0 and val.stdout.strip() == "ok", val.stdout + val.stderr
    assert "Bench run %s: %s/report.md" % (run_id, run_dir) in out
    assert _leftovers(run_id) == []


def _find_all(text, needle):
    i = text.find(needle)
    while i != -1:
        yield i
        i = text.find(needle, i + 1)


def test_failed_job_fails_the_play_naming_the_job_and_cleans_up(lab, tmp_path):
    """activeDeadlineSeconds=2 and a node selector nobody has: the Job controller fails the Job
    with DeadlineExceeded (a real condition, not a patched status)."""
    run_id = _run_id("jf")
    key = "sk-bench-dummy-%s" % uuid.uuid4().hex
    ev = _extra_vars(run_id, tmp_path / "reports", bench_timeout_seconds=2, bench_job_node_selector={"llm.platform/bench-test": "nowhere"})
    seen = {}

    def watch():
        # Record that the Job really existed while the play ran (it is gone afterwards).
        def job_seen():
            objs = _leftovers(run_id)
            return objs if "job.batch/bench-" + run_id in objs else None

        try:
            seen["objects"] = labkit.wait_for(job_seen, 120, 0.3, "the run's Job")
        except AssertionError:
            seen["objects"] = []

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    rc, out = Playbook(ev, key, tmp_path / "play.log").wait(600)
    t.join(130)
    assert rc != 0, out[-6000:]
    assert "Bench Job %s/bench-%s failed (DeadlineExceeded" % (NAMESPACE, run_id) in out, out[-6000:]
    assert "job.batch/bench-" + run_id in seen.get("objects", []), seen
    assert key not in out
    assert _leftovers(run_id) == []
    assert not (tmp_path / "reports").exists()


def _wait_pending_pod(pb, job):
    def pending_pod():
        if not pb.running():
            raise AssertionError("the playbook ended before the Job ran:\n" + pb.log.read_text()[-6000:])
        pods = labkit.kubectl_json("get", "pods", "-n", NAMESPACE, "-l", "batch.kubernetes.io/job-name=" + job)["items"]
        return pods[0] if pods and pods[0]["status"].get("phase") == "Pending" else None

    return labkit.wait_for(pending_pod, 180, 1, "the Job's Pending pod")


def test_the_job_container_command_runs_the_harness_from_the_configmap_and_uploads(lab, lab_ca, tmp_path):
    """kwok runs no container, so the test plays the kubelet for the pod the role created: the
    source ConfigMap laid out by the volume's items, the env of the container spec (the key
    resolved from the Secret the secretKeyRef names), a ServiceAccount token, and the container's
    own shell command (paths rebased under a temp root) against a small OpenAI-compatible server
    on 127.0.0.1. Its --no-plots report travels through the ConfigMap; the role renders the plots."""
    run_id = _run_id("jc")
    key = "sk-bench-dummy-%s" % uuid.uuid4().hex
    label = _run_id("sel")
    reports = tmp_path / "reports"
    job = "bench-" + run_id
    root = tmp_path / "pod"
    with FakeServer(tokens=4) as srv:
        ev = _extra_vars(
            run_id,
            reports,
            bench_job_endpoint=srv.url,
            bench_duration_seconds=1,
            bench_max_requests_per_step=20,
            bench_warmup_requests=1,
            bench_concurrencies=[1, 2],
            bench_job_node_selector={"llm.platform/bench-test": label},
        )
        pb = Playbook(ev, key, tmp_path / "play.log")
        try:
            pod = _wait_pending_pod(pb, job)
            (ctr,) = pod["spec"]["containers"]
            src = labkit.kubectl_json("get", "configmap", "bench-run-" + run_id, "-n", NAMESPACE)["data"]
            (vol,) = [v for v in pod["spec"]["volumes"] if v["name"] == "source"]
            (mount,) = [m for m in ctr["volumeMounts"] if m["name"] == "source"]
            for item in vol["configMap"]["items"]:
                dest = root / mount["mountPath"].lstrip("/") / item["path"]
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_text(src[item["key"]])
            for m in ctr["volumeMounts"]:
                (root / m["mountPath"].lstrip("/")).mkdir(parents=True, exist_ok=True)

            mounts = sorted((m["mountPath"] for m in ctr["volumeMounts"]), key=len, reverse=True)
            pattern = re.compile(r"(?<![\w.-])(%s)(?![\w.-])" % "|".join(map(re.escape, mounts)))

            def rebase(text):  # one pass: a rebased path is never rebased again
                return pattern.sub(lambda m: str(root / m.group(1).lstrip("/")), text)

            token = labkit.kubectl("create", "token", pod["spec"]["serviceAccountName"], "-n", NAMESPACE, "--duration", "10m").stdout
            (tmp_path / "token").write_text(token.strip())
            env = {"PATH": os.path.dirname(sys.executable) + os.pathsep + "/usr/bin:/bin"}
            for e in ctr["env"]:
                if "value" in e:
                    env[e["name"]] = rebase(e["value"])
                elif "secretKeyRef" in e["valueFrom"]:
                    ref = e["valueFrom"]["secretKeyRef"]
                    data = labkit.kubectl_json("get", "secret", ref["name"], "-n", NAMESPACE)["data"]
                    env[e["name"]] = base64.b64decode(data[ref["key"]]).decode()
                elif e["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace":
                    env[e["name"]] = NAMESPACE
            assert env["BENCH_API_KEY"] == key
            env.update(
                KUBERNETES_SERVICE_HOST="127.0.0.1",
                KUBERNETES_SERVICE_PORT=str(labkit.PORT),
                BENCH_K8S_TOKEN_FILE=str(tmp_path / "token"),
                BENCH_K8S_CA_FILE=lab_ca,
            )
            assert ctr["command"] == ["/bin/sh", "-c"]
            proc = subprocess.run(
                ["/bin/sh", "-c", rebase(ctr["args"][0])],
                cwd=str(root / "work"),
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
            assert srv.requests and all(r["auth"] == "Bearer " + key for r in srv.requests)
            uploaded = labkit.kubectl_json("get", "configmap", "bench-report-" + run_id, "-n", NAMESPACE)["data"]
            assert uploaded["exit_code"] == "0"
            pod_report = json.loads(uploaded["report.json"])
            assert pod_report["plots"] == [] and "rendered on the control host" in pod_report["plots_note"]
            assert pod_report["context"]["endpoint"] == srv.url and pod_report["context"]["extra"]["bench_runner"] == "job"

            rc, out = pb.release_and_wait(label)
        finally:
            if pb.running():
                pb.stop()
    assert rc == 0, out[-8000:]
    assert key not in out
    day = dt.datetime.fromisoformat(pod_report["run"]["started"]).strftime("%Y-%m-%d")
    run_dir = reports / day / run_id
    collected = json.loads((run_dir / "report.json").read_text())
    assert collected["plots"] == ["latency_vs_throughput.png"] and "plots_note" not in collected
    assert {k: v for k, v in collected.items() if k not in ("plots", "plots_note")} == {
        k: v for k, v in pod_report.items() if k not in ("plots", "plots_note")
    }
    assert (run_dir / "latency_vs_throughput.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "![latency_vs_throughput](latency_vs_throughput.png)" in (run_dir / "report.md").read_text()
    assert _leftovers(run_id) == []
