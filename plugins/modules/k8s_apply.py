#!/usr/bin/python
# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Server-side apply of a list of Kubernetes objects in one module run."""

from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_apply
short_description: Server-side apply a list of Kubernetes objects in one run
version_added: "0.1.0"
description:
  - Applies every object of O(objects) with Kubernetes server-side apply (C(PATCH) with
    C(application/apply-patch+yaml), O(field_manager), O(force_conflicts)) in a single module
    run, instead of one C(kubernetes.core.k8s) task (a read, then a patch) per object.
  - The live state comes from one paged C(LIST) per kind and namespace, never from a read before
    each write. An object is reported C(changed) exactly when the server's object changed, that is
    when the C(resourceVersion) of the server's answer differs from the listed one and what the server
    stores (status aside) differs too (or it was created). An object whose dry-run answer differs from
    the listed one is read again first, so a controller writing it meanwhile is not counted as a change.
  - "Validate first: every object is first applied with C(dryRun=All). If the server rejects any of
    them, the module fails naming every rejected object (kind, namespace, name, the server's message)
    and B(nothing was written)."
  - "One exception: an object whose CustomResourceDefinition or Namespace is itself created by the
    same call cannot be dry-run before that exists. Such objects are dry-run right after the CRDs and
    Namespaces are written and before any other object is; if one of them is rejected, only those
    CRDs and Namespaces were written (listed in RV(applied))."
  - Objects whose dry-run answer equals the live object are not written at all (C(unchanged)).
  - Order - CustomResourceDefinitions first (then waited for C(Established)), then Namespaces, then
    the other objects in list order.
  - With O(prune_selector), objects of the listed kinds that carry those labels and are no longer in
    O(objects) are deleted.
  - Calls are retried with exponential backoff on HTTP 429, 5xx, connection errors and 409 conflicts
    that are not field-manager conflicts.
options:
  objects:
    description:
      - The objects to apply, each a full manifest (C(apiVersion), C(kind), C(metadata.name), ...).
      - Namespaced objects without C(metadata.namespace) go to O(namespace); a namespace given on a
        cluster-scoped object is ignored.
      - The same object (apiVersion, kind, namespace, name) may appear only once.
      - Empty entries (null, as C(from_yaml_all) gives for empty documents) are skipped and a C(v1) C(List)
        stands for its items, so rendered multi-document manifests can be passed as they are.
      - Server-owned metadata (C(resourceVersion), C(uid), C(creationTimestamp), C(generation),
        C(managedFields)) is dropped from what is sent, so a dumped object can be re-applied.
    type: list
    elements: dict
    required: true
  namespace:
    description:
      - Namespace of namespaced objects that name none.
    type: str
    default: default
  field_manager:
    description:
      - The server-side-apply field manager owning the applied fields.
    type: str
    default: llm-platform
  force_conflicts:
    description:
      - Take over fields owned by another field manager. Without it, such a conflict fails the module
        (during the dry run, so nothing is written) and the message names the other manager and fields.
    type: bool
    default: false
  prune_selector:
    description:
      - "An equality-based label selector (V(key=value[,key=value])). Its labels are added to every
        object of O(objects); afterwards, objects of the kinds present in O(objects) that match the
        selector in any namespace but are not in O(objects) are deleted (propagation C(Background))."
      - CustomResourceDefinitions and Namespaces are never pruned.
      - Only kinds present in O(objects) are searched, so the last object of a kind leaving the list is not pruned.
    type: str
  wait_crds_timeout:
    description:
      - Seconds to wait for the CustomResourceDefinitions of O(objects) to become C(Established)
        (and for their kinds to be served) before the objects that use them are applied.
    type: int
    default: 60
extends_documentation_fragment:
  - llm.platform.k8s
attributes:
  check_mode:
    support: full
    description:
      - Every object is applied with C(dryRun=All) and prunes are C(DELETE) with C(dryRun=All), so the
        server validates everything and nothing changes.
      - An object whose CRD or Namespace does not exist yet cannot be dry-run; it is reported as
        C(created) with RV(objects[].validated=false).
  diff_mode:
    support: full
    description:
      - One diff per changed object, before (the listed live object) and after (the server's answer),
        without status and server-owned metadata (managedFields, resourceVersion, uid, ...).
notes:
  - "Secrets: values of C(data) and C(stringData) (and the C(kubectl.kubernetes.io/last-applied-configuration)
    annotation) never appear in the diff, the results or the module's C(invocation) echo; a value that
    changed reads C(VALUE_REDACTED (changed)). Ansible still logs module arguments to the target's
    syslog, so set C(no_log: true) on tasks that apply Secrets."
  - Uses the C(kubernetes) Python client only for its configuration and transport (kubeconfig, auth,
    TLS); paths are raw REST, discovery is one call per apiVersion used.
requirements:
  - kubernetes >= 24.2.0
seealso:
  - module: kubernetes.core.k8s
author:
  - llm.platform maintainers (@llm-platform)
"""

EXAMPLES = r"""
- name: Apply the rendered manifests in one call
  llm.platform.k8s_apply:
    kubeconfig: "{{ kubeconfig_path }}"
    objects: "{{ lookup('ansible.builtin.file', 'apps.yaml') | ansible.builtin.from_yaml_all | list }}"

- name: A CRD and its objects, pruning what left the set
  llm.platform.k8s_apply:
    kubeconfig: "{{ kubeconfig_path }}"
    prune_selector: llm.platform/set=tenants
    objects:
      - apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: widgets.example.com}
        spec:
          group: example.com
          scope: Namespaced
          names: {plural: widgets, singular: widget, kind: Widget}
          versions:
            - name: v1
              served: true
              storage: true
              schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
      - apiVersion: example.com/v1
        kind: Widget
        metadata: {name: w1, namespace: team-a}
        spec: {size: 3}

- name: Secrets (values are redacted in results and diffs; no_log hides the arguments too)
  llm.platform.k8s_apply:
    objects:
      - apiVersion: v1
        kind: Secret
        metadata: {name: db, namespace: team-a}
        stringData: {password: "{{ db_password }}"}
  no_log: true
"""

RETURN = r"""
changed:
  description: Whether any object was created, changed or pruned (in check mode, would be).
  returned: always
  type: bool
  sample: true
objects:
  description: One entry per object of O(objects) in apply order, then one per pruned object.
  returned: success
  type: list
  elements: dict
  contains:
    kind:
      description: The object's kind.
      type: str
      sample: ConfigMap
    api_version:
      description: The object's apiVersion.
      type: str
      sample: v1
    namespace:
      description: Its namespace; null when cluster-scoped.
      type: str
      sample: team-a
    name:
      description: Its name.
      type: str
      sample: settings
    action:
      description: What was (in check mode, would be) done.
      type: str
      choices: [created, configured, unchanged, pruned]
      sample: configured
    changed:
      description: Whether the server's object changed (created, new resourceVersion, pruned).
      type: bool
      sample: true
    changed_fields:
      description: Dotted paths of the fields that changed (for C(configured)), Secret values not shown.
      type: list
      elements: str
      sample: [data.mode]
    validated:
      description: Whether the server's dry run accepted the object before any write.
      type: bool
      sample: true
    resource_version:
      description: The object's resourceVersion after the run (in check mode, the live one).
      type: str
      sample: "48213"
  sample: [{"kind": "ConfigMap", "namespace": "team-a", "name": "settings", "action": "configured", "changed": true}]
diff:
  description: One C({before, after, before_header, after_header}) per changed or pruned object.
  returned: success, with --diff
  type: list
  elements: dict
  sample: [{"before": {"data": {"mode": "a"}}, "after": {"data": {"mode": "b"}}, "before_header": "ConfigMap team-a/settings"}]
requests:
  description: Every API call made (method, path, whether it was a dry run), no bodies.
  returned: always
  type: list
  elements: dict
  sample: [{"method": "GET", "path": "/api/v1/namespaces/team-a/configmaps", "dry_run": false}]
retried:
  description: How many attempts were retried.
  returned: always
  type: int
  sample: 0
applied:
  description: On failure, the objects that were written before it (empty when the dry run failed).
  returned: failed
  type: list
  elements: str
  sample: ["CustomResourceDefinition widgets.example.com"]
errors:
  description: On failure, one entry per failed object (object, method, path, status, reason, message, causes, attempts).
  returned: failed
  type: list
  elements: dict
  sample: [{"object": "ConfigMap team-a/bad", "status": 422, "reason": "Invalid", "message": "..."}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.llm.platform.plugins.module_utils import _k8s


def argument_spec():
    spec = _k8s.k8s_argument_spec()
    spec.update(
        objects=dict(type="list", elements="dict", required=True),
        namespace=dict(type="str", default="default"),
        field_manager=dict(type="str", default="llm-platform"),
        force_conflicts=dict(type="bool", default=False),
        prune_selector=dict(type="str"),
        wait_crds_timeout=dict(type="int", default=60),
    )
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    p = module.params
    invocation = {"module_args": _k8s.redact_params(p)}
    client = _k8s.module_client(module, invocation=invocation)
    written = []
    try:
        results, diffs = _k8s.apply_objects(client, p["objects"], p, check_mode=module.check_mode, written=written)
    except ValueError as e:
        module.fail_json(msg=str(e), applied=written, requests=client.requests, invocation=invocation)
    except _k8s.BatchError as e:
        module.fail_json(
            msg=str(e),
            errors=[x.as_dict() for x in e.errors],
            applied=written,
            changed=bool(written),
            requests=client.requests,
            invocation=invocation,
        )
    except _k8s.K8sError as e:
        module.fail_json(
            msg=e.describe(), errors=[e.as_dict()], applied=written, changed=bool(written), requests=client.requests, invocation=invocation
        )
    out = dict(
        changed=any(r["changed"] for r in results), objects=results, requests=client.requests, retried=client.retried, invocation=invocation
    )
    if module._diff:
        out["diff"] = diffs
    module.exit_json(**out)


if __name__ == "__main__":
    main()
