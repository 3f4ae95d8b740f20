"""A local HTTP test server speaking the documented request/response shapes of the Google APIs
the GKE substrate uses: GKE (container v1: clusters, nodePools, operations), IAM (service
accounts and their IAM policies), Cloud Resource Manager (project IAM policy), Service Usage
(services, batchEnable, long-running operations), Secret Manager (secrets, their versions with
addVersion / versions/latest / :access, and their IAM policies) and Compute (regional
subnetworks with their operations, aggregated lists for the teardown audit).

Requests are addressed as ``http://127.0.0.1:<port>/<service>/<API path>``, which is what
``api_endpoint: http://127.0.0.1:<port>/{service}`` makes the modules send. Every request is
logged; faults (429, 5xx, 409, quota errors) can be injected; long-running operations
complete after ``op_polls`` polls. Listens on 127.0.0.1 only.

``POST /token`` is an OAuth 2.0 token endpoint for service-account credentials (RFC 7523 JWT
bearer grant, as google-auth sends it when a key file's ``token_uri`` points here): with
``trust_key(public_pem, email)`` it verifies the RS256 assertion and issues a bearer token;
``require_token = True`` then rejects API calls without an issued token (401 UNAUTHENTICATED),
so Application Default Credentials are exercised end to end.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import itertools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PROJECT_NUMBER = "123456789012"
CA = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCmZha2UKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="


def gerror(code, status, message, details=None):
    return {"error": {"code": code, "message": message, "status": status, "details": details or []}}


class Fault:
    def __init__(self, method, pattern, status, payload, times, headers):
        self.method, self.pattern, self.status = method, re.compile(pattern), status
        self.payload, self.times, self.headers = payload, times, headers or {}


class FakeGcp:
    def __init__(self, op_polls=2):
        self.op_polls = op_polls
        self.lock = threading.RLock()
        self.log = []
        self.faults = []
        self.services = {}  # project -> {service: state}
        self.accounts = {}  # email -> account
        self.policies = {}  # key -> policy
        self.secrets = {}  # (project, id) -> secret
        self.versions = {}  # (project, id) -> [value bytes], oldest first
        self.subnetworks = {}  # (project, region, name) -> subnetwork
        self.clusters = {}  # (project, location, name) -> cluster (nodePools inside)
        self.ops = {}  # name -> {"op": dict, "left": int, "done": callable, "kind": "gke"|"lro"}
        self.fail_ops = []  # error messages for the next operations to finish
        self.compute = {"disks": [], "forwardingRules": [], "addresses": []}
        self.counter = itertools.count(1)
        self.server = None
        self.trusted = {}  # client_email -> public key (PEM) whose assertions are accepted
        self.tokens = set()  # access tokens issued by /token
        self.require_token = False

    # ------------------------------------------------------------------ control
    def start(self):
        handler = type("Handler", (_Handler,), {"fake": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    @property
    def endpoint(self):
        return self.url + "/{service}"

    def inject(self, method, pattern, status, payload=None, times=1, headers=None):
        with self.lock:
            self.faults.append(Fault(method, pattern, status, payload, times, headers))

    def mutations(self, since=0):
        """Mutating requests received (method, service, path, body), excluding IAM policy reads
        and token exchanges."""
        return [
            (m, s, p, b)
            for (m, s, p, b, _st) in self.log[since:]
            if m in ("POST", "PUT", "PATCH", "DELETE") and not p.endswith(":getIamPolicy") and s != "token"
        ]

    def mark(self):
        return len(self.log)

    # ------------------------------------------------------------------ helpers
    def _op_gke(self, project, location, op_type, target, done):
        name = "operation-%d-%s" % (int(time.time() * 1000), next(self.counter))
        op = {
            "name": name,
            "zone": location,
            "operationType": op_type,
            "status": "RUNNING",
            "selfLink": "https://container.googleapis.com/v1/projects/%s/locations/%s/operations/%s" % (PROJECT_NUMBER, location, name),
            "targetLink": "https://container.googleapis.com/v1/projects/%s/locations/%s/%s" % (PROJECT_NUMBER, location, target),
            "startTime": "2026-01-01T00:00:00Z",
            "progress": {"metrics": [{"name": "progress", "doubleValue": 0.0}]},
        }
        self.ops[name] = {"op": op, "left": self.op_polls, "done": done, "kind": "gke", "busy": target.split("/nodePools")[0]}
        if self.op_polls == 0:
            self._finish(name)
        return copy.deepcopy(op)

    def _op_lro(self, done, response_type):
        name = "operations/acat.p2-%s-%d" % (PROJECT_NUMBER, next(self.counter))
        op = {"name": name, "metadata": {"@type": "type.googleapis.com/google.api.serviceusage.v1.OperationMetadata"}}
        self.ops[name] = {"op": op, "left": self.op_polls, "done": done, "kind": "lro", "rtype": response_type}
        if self.op_polls == 0:
            self._finish(name)
            return copy.deepcopy(self.ops[name]["op"])
        return copy.deepcopy(op)

    def _finish(self, name):
        entry = self.ops[name]
        op = entry["op"]
        error = self.fail_ops.pop(0) if self.fail_ops else None
        if entry["kind"] == "compute":
            op["status"] = "DONE"
            op["progress"] = 100
            if error:
                op["error"] = {"errors": [{"code": "QUOTA_EXCEEDED" if "uota" in error else "RESOURCE_ERROR", "message": error}]}
        elif entry["kind"] == "gke":
            op["status"] = "DONE"
            op["endTime"] = "2026-01-01T00:05:00Z"
            op["progress"] = {"metrics": [{"name": "progress", "doubleValue": 1.0}]}
            if error:
                op["error"] = {"code": 8, "message": error}
                op["statusMessage"] = error
        else:
            op["done"] = True
            if error:
                op["error"] = {"code": 8, "message": error}
            else:
                op["response"] = {"@type": entry["rtype"]}
        if not error:
            entry["done"]()
        entry["finished"] = True

    def _busy(self, cluster_path):
        for entry in self.ops.values():
            if entry["kind"] == "gke" and not entry.get("finished") and entry.get("busy") == cluster_path:
                return entry["op"]["name"]
        return None

    def policy(self, key):
        if key not in self.policies:
            bindings = [{"role": "roles/owner", "members": ["user:owner@example.com"]}] if key.startswith("project:") else []
            self.policies[key] = {"version": 1, "etag": "BwYAAAAAAA=", "bindings": bindings}
        return self.policies[key]

    def set_policy(self, key, body):
        policy = body.get("policy") or {}
        current = self.policy(key)
        if policy.get("etag") and policy["etag"] != current["etag"]:
            return 409, gerror(
                409, "ABORTED", "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff."
            )
        new = {"version": policy.get("version", 1), "bindings": policy.get("bindings", [])}
        new["etag"] = "Bw" + hashlib.sha1(json.dumps(new, sort_keys=True).encode()).hexdigest()[:10] + "="  # noqa: S324 - an etag
        self.policies[key] = new
        return 200, new

    def trust_key(self, public_pem, email):
        self.trusted[email] = public_pem

    def token(self, form):
        """RFC 7523 JWT bearer grant: verify the assertion's RS256 signature, audience and expiry."""
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding

        def b64(part):
            return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

        if form.get("grant_type", [""])[0] != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, {"error": "unsupported_grant_type"}
        try:
            head, claims, sig = form["assertion"][0].split(".")
            payload = json.loads(b64(claims))
            key = serialization.load_pem_public_key(self.trusted[payload["iss"]].encode())
            key.verify(b64(sig), (head + "." + claims).encode(), padding.PKCS1v15(), hashes.SHA256())
        except Exception as exc:  # any defect of the assertion is an invalid grant
            return 400, {"error": "invalid_grant", "error_description": type(exc).__name__}
        # google-auth signs for Google's token endpoint whatever the key file's token_uri says.
        if payload.get("aud") != "https://oauth2.googleapis.com/token" or payload.get("exp", 0) < time.time():
            return 400, {"error": "invalid_grant", "error_description": "bad audience or expired"}
        access = "ya29.fake-%d" % next(self.counter)
        self.tokens.add(access)
        return 200, {"access_token": access, "expires_in": 3600, "token_type": "Bearer"}

    # ------------------------------------------------------------------ dispatch
    def handle(self, method, path, query, body, authorization=""):
        with self.lock:
            if self.require_token and authorization.removeprefix("Bearer ") not in self.tokens:
                return 401, gerror(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."), {}
            for fault in self.faults:
                if fault.times > 0 and fault.method in (method, "*") and fault.pattern.search(path):
                    fault.times -= 1
                    return fault.status, fault.payload or gerror(fault.status, "UNAVAILABLE", "injected"), fault.headers
            try:
                service, rest = path.lstrip("/").split("/", 1)
            except ValueError:
                return 404, gerror(404, "NOT_FOUND", "no such API"), {}
            route = getattr(self, "_" + service, None)
            if route is None:
                return 404, gerror(404, "NOT_FOUND", "unknown service " + service), {}
            status, payload = route(method, "/" + rest, query, body)
            return status, payload, {}

    # Service Usage ------------------------------------------------------
    def _serviceusage(self, method, path, query, body):
        m = re.fullmatch(r"/v1/projects/([^/]+)/services/([^/:]+)", path)
        if m and method == "GET":
            state = self.services.get(m.group(1), {}).get(m.group(2), "DISABLED")
            return 200, {
                "name": "projects/%s/services/%s" % (PROJECT_NUMBER, m.group(2)),
                "parent": "projects/%s" % PROJECT_NUMBER,
                "config": {"name": m.group(2), "title": m.group(2).split(".")[0]},
                "state": state,
            }
        m = re.fullmatch(r"/v1/projects/([^/]+)/services:batchEnable", path)
        if m and method == "POST":
            project, ids = m.group(1), body.get("serviceIds") or []
            if len(ids) > 20:
                return 400, gerror(400, "INVALID_ARGUMENT", "at most 20 services per batchEnable")

            def done():
                for svc in ids:
                    self.services.setdefault(project, {})[svc] = "ENABLED"

            return 200, self._op_lro(done, "type.googleapis.com/google.api.serviceusage.v1.BatchEnableServicesResponse")
        m = re.fullmatch(r"/v1/projects/([^/]+)/services/([^/:]+):disable", path)
        if m and method == "POST":
            project, svc = m.group(1), m.group(2)

            def done():
                self.services.setdefault(project, {})[svc] = "DISABLED"

            return 200, self._op_lro(done, "type.googleapis.com/google.api.serviceusage.v1.DisableServiceResponse")
        m = re.fullmatch(r"/v1/(operations/.+)", path)
        if m and method == "GET":
            return self._poll(m.group(1))
        return 404, gerror(404, "NOT_FOUND", "serviceusage: no route for %s %s" % (method, path))

    def _poll(self, name):
        entry = self.ops.get(name)
        if not entry:
            return 404, gerror(404, "NOT_FOUND", "operation %s not found" % name)
        if not entry.get("finished"):
            entry["left"] -= 1
            if entry["left"] <= 0:
                self._finish(name)
            elif entry["kind"] == "gke":
                entry["op"]["progress"] = {
                    "metrics": [{"name": "progress", "doubleValue": round(1 - entry["left"] / max(self.op_polls, 1), 2)}]
                }
        return 200, copy.deepcopy(entry["op"])

    # IAM ----------------------------------------------------------------------
    def _iam(self, method, path, query, body):
        m = re.fullmatch(r"/v1/projects/([^/]+)/serviceAccounts", path)
        if m and method == "POST":
            project = m.group(1)
            email = "%s@%s.iam.gserviceaccount.com" % (body["accountId"], project)
            if email in self.accounts:
                return 409, gerror(
                    409, "ALREADY_EXISTS", "Service account %s already exists within project projects/%s." % (body["accountId"], project)
                )
            uid = str(100000000000000000000 + next(self.counter))
            sa = {
                "name": "projects/%s/serviceAccounts/%s" % (project, email),
                "projectId": project,
                "uniqueId": uid,
                "email": email,
                "etag": "MDEwMjE5MjA=",
                "oauth2ClientId": uid,
            }
            sa.update({k: v for k, v in (body.get("serviceAccount") or {}).items() if k in ("displayName", "description")})
            self.accounts[email] = sa
            return 200, sa
        m = re.fullmatch(r"/v1/projects/([^/]+)/serviceAccounts/([^/:]+)(:getIamPolicy|:setIamPolicy)?", path)
        if m:
            email, verb = m.group(2), m.group(3)
            sa = self.accounts.get(email)
            if not sa:
                return 404, gerror(404, "NOT_FOUND", "Unknown service account")
            if verb == ":getIamPolicy" and method == "POST":
                return 200, copy.deepcopy(self.policy("sa:" + email))
            if verb == ":setIamPolicy" and method == "POST":
                return self.set_policy("sa:" + email, body)
            if method == "GET":
                return 200, copy.deepcopy(sa)
            if method == "PATCH":
                mask = (body.get("updateMask") or "").split(",")
                for field in mask:
                    if field in (body.get("serviceAccount") or {}):
                        sa[field] = body["serviceAccount"][field]
                return 200, copy.deepcopy(sa)
            if method == "DELETE":
                del self.accounts[email]
                self.policies.pop("sa:" + email, None)
                return 200, {}
        return 404, gerror(404, "NOT_FOUND", "iam: no route for %s %s" % (method, path))

    # Cloud Resource Manager ------------------------------------------------
    def _cloudresourcemanager(self, method, path, query, body):
        m = re.fullmatch(r"/v1/projects/([^/:]+):(getIamPolicy|setIamPolicy)", path)
        if m and method == "POST":
            key = "project:" + m.group(1)
            if m.group(2) == "getIamPolicy":
                return 200, copy.deepcopy(self.policy(key))
            return self.set_policy(key, body)
        return 404, gerror(404, "NOT_FOUND", "crm: no route for %s %s" % (method, path))

    # Secret Manager ---------------------------------------------------------
    def _secretmanager(self, method, path, query, body):
        m = re.fullmatch(r"/v1/projects/([^/]+)/secrets", path)
        if m and method == "GET":
            items = [s for (p, _i), s in sorted(self.secrets.items()) if p == m.group(1)]
            return 200, {"secrets": items, "totalSize": len(items)} if items else {}
        if m and method == "POST":
            sid = query.get("secretId", [""])[0]
            if (m.group(1), sid) in self.secrets:
                return 409, gerror(409, "ALREADY_EXISTS", "Secret [projects/%s/secrets/%s] already exists." % (PROJECT_NUMBER, sid))
            secret = {"name": "projects/%s/secrets/%s" % (PROJECT_NUMBER, sid), "replication": body.get("replication", {"automatic": {}})}
            self.secrets[(m.group(1), sid)] = secret
            return 200, secret
        m = re.fullmatch(r"/v1/projects/([^/]+)/secrets/([^/:]+)(?::addVersion|/versions/latest(:access)?)", path)
        if m:
            key = (m.group(1), m.group(2))
            if key not in self.secrets:
                return 404, gerror(404, "NOT_FOUND", "Secret [projects/%s/secrets/%s] not found." % (PROJECT_NUMBER, m.group(2)))
            versions = self.versions.setdefault(key, [])
            if path.endswith(":addVersion") and method == "POST":
                versions.append(base64.b64decode((body.get("payload") or {}).get("data") or ""))
                return 200, {"name": "projects/%s/secrets/%s/versions/%d" % (PROJECT_NUMBER, key[1], len(versions)), "state": "ENABLED"}
            if method == "GET":
                if not versions:
                    return 404, gerror(
                        404, "NOT_FOUND", "Secret Version [projects/%s/secrets/%s/versions/latest] not found." % (PROJECT_NUMBER, key[1])
                    )
                name = "projects/%s/secrets/%s/versions/%d" % (PROJECT_NUMBER, key[1], len(versions))
                if m.group(3):
                    return 200, {"name": name, "payload": {"data": base64.b64encode(versions[-1]).decode()}}
                return 200, {"name": name, "state": "ENABLED"}  # metadata: never the payload
        m = re.fullmatch(r"/v1/projects/([^/]+)/secrets/([^/:]+)(:getIamPolicy|:setIamPolicy)?", path)
        if m:
            key = (m.group(1), m.group(2))
            if key not in self.secrets:
                return 404, gerror(
                    404, "NOT_FOUND", "Secret [projects/%s/secrets/%s] not found or has no versions." % (PROJECT_NUMBER, m.group(2))
                )
            if m.group(3) == ":getIamPolicy" and method == "GET":
                return 200, copy.deepcopy(self.policy("secret:%s/%s" % key))
            if m.group(3) == ":setIamPolicy" and method == "POST":
                return self.set_policy("secret:%s/%s" % key, body)
            if method == "GET":
                return 200, self.secrets[key]
        return 404, gerror(404, "NOT_FOUND", "secretmanager: no route for %s %s" % (method, path))

    # Compute (audit lists) ----------------------------------------------------
    def _compute(self, method, path, query, body):
        m = re.fullmatch(r"/compute/v1/projects/([^/]+)/regions/([^/]+)/operations/([^/]+)", path)
        if m and method == "GET":
            return self._poll(m.group(3))
        m = re.fullmatch(r"/compute/v1/projects/([^/]+)/regions/([^/]+)/subnetworks(?:/([^/]+))?", path)
        if m:
            return self._subnetworks(method, m.group(1), m.group(2), m.group(3), query, body)
        m = re.fullmatch(r"/compute/v1/projects/([^/]+)/aggregated/(disks|forwardingRules|addresses)", path)
        if m and method == "GET":
            items = self.compute[m.group(2)]
            flt = query.get("filter", [""])[0]
            if flt:
                needle = re.findall(r'"([^"]+)"', flt)
                items = [i for i in items if all(n.strip("*") in json.dumps(i) for n in needle)]
            by_scope = {}
            for item in items:
                by_scope.setdefault(item.get("scope", "zones/us-central1-a"), {m.group(2): []})[m.group(2)].append(item)
            return 200, {"kind": "compute#aggregatedList", "items": by_scope}
        return 404, gerror(404, "NOT_FOUND", "compute: no route for %s %s" % (method, path))

    def _subnetworks(self, method, project, region, name, query, body):
        """Regional subnetworks (compute v1): one ACTIVE proxy-only subnet per network and region."""
        link = "https://www.googleapis.com/compute/v1/projects/%s/regions/%s/subnetworks/%s" % (project, region, name or body.get("name"))
        if name is None and method == "GET":
            items = [copy.deepcopy(sub) for (p, r, _n), sub in sorted(self.subnetworks.items()) if (p, r) == (project, region)]
            flt = query.get("filter", [""])[0]
            purpose = re.search(r'purpose\s*=\s*"?([A-Z_]+)', flt)
            if purpose:
                items = [i for i in items if i.get("purpose", "PRIVATE") == purpose.group(1)]
            return 200, {"kind": "compute#subnetworkList", "items": items} if items else {"kind": "compute#subnetworkList"}
        if name is None and method == "POST":
            key = (project, region, body["name"])
            if key in self.subnetworks:
                return 409, gerror(409, "ALREADY_EXISTS", "The resource '%s' already exists" % link)
            network = body["network"].rsplit("/", 1)[-1]
            if (
                body.get("purpose") == "REGIONAL_MANAGED_PROXY"
                and body.get("role") == "ACTIVE"
                and any(
                    s.get("purpose") == "REGIONAL_MANAGED_PROXY" and s.get("role") == "ACTIVE" and s["network"].endswith("/" + network)
                    for (p, r, _n), s in self.subnetworks.items()
                    if (p, r) == (project, region)
                )
            ):
                return 400, gerror(
                    400,
                    "INVALID_ARGUMENT",
                    "Invalid value for field 'resource.role': 'ACTIVE'. An active proxy-only "
                    "subnetwork already exists in this region and network.",
                )
            sub = {
                "kind": "compute#subnetwork",
                "name": body["name"],
                "network": "https://www.googleapis.com/compute/v1/projects/%s/global/networks/%s" % (project, network),
                "ipCidrRange": body["ipCidrRange"],
                "region": "https://www.googleapis.com/compute/v1/projects/%s/regions/%s" % (project, region),
                "purpose": body.get("purpose", "PRIVATE"),
                "selfLink": link,
                "description": body.get("description", ""),
            }
            if body.get("role"):
                sub["role"] = body["role"]
            return 200, self._op_compute(project, region, "insert", link, lambda: self.subnetworks.__setitem__(key, sub))
        key = (project, region, name)
        if key not in self.subnetworks:
            return 404, gerror(404, "NOT_FOUND", "The resource '%s' was not found" % link)
        if method == "GET":
            return 200, copy.deepcopy(self.subnetworks[key])
        if method == "DELETE":
            return 200, self._op_compute(project, region, "delete", link, lambda: self.subnetworks.pop(key, None))
        return 404, gerror(404, "NOT_FOUND", "compute: no route for %s subnetworks" % method)

    def _op_compute(self, project, region, op_type, target, done):
        """A compute#operation (status PENDING -> RUNNING -> DONE), finished after op_polls polls."""
        name = "operation-%d-%s" % (int(time.time() * 1000), next(self.counter))
        op = {
            "kind": "compute#operation",
            "name": name,
            "operationType": op_type,
            "status": "RUNNING",
            "targetLink": target,
            "region": "https://www.googleapis.com/compute/v1/projects/%s/regions/%s" % (project, region),
            "selfLink": "https://www.googleapis.com/compute/v1/projects/%s/regions/%s/operations/%s" % (project, region, name),
            "progress": 0,
        }
        self.ops[name] = {"op": op, "left": self.op_polls, "done": done, "kind": "compute"}
        if self.op_polls == 0:
            self._finish(name)
        return copy.deepcopy(op)

    # GKE -----------------------------------------------------------------------
    def _container(self, method, path, query, body):
        m = re.fullmatch(r"/v1/projects/([^/]+)/locations/([^/]+)/operations/([^/]+)", path)
        if m and method == "GET":
            return self._poll(m.group(3))
        m = re.fullmatch(
            r"/v1/projects/([^/]+)/locations/([^/]+)/clusters(?:/([^/:]+))?(:setResourceLabels)?(?:/nodePools(?:/([^/:]+))?(:setAutoscaling|:setManagement)?)?",
            path,
        )
        if not m:
            return 404, gerror(404, "NOT_FOUND", "container: no route for %s %s" % (method, path))
        project, location, name, labels_verb, pool, pool_verb = m.groups()
        cluster_path = "projects/%s/locations/%s/clusters/%s" % (project, location, name)
        key = (project, location, name)
        if name is None:
            return self._create_cluster(project, location, body)
        cluster = self.clusters.get(key)
        if cluster is None:
            return 404, gerror(404, "NOT_FOUND", "Not found: %s." % cluster_path)
        if "/nodePools" in path:
            return self._pools(method, project, location, cluster, cluster_path, pool, pool_verb, body)
        if method == "GET":
            return 200, copy.deepcopy(cluster)
        busy = self._busy(cluster_path)
        if busy:
            return 400, gerror(400, "FAILED_PRECONDITION", "Cluster is running incompatible operation %s." % busy)
        if labels_verb and method == "POST":
            if body.get("labelFingerprint") != cluster.get("labelFingerprint"):
                return 400, gerror(400, "FAILED_PRECONDITION", "Labels could not be set due to fingerprint mismatch.")

            def done():
                cluster["resourceLabels"] = body.get("resourceLabels") or {}
                cluster["labelFingerprint"] = hashlib.sha1(json.dumps(cluster["resourceLabels"], sort_keys=True).encode()).hexdigest()[:16]  # noqa: S324

            return 200, self._op_gke(project, location, "SET_LABELS", "clusters/" + name, done)
        if method == "PUT":
            update = body.get("update") or {}
            if len(update) != 1:
                return 400, gerror(400, "INVALID_ARGUMENT", "Only one update can be applied to a cluster with each request.")

            def done():
                if "desiredReleaseChannel" in update:
                    cluster["releaseChannel"] = update["desiredReleaseChannel"]
                if "desiredWorkloadIdentityConfig" in update:
                    cluster["workloadIdentityConfig"] = update["desiredWorkloadIdentityConfig"]
                if "desiredMasterAuthorizedNetworksConfig" in update:
                    cluster["masterAuthorizedNetworksConfig"] = update["desiredMasterAuthorizedNetworksConfig"]
                if "desiredGatewayApiConfig" in update:
                    cluster.setdefault("networkConfig", {})["gatewayApiConfig"] = update["desiredGatewayApiConfig"]
                if "desiredDatapathProvider" in update:
                    raise AssertionError("datapath provider is creation-time only")

            return 200, self._op_gke(project, location, "UPDATE_CLUSTER", "clusters/" + name, done)
        if method == "DELETE":
            cluster["status"] = "STOPPING"
            return 200, self._op_gke(project, location, "DELETE_CLUSTER", "clusters/" + name, lambda: self.clusters.pop(key, None))
        return 404, gerror(404, "NOT_FOUND", "container: no route for %s %s" % (method, path))

    def _create_cluster(self, project, location, body):
        spec = copy.deepcopy(body.get("cluster") or {})
        key = (project, location, spec.get("name"))
        if key in self.clusters:
            return 409, gerror(409, "ALREADY_EXISTS", "Already exists: projects/%s/locations/%s/clusters/%s." % key)
        if not spec.get("nodePools") and not spec.get("initialNodeCount"):
            return 400, gerror(400, "INVALID_ARGUMENT", "Cluster.initial_node_count must be greater than zero.")
        cluster = spec
        cluster.update(
            location=location,
            status="PROVISIONING",
            selfLink="https://container.googleapis.com/v1/projects/%s/locations/%s/clusters/%s" % key,
            labelFingerprint="a9dc16a7",
            currentMasterVersion="1.33.5-gke.1000000",
            network=spec.get("network", "default"),
            subnetwork=spec.get("subnetwork", "default"),
            releaseChannel=spec.get("releaseChannel", {"channel": "REGULAR"}),
        )
        cluster.setdefault("networkConfig", {}).setdefault("datapathProvider", "LEGACY_DATAPATH")
        cluster["networkConfig"].update(network="projects/%s/global/networks/%s" % (project, cluster["network"]))
        for pool in cluster.get("nodePools") or []:
            self._pool_defaults(pool, location)
        self.clusters[key] = cluster

        def done():
            cluster.update(status="RUNNING", endpoint="34.118.0.10", masterAuth={"clusterCaCertificate": CA})
            for pool in cluster.get("nodePools") or []:
                pool["status"] = "RUNNING"

        return 200, self._op_gke(project, location, "CREATE_CLUSTER", "clusters/" + key[2], done)

    @staticmethod
    def _pool_defaults(pool, location):
        pool.setdefault("config", {})
        config = pool["config"]
        config.setdefault("machineType", "e2-medium")
        config.setdefault("diskSizeGb", 100)
        config.setdefault("diskType", "pd-balanced")
        config.setdefault("imageType", "COS_CONTAINERD")
        config.setdefault("serviceAccount", "default")
        config.setdefault("oauthScopes", ["https://www.googleapis.com/auth/cloud-platform"])
        for acc in config.get("accelerators") or []:
            acc["acceleratorCount"] = str(acc.get("acceleratorCount", "1"))
        pool.setdefault("management", {"autoRepair": True, "autoUpgrade": True})
        pool.setdefault("locations", [location] if location.count("-") == 2 else [location + "-a", location + "-b", location + "-c"])
        pool["version"] = "1.33.5-gke.1000000"
        pool["status"] = "PROVISIONING"

    def _pools(self, method, project, location, cluster, cluster_path, name, verb, body):
        pools = cluster.setdefault("nodePools", [])
        pool = next((p for p in pools if p["name"] == name), None) if name else None
        if method == "GET" and name:
            return (
                (200, copy.deepcopy(pool))
                if pool
                else (404, gerror(404, "NOT_FOUND", "Not found: %s/nodePools/%s." % (cluster_path, name)))
            )
        if method == "GET":
            return 200, {"nodePools": copy.deepcopy(pools)}
        busy = self._busy(cluster_path)
        if busy:
            return 400, gerror(400, "FAILED_PRECONDITION", "Cluster is running incompatible operation %s." % busy)
        target = "clusters/%s/nodePools/%s" % (cluster["name"], name or (body.get("nodePool") or {}).get("name"))
        if method == "POST" and not name:
            spec = copy.deepcopy(body.get("nodePool") or {})
            if any(p["name"] == spec.get("name") for p in pools):
                return 409, gerror(409, "ALREADY_EXISTS", "Already exists: %s/nodePools/%s." % (cluster_path, spec.get("name")))
            self._pool_defaults(spec, location)
            pools.append(spec)
            return 200, self._op_gke(project, location, "CREATE_NODE_POOL", target, lambda: spec.update(status="RUNNING"))
        if pool is None:
            return 404, gerror(404, "NOT_FOUND", "Not found: %s/nodePools/%s." % (cluster_path, name))
        if method == "DELETE":
            return 200, self._op_gke(project, location, "DELETE_NODE_POOL", target, lambda: pools.remove(pool))
        if verb == ":setAutoscaling":
            return 200, self._op_gke(project, location, "SET_NODE_POOL_SIZE", target, lambda: pool.update(autoscaling=body["autoscaling"]))
        if verb == ":setManagement":
            return 200, self._op_gke(
                project, location, "SET_NODE_POOL_MANAGEMENT", target, lambda: pool.update(management=body["management"])
            )
        if method == "PUT":
            fields = [k for k in body if k not in ("name", "projectId", "zone", "clusterId", "nodePoolId")]
            config = pool["config"]

            def done():
                for field in fields:
                    if field == "taints":
                        config["taints"] = body["taints"].get("taints", [])
                    elif field == "labels":
                        config["labels"] = body["labels"].get("labels", {})
                    elif field == "locations":
                        pool["locations"] = body["locations"]
                    elif field in ("machineType", "diskType", "diskSizeGb", "imageType", "workloadMetadataConfig"):
                        config[field] = body[field]
                    else:
                        raise AssertionError("unsupported node pool update " + field)

            return 200, self._op_gke(project, location, "UPDATE_CLUSTER", target, done)
        return 404, gerror(404, "NOT_FOUND", "container: no route for %s nodePools" % method)


class _Handler(BaseHTTPRequestHandler):
    fake = None
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def _serve(self):
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        service = parts.path.lstrip("/").split("/", 1)[0]
        path = "/" + parts.path.lstrip("/").split("/", 1)[1] if "/" in parts.path.lstrip("/") else parts.path
        if parts.path == "/token" and self.command == "POST":
            body = None  # a form; never logged (it carries the signed assertion)
            status, payload = self.fake.token(parse_qs(raw.decode()))
            headers = {}
        else:
            body = json.loads(raw) if raw else {}
            status, payload, headers = self.fake.handle(
                self.command, parts.path, parse_qs(parts.query), body, self.headers.get("Authorization") or ""
            )
        with self.fake.lock:
            self.fake.log.append((self.command, service, path, body if raw else None, status))
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve
