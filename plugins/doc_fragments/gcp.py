# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options shared by the llm.platform GCP/GKE modules."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  auth_kind:
    description:
      - How to authenticate. V(application) uses Application Default Credentials
        (C(GOOGLE_APPLICATION_CREDENTIALS), C(gcloud auth application-default login), the metadata server).
      - V(serviceaccount) reads a service-account key from O(service_account_file) or O(service_account_contents).
      - V(accesstoken) uses a short-lived OAuth token from O(access_token) (for example from impersonation).
      - V(anonymous) sends no credentials; only for API test servers and emulators (with O(api_endpoint)).
      - Credentials are never printed or returned.
    type: str
    choices: [application, serviceaccount, accesstoken, anonymous]
    default: application
  service_account_file:
    description: Path to a service-account JSON key (with O(auth_kind=serviceaccount)). Env C(GCP_SERVICE_ACCOUNT_FILE).
    type: path
  service_account_contents:
    description: Service-account JSON key as a string (with O(auth_kind=serviceaccount)). Env C(GCP_SERVICE_ACCOUNT_CONTENTS).
    type: jsonarg
  access_token:
    description: OAuth 2.0 access token (with O(auth_kind=accesstoken)). Env C(GCP_ACCESS_TOKEN).
    type: str
  scopes:
    description: OAuth scopes requested for ADC and key-file credentials.
    type: list
    elements: str
    default: ['https://www.googleapis.com/auth/cloud-platform']
  api_endpoint:
    description:
      - Base URL replacing every Google API endpoint (C(https://container.googleapis.com), ...),
        for API test servers and private endpoints. A C({service}) placeholder is replaced by the
        API name (V(container), V(iam), V(cloudresourcemanager), V(serviceusage), V(secretmanager), V(compute)).
      - Env C(LLM_PLATFORM_GCP_API_ENDPOINT).
    type: str
  request_timeout:
    description: Seconds to wait for one HTTP response.
    type: int
    default: 60
  retries:
    description:
      - Retries of one request on HTTP 429, 5xx, connection errors and GKE's
        "incompatible operation in progress" precondition, with exponential backoff and jitter
        (C(Retry-After) is honoured). A quota error is never retried.
    type: int
    default: 6
  retry_backoff:
    description: First backoff delay in seconds (doubles per retry, at most 60). Env C(LLM_PLATFORM_GCP_RETRY_BACKOFF).
    type: float
    default: 1.0
  operation_timeout:
    description: Seconds to wait for one long-running operation before failing (the operation may still complete).
    type: int
    default: 1800
  poll_interval:
    description: Seconds between polls of a long-running operation. Env C(LLM_PLATFORM_GCP_POLL_INTERVAL).
    type: float
    default: 5.0
requirements:
  - google-auth
  - requests
notes:
  - Every module returns C(requests), the mutating requests it sent (method, API, path, body), and
    C(operations), the long-running operations it waited for with their progress trail.
  - Check mode sends no mutating request; it reads current state and reports what would change.
"""
