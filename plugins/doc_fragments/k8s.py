# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options shared by the llm.platform Kubernetes modules (action group llm.platform.k8s)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to the kubeconfig file. If not set, E(K8S_AUTH_KUBECONFIG), then the client's default
        (E(KUBECONFIG), C(~/.kube/config)).
    type: path
  context:
    description:
      - Context of the kubeconfig to use; defaults to its current context. Falls back to E(K8S_AUTH_CONTEXT).
    type: str
  request_timeout:
    description:
      - Seconds to wait for one API answer before the attempt counts as failed.
    type: float
    default: 30
  retries:
    description:
      - How many times a call is retried (exponential backoff 0.5 s, 1 s, 2 s, ... capped at 8 s, or the
        server's C(Retry-After)) on HTTP 429, 5xx and connection errors, and on 409 conflicts other than
        field-manager conflicts.
    type: int
    default: 5
"""
