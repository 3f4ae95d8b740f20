#!/usr/bin/python
# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write a kubeconfig for a GKE cluster (auth plugin exec or a short-lived token)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: gke_kubeconfig
short_description: Write a kubeconfig for a GKE cluster
version_added: 0.1.0
description:
  - Reads the cluster endpoint and CA with C(GET v1/projects/{project}/locations/{location}/clusters/{cluster})
    and writes a kubeconfig (mode 0600) at O(path).
  - O(auth=plugin) authenticates through the standard C(gke-gcloud-auth-plugin) (an C(exec) entry; the
    plugin must be on the PATH of whoever uses the kubeconfig). O(auth=token) embeds a short-lived OAuth
    access token of the module's own credentials (about one hour); use it where the plugin is not installed,
    for example right after creation in CI.
  - The file is rewritten only when its content differs. With O(auth=token) a new token alone refreshes the
    file without reporting a change, so reruns stay C(changed=0).
author:
  - llm.platform maintainers (@llm-platform)
extends_documentation_fragment:
  - llm.platform.gcp
  - ansible.builtin.action_common_attributes
options:
  project:
    description: Project id.
    type: str
    required: true
  location:
    description: Cluster location (zone or region).
    type: str
    required: true
  cluster:
    description: Cluster name.
    type: str
    required: true
  path:
    description: Kubeconfig file to write (parent directories are created).
    type: path
    required: true
  auth:
    description: How kubectl authenticates.
    type: str
    choices: [plugin, token]
    default: plugin
  context_name:
    description: Context, cluster and user name in the kubeconfig (default C(gke_{project}_{location}_{cluster}) as gcloud does).
    type: str
  use_private_endpoint:
    description: Use the control plane's private endpoint.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
  diff_mode:
    support: partial
    details: The diff shows the kubeconfig with the token redacted.
  platform:
    platforms: all
seealso:
  - module: llm.platform.gke_cluster
"""

EXAMPLES = r"""
- name: Kubeconfig for the platform plays
  llm.platform.gke_kubeconfig:
    project: my-project
    location: us-central1-a
    cluster: llm-platform
    path: "{{ kubeconfig_path }}"
"""

RETURN = r"""
path:
  description: The kubeconfig written.
  returned: always
  type: str
server:
  description: API server URL.
  returned: always
  type: str
context:
  description: Context name.
  returned: always
  type: str
requests:
  description: Mutating API requests sent (always empty; only reads).
  returned: always
  type: list
  elements: dict
operations:
  description: Always empty.
  returned: always
  type: list
  elements: dict
"""

import copy
import os
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import yaml
except ImportError:
    HAS_YAML = False
    YAML_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_YAML = True
    YAML_IMPORT_ERROR = None

from ansible_collections.llm.platform.plugins.module_utils._gcp import GcpError, GcpModule, gcp_argument_spec

REDACTED = "<redacted>"


def build(name, server, ca, auth, token):
    if auth == "plugin":
        user = {
            "exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "command": "gke-gcloud-auth-plugin",
                "installHint": "Install gke-gcloud-auth-plugin (gcloud components install gke-gcloud-auth-plugin)",
                "provideClusterInfo": True,
                "interactiveMode": "IfAvailable",
            }
        }
    else:
        user = {"token": token}
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server, "certificate-authority-data": ca}}],
        "users": [{"name": name, "user": user}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
        "preferences": {},
    }


def redact(config):
    config = copy.deepcopy(config or {})
    for user in config.get("users") or []:
        if isinstance(user, dict) and "token" in (user.get("user") or {}):
            user["user"]["token"] = REDACTED
    return config


def main():
    spec = gcp_argument_spec()
    spec.update(
        project={"type": "str", "required": True},
        location={"type": "str", "required": True},
        cluster={"type": "str", "required": True},
        path={"type": "path", "required": True},
        auth={"type": "str", "choices": ["plugin", "token"], "default": "plugin"},
        context_name={"type": "str"},
        use_private_endpoint={"type": "bool", "default": False},
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=YAML_IMPORT_ERROR)
    gcp = GcpModule(module)
    client, p = gcp.client, module.params
    name = p["context_name"] or "gke_%s_%s_%s" % (p["project"], p["location"], p["cluster"])
    try:
        cluster = client.get("container", "v1/projects/%s/locations/%s/clusters/%s" % (p["project"], p["location"], p["cluster"]))
        if not cluster:
            raise GcpError("Cluster %s not found in %s/%s" % (p["cluster"], p["project"], p["location"]), status=404)
        endpoint = cluster.get("endpoint")
        if p["use_private_endpoint"]:
            endpoint = (cluster.get("privateClusterConfig") or {}).get("privateEndpoint") or endpoint
        if not endpoint:
            raise GcpError("Cluster %s has no endpoint yet (status %s)" % (p["cluster"], cluster.get("status")))
        ca = (cluster.get("masterAuth") or {}).get("clusterCaCertificate", "")
        server = endpoint if endpoint.startswith("http") else "https://" + endpoint
        token = None
        if p["auth"] == "token" and not module.check_mode:
            token = client.access_token()
            if not token:
                raise GcpError("auth=token needs credentials that can mint an access token (auth_kind is %s)" % p["auth_kind"])
    except GcpError as exc:
        gcp.fail(exc)
    wanted = build(name, server, ca, p["auth"], token or REDACTED)
    current = None
    if os.path.exists(p["path"]):
        with open(p["path"], encoding="utf-8") as handle:
            try:
                current = yaml.safe_load(handle)
            except yaml.YAMLError:
                current = None
    changed = redact(current) != redact(wanted)
    needs_write = changed or (p["auth"] == "token" and current != wanted)
    if needs_write and not module.check_mode:
        os.makedirs(os.path.dirname(os.path.abspath(p["path"])), exist_ok=True)
        tmp = p["path"] + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            yaml.safe_dump(wanted, handle, default_flow_style=False, sort_keys=False)
        os.chmod(tmp, 0o600)
        os.replace(tmp, p["path"])
    gcp.exit(
        changed=changed,
        path=p["path"],
        server=server,
        context=name,
        diff={"before": yaml.safe_dump(redact(current)) if current else "", "after": yaml.safe_dump(redact(wanted))},
    )


if __name__ == "__main__":
    main()
