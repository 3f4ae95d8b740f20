#!/usr/bin/python
# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pause or resume a KEDA ScaledObject and wait until KEDA reports it."""

from __future__ import annotations

DOCUMENTATION = r"""
module: keda_autoscaling
short_description: Pause or resume a KEDA ScaledObject and wait until KEDA reports it
version_added: "0.1.0"
description:
  - Sets (V(paused)) or removes (V(resumed)) the annotation C(autoscaling.keda.sh/paused) of one
    ScaledObject with a merge patch, then waits until KEDA's own status agrees - C(Paused=True)
    for V(paused); C(Paused) not C(True) and the ScaledObject's HPA present for V(resumed) - on
    two polls in a row.
  - "KEDA race on resume (kedacore/keda#6421): a ScaledObject created paused and then resumed can
    keep C(Paused=True) although its HPA scales it, because the scale loop the resume starts writes
    back the conditions it read before the reconciler cleared C(Paused). Argo CD then reports the
    Application C(Suspended). When this module sees that state twice in a row it makes KEDA
    reconcile once more without starting a new loop (the annotation set to V(false), then removed;
    both mean not paused to KEDA) and counts it in RV(nudges)."
  - Changed only when the annotation changed. A rerun with the same O(state) changes nothing.
  - Calls are retried with exponential backoff on HTTP 429, 5xx and connection errors.
options:
  name:
    description: The ScaledObject's name.
    type: str
    required: true
  namespace:
    description: The ScaledObject's namespace.
    type: str
    required: true
  state:
    description: V(paused) sets the pause annotation to V(true); V(resumed) removes it.
    type: str
    choices: [paused, resumed]
    required: true
  wait:
    description: Wait until KEDA reports O(state) (see the description). Never in check mode.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for KEDA before failing with what it reported last.
    type: int
    default: 120
  wait_poll:
    description: Seconds between two reads while waiting.
    type: float
    default: 2
extends_documentation_fragment:
  - llm.platform.k8s
attributes:
  check_mode:
    support: full
    description: Reads the ScaledObject and reports whether the annotation would change; writes and waits for nothing.
  diff_mode:
    support: full
    description: The annotation before and after.
notes:
  - Resuming a ScaledObject that does not exist fails naming it; pausing one changes nothing and warns
    (without the autoscaling feature there is no ScaledObject and nothing to pause).
  - V(paused) counts as reported also while KEDA has never reconciled the ScaledObject (no status
    conditions yet) - without that first reconcile there is no HPA or scale loop to move replicas.
  - Argo CD must ignore the annotation (C(ignoreDifferences) with C(RespectIgnoreDifferences)) or a sync sets it back.
requirements:
  - kubernetes >= 24.2.0
seealso:
  - module: llm.platform.k8s_apply
  - name: kedacore/keda#6421 (Paused condition back to True after a resume)
    link: https://github.com/kedacore/keda/issues/6421
    description: The KEDA race this module mends.
author:
  - llm.platform maintainers (@llm-platform)
"""

EXAMPLES = r"""
- name: Resume the autoscaling of qwen-local
  llm.platform.keda_autoscaling:
    name: qwen-local
    namespace: serving
    state: resumed

- name: Pause it before scaling by hand, without waiting for KEDA
  llm.platform.keda_autoscaling:
    name: qwen-local
    namespace: serving
    state: paused
    wait: false
"""

RETURN = r"""
annotation:
  description: The pause annotation before and after (null when absent).
  returned: always
  type: dict
  sample: {"before": "true", "after": null}
keda:
  description:
    - What KEDA reported when the wait ended - whether the HPA exists, and the status and message of
      the Ready, Active and Paused conditions.
  returned: when waited for
  type: dict
  sample: {"hpa": true, "ready": {"status": "True", "message": "ScaledObject is defined correctly and is ready for scaling"},
           "active": {"status": "False", "message": "Scaling is not performed because triggers are not active"},
           "paused": {"status": "False", "message": "pause annotation removed for ScaledObject"}}
found:
  description: Whether the ScaledObject exists (false only for V(paused) of a missing one, which changes nothing).
  returned: always
  type: bool
  sample: true
nudges:
  description: How many extra reconciles were asked of KEDA for a stale C(Paused=True) after a resume (kedacore/keda#6421).
  returned: always
  type: int
  sample: 1
requests:
  description: Every API call made (method, path), no bodies.
  returned: always
  type: list
  elements: dict
  sample: [{"method": "GET", "path": "/apis/keda.sh/v1alpha1/namespaces/serving/scaledobjects/qwen-local", "dry_run": false}]
"""

import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.llm.platform.plugins.module_utils import _k8s, _keda


def argument_spec():
    spec = _k8s.k8s_argument_spec()
    spec.update(
        name=dict(type="str", required=True),
        namespace=dict(type="str", required=True),
        state=dict(type="str", required=True, choices=["paused", "resumed"]),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=120),
        wait_poll=dict(type="float", default=2),
    )
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    p = module.params
    client = _k8s.module_client(module)
    scaled = _keda.ScaledObject(client, p["namespace"], p["name"])
    try:
        changed, before, after, seen = _keda.ensure(scaled, p["state"], module.check_mode, p["wait"], p["wait_timeout"], p["wait_poll"])
    except ValueError as e:
        module.fail_json(msg=str(e), requests=client.requests, nudges=scaled.nudges)
    except _keda.KedaTimeout as e:
        module.fail_json(msg=str(e), keda=e.seen, changed=scaled.changed, requests=client.requests, nudges=scaled.nudges)
    except _k8s.K8sError as e:
        module.fail_json(msg=e.describe(), requests=client.requests, nudges=scaled.nudges)
    if scaled.missing:
        module.warn("ScaledObject %s/%s does not exist (autoscaling is off for it): nothing to pause" % (p["namespace"], p["name"]))
    annotation = {"before": before, "after": after}
    out = dict(changed=changed, found=not scaled.missing, annotation=annotation, nudges=scaled.nudges, requests=client.requests)
    if seen is not None:
        out["keda"] = seen
    if module._diff and changed:
        header = "ScaledObject %s/%s annotation %s" % (p["namespace"], p["name"], _keda.PAUSED)
        out["diff"] = dict(before="%s\n" % json.dumps(before), after="%s\n" % json.dumps(after), before_header=header, after_header=header)
    module.exit_json(**out)


if __name__ == "__main__":
    main()
