"""A local HTTP test server speaking the documented request/response shapes of the Hetzner Cloud
API (https://docs.hetzner.cloud) for what the Hetzner substrate uses: ssh_keys, networks (with
add_subnet/delete_subnet actions), firewalls (set_rules), placement_groups, servers (create with
networks, firewalls, placement group; delete), volumes, load_balancers (for the teardown audit),
the server_types/images/locations/datacenters catalogs, and actions (running for ``action_polls``
polls, then success). Every request is logged; faults (429, 5xx, 409 uniqueness_error, quota
``resource_limit_exceeded``) can be injected. Listens on 127.0.0.1 only; point
``api_endpoint`` (or HCLOUD_ENDPOINT) at ``<url>/v1``.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

NOW = "2026-01-01T00:00:00+00:00"
LOCATION = {
    "id": 2,
    "name": "nbg1",
    "description": "Nuremberg DC Park 1",
    "country": "DE",
    "city": "Nuremberg",
    "latitude": 49.452102,
    "longitude": 11.076665,
    "network_zone": "eu-central",
}
DATACENTER = {
    "id": 2,
    "name": "nbg1-dc3",
    "description": "Nuremberg 1 virtual DC 3",
    "location": LOCATION,
    "server_types": {"available": [1, 2, 3], "supported": [1, 2, 3], "available_for_migration": [1, 2, 3]},
}


def _server_type(tid, name, cores, memory, disk):
    return {
        "id": tid,
        "name": name,
        "description": name.upper(),
        "cores": cores,
        "memory": memory,
        "disk": disk,
        "prices": [],
        "storage_type": "local",
        "cpu_type": "shared",
        "architecture": "x86",
        "deprecated": False,
        "deprecation": None,
        "locations": [{"id": 2, "name": "nbg1", "deprecation": None}],
    }


SERVER_TYPES = [_server_type(1, "cpx22", 2, 4.0, 80), _server_type(2, "cpx32", 4, 8.0, 160), _server_type(3, "cpx42", 8, 16.0, 320)]
IMAGES = [
    {
        "id": 161547269,
        "type": "system",
        "status": "available",
        "name": "ubuntu-24.04",
        "description": "Ubuntu 24.04",
        "image_size": None,
        "disk_size": 5,
        "created": NOW,
        "created_from": None,
        "bound_to": None,
        "os_flavor": "ubuntu",
        "os_version": "24.04",
        "rapid_deploy": True,
        "protection": {"delete": False},
        "deprecated": None,
        "deleted": None,
        "labels": {},
        "architecture": "x86",
    }
]


def rules(items):
    """Firewall rules as the API returns them (every key present)."""
    return [
        {
            "direction": r.get("direction"),
            "protocol": r.get("protocol"),
            "port": r.get("port"),
            "source_ips": r.get("source_ips") or [],
            "destination_ips": r.get("destination_ips") or [],
            "description": r.get("description"),
        }
        for r in items or []
    ]


def herror(code, message, details=None):
    return {"error": {"code": code, "message": message, "details": details or {}}}


class FakeHcloud:
    def __init__(self, action_polls=0):
        self.action_polls = action_polls
        self.lock = threading.RLock()
        self.log = []  # (method, path, query, body, status)
        self.faults = []  # [method, regex, status, payload, times]
        self.ids = itertools.count(1000)
        self.ip = itertools.count(10)
        self.store = {k: {} for k in ("ssh_keys", "networks", "firewalls", "placement_groups", "servers", "volumes", "load_balancers")}
        self.actions = {}
        self.server = None

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
    def endpoint(self):
        return "http://127.0.0.1:%d/v1" % self.server.server_address[1]

    def inject(self, method, pattern, status, payload=None, times=1):
        with self.lock:
            self.faults.append([method, re.compile(pattern), status, payload, times])

    def mark(self):
        return len(self.log)

    def mutations(self, since=0):
        return [(m, p, b) for (m, p, _q, b, _s) in self.log[since:] if m in ("POST", "PUT", "DELETE")]

    def by_name(self, coll, name):
        return next((o for o in self.store[coll].values() if o["name"] == name), None)

    # ------------------------------------------------------------------ helpers
    def _action(self, command, resources, status=None):
        aid = next(self.ids)
        action = {
            "id": aid,
            "command": command,
            "status": status or ("running" if self.action_polls else "success"),
            "progress": 0 if self.action_polls else 100,
            "started": NOW,
            "finished": None if self.action_polls else NOW,
            "resources": resources,
            "error": None,
        }
        self.actions[aid] = {"action": action, "left": self.action_polls}
        return copy.deepcopy(action)

    @staticmethod
    def _singular(coll):
        return {"ssh_keys": "ssh_key", "placement_groups": "placement_group"}.get(coll, coll[:-1])

    def _list(self, coll, query):
        items = list(self.store[coll].values())
        if "name" in query:
            items = [i for i in items if i["name"] == query["name"][0]]
        if "label_selector" in query:
            for term in query["label_selector"][0].split(","):
                key, _, value = term.partition("=")
                items = [i for i in items if (i.get("labels") or {}).get(key) == value]
        meta = {
            "pagination": {"page": 1, "per_page": 50, "previous_page": None, "next_page": None, "last_page": 1, "total_entries": len(items)}
        }
        return 200, {coll: copy.deepcopy(items), "meta": meta}

    # ------------------------------------------------------------------ dispatch
    def handle(self, method, path, query, body):
        with self.lock:
            for fault in self.faults:
                if fault[4] > 0 and fault[0] in (method, "*") and fault[1].search(path):
                    fault[4] -= 1
                    return fault[2], fault[3] or herror("service_error", "injected")
            m = re.fullmatch(r"/v1/(\w+)(?:/(\d+))?(?:/actions/(\w+))?", path)
            if not m:
                return 404, herror("not_found", "no route " + path)
            coll, rid, verb = m.group(1), m.group(2), m.group(3)
            rid = int(rid) if rid else None
            if coll == "actions":
                return self._actions(rid, query)
            catalogs = {"server_types": SERVER_TYPES, "images": IMAGES, "locations": [LOCATION], "datacenters": [DATACENTER]}
            if coll in catalogs:
                items = catalogs[coll]
                if "name" in query:
                    items = [i for i in items if i["name"] == query["name"][0]]
                if rid:
                    found = [i for i in items if i["id"] == rid]
                    return (200, {self._singular(coll): found[0]}) if found else (404, herror("not_found", "not found"))
                return 200, {coll: items, "meta": {"pagination": {"page": 1, "per_page": 50, "last_page": 1, "total_entries": len(items)}}}
            if coll not in self.store:
                return 404, herror("not_found", "unknown resource " + coll)
            if method == "GET" and rid is None:
                return self._list(coll, query)
            if method == "POST" and rid is None:
                return self._create(coll, body)
            obj = self.store[coll].get(rid)
            if obj is None:
                return 404, herror("not_found", "%s with ID %s not found" % (self._singular(coll), rid))
            if method == "GET":
                return 200, {self._singular(coll): copy.deepcopy(obj)}
            if method == "PUT":
                for key in ("name", "labels"):
                    if key in body:
                        obj[key] = body[key]
                return 200, {self._singular(coll): copy.deepcopy(obj)}
            if method == "DELETE":
                return self._delete(coll, obj)
            if method == "POST" and verb:
                return self._verb(coll, obj, verb, body)
            return 404, herror("not_found", "no route")

    def _actions(self, rid, query):
        ids = [rid] if rid else [int(i) for i in query.get("id", [])]
        out = []
        for aid in ids:
            entry = self.actions.get(aid)
            if not entry:
                return 404, herror("not_found", "action %s not found" % aid)
            if entry["action"]["status"] == "running":
                entry["left"] -= 1
                if entry["left"] <= 0:
                    entry["action"].update(status="success", progress=100, finished=NOW)
            out.append(copy.deepcopy(entry["action"]))
        if rid:
            return 200, {"action": out[0]}
        return 200, {"actions": out, "meta": {"pagination": {"page": 1, "per_page": 50, "last_page": 1, "total_entries": len(out)}}}

    def _create(self, coll, body):
        if self.by_name(coll, body.get("name")):
            return 409, herror("uniqueness_error", "name is already used", {"fields": [{"name": "name"}]})
        oid = next(self.ids)
        base = {"id": oid, "name": body.get("name"), "labels": body.get("labels") or {}, "created": NOW}
        if coll == "ssh_keys":
            base.update(public_key=body["public_key"], fingerprint="b7:2f:30:a0:2f:6c:58:6c:21:04:58:61:ba:06:3b:2f")
            self.store[coll][oid] = base
            return 201, {"ssh_key": copy.deepcopy(base)}
        if coll == "networks":
            base.update(
                ip_range=body["ip_range"],
                subnets=body.get("subnets") or [],
                routes=body.get("routes") or [],
                servers=[],
                load_balancers=[],
                protection={"delete": False},
                expose_routes_to_vswitch=bool(body.get("expose_routes_to_vswitch")),
            )
            self.store[coll][oid] = base
            return 201, {"network": copy.deepcopy(base)}
        if coll == "firewalls":
            base.update(rules=rules(body.get("rules")), applied_to=[])
            self.store[coll][oid] = base
            actions = [self._action("set_firewall_rules", [{"id": oid, "type": "firewall"}])] if body.get("rules") else []
            return 201, {"firewall": copy.deepcopy(base), "actions": actions}
        if coll == "placement_groups":
            base.update(type=body.get("type", "spread"), servers=[])
            self.store[coll][oid] = base
            return 201, {"placement_group": copy.deepcopy(base), "action": None}
        if coll == "servers":
            return self._create_server(base, body)
        if coll in ("volumes", "load_balancers"):
            base.update(body)
            self.store[coll][oid] = base
            return 201, {self._singular(coll): copy.deepcopy(base)}
        return 404, herror("not_found", "cannot create " + coll)

    def _create_server(self, base, body):
        if len(self.store["servers"]) >= 10:
            return 403, herror("resource_limit_exceeded", "server limit exceeded", {"limits": [{"name": "server_limit"}]})
        oid = base["id"]
        stype = next((t for t in SERVER_TYPES if t["name"] == body["server_type"] or str(t["id"]) == str(body["server_type"])), None)
        if stype is None:
            return 422, herror("invalid_input", "invalid server type", {"fields": [{"name": "server_type"}]})
        n = next(self.ip)
        private = []
        for net_id in body.get("networks") or []:
            network = self.store["networks"][int(net_id)]
            network["servers"].append(oid)
            private.append({"network": network["id"], "ip": "10.0.1.%d" % n, "alias_ips": [], "mac_address": "86:00:00:00:00:%02x" % n})
        fws = [{"id": f["firewall"], "status": "applied"} for f in body.get("firewalls") or []]
        for fw in fws:
            self.store["firewalls"][fw["id"]]["applied_to"].append({"type": "server", "server": {"id": oid}})
        pg = body.get("placement_group")
        if pg:
            self.store["placement_groups"][int(pg)]["servers"].append(oid)
        server = dict(
            base,
            status="running",
            public_net={
                "ipv4": {"id": oid + 1, "ip": "198.51.100.%d" % n, "blocked": False, "dns_ptr": "static.example"},
                "ipv6": None,
                "floating_ips": [],
                "firewalls": fws,
            },
            private_net=private,
            server_type=stype,
            datacenter=DATACENTER,
            image=IMAGES[0],
            iso=None,
            rescue_enabled=False,
            locked=False,
            backup_window=None,
            outgoing_traffic=0,
            ingoing_traffic=0,
            included_traffic=21990232555520,
            protection={"delete": False, "rebuild": False},
            volumes=[],
            load_balancers=[],
            primary_disk_size=stype["disk"],
            placement_group=copy.deepcopy(self.store["placement_groups"][int(pg)]) if pg else None,
        )
        self.store["servers"][oid] = server
        action = self._action("create_server", [{"id": oid, "type": "server"}])
        nexts = [self._action("start_server", [{"id": oid, "type": "server"}])]
        return 201, {"server": copy.deepcopy(server), "action": action, "next_actions": nexts, "root_password": None}

    def _delete(self, coll, obj):
        if coll == "networks" and obj["servers"]:
            return 409, herror("conflict", "network is still in use by servers")
        if coll == "firewalls" and obj["applied_to"]:
            return 422, herror("resource_in_use", "firewall is still in use")
        if coll == "placement_groups" and obj["servers"]:
            return 422, herror("resource_in_use", "placement group is still in use")
        del self.store[coll][obj["id"]]
        if coll == "servers":
            for network in self.store["networks"].values():
                network["servers"] = [s for s in network["servers"] if s != obj["id"]]
            for fw in self.store["firewalls"].values():
                fw["applied_to"] = [a for a in fw["applied_to"] if a.get("server", {}).get("id") != obj["id"]]
            for pg in self.store["placement_groups"].values():
                pg["servers"] = [s for s in pg["servers"] if s != obj["id"]]
            return 200, {"action": self._action("delete_server", [{"id": obj["id"], "type": "server"}])}
        return 204, None

    def _verb(self, coll, obj, verb, body):
        res = [{"id": obj["id"], "type": self._singular(coll)}]
        if coll == "networks" and verb == "add_subnet":
            if any(s["ip_range"] == body.get("ip_range") for s in obj["subnets"]):
                return 409, herror("conflict", "subnet already exists")
            subnet = {"type": body["type"], "ip_range": body.get("ip_range"), "network_zone": body["network_zone"], "gateway": "10.0.0.1"}
            if body.get("vswitch_id"):
                subnet["vswitch_id"] = body["vswitch_id"]
            obj["subnets"].append(subnet)
            return 201, {"action": self._action("add_subnet", res)}
        if coll == "networks" and verb == "delete_subnet":
            obj["subnets"] = [s for s in obj["subnets"] if s["ip_range"] != body.get("ip_range")]
            return 201, {"action": self._action("delete_subnet", res)}
        if coll == "firewalls" and verb == "set_rules":
            obj["rules"] = rules(body.get("rules"))
            return 201, {"actions": [self._action("set_firewall_rules", res)]}
        if coll == "firewalls" and verb == "remove_from_resources":
            obj["applied_to"] = []
            return 201, {"actions": [self._action("remove_firewall", res)]}
        if coll == "networks" and verb == "change_protection":
            return 201, {"action": self._action("change_protection", res)}
        return 404, herror("not_found", "unknown action " + verb)


class _Handler(BaseHTTPRequestHandler):
    fake = None
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _serve(self):
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else {}
        query = parse_qs(parts.query)
        status, payload = self.fake.handle(self.command, parts.path, query, body)
        with self.fake.lock:
            self.fake.log.append((self.command, parts.path, query, body if raw else None, status))
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _serve
