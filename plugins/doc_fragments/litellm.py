# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options shared by the llm.platform.litellm_* modules."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  api_url:
    description:
      - Base URL of the LiteLLM proxy, for example V(http://127.0.0.1:4000).
      - If not set, the environment variable E(LITELLM_API_URL) is used.
    type: str
    default: http://127.0.0.1:4000
  api_key:
    description:
      - "The LiteLLM master key (a proxy admin key). Sent as C(Authorization: Bearer) and C(x-api-key)."
      - If not set, the environment variable E(LITELLM_MASTER_KEY) is used.
      - Never logged.
    type: str
    required: true
  validate_certs:
    description:
      - Verify the TLS certificate of O(api_url).
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for one HTTP answer before the attempt counts as failed.
    type: float
    default: 30
  retries:
    description:
      - How many times a call is retried after HTTP 429, 5xx, a connection error or a
        timeout, with exponential backoff (0.5 s, 1 s, 2 s, ... capped at 8 s).
      - Then the module fails with a message naming the call, the HTTP status and LiteLLM's error.
    type: int
    default: 3
  changed_by:
    description:
      - Optional value of the C(litellm-changed-by) audit header.
    type: str
notes:
  - Written against LiteLLM 1.108.7 with a database (C(store_model_in_db)). Errors are classified by
    HTTP status first, then by LiteLLM's C(error.type) where it is specific.
  - Only the options you set are compared with the server, so defaults filled in by LiteLLM never
    cause a perpetual change.
"""

    ATTRIBUTES = r"""
attributes:
  check_mode:
    support: full
    description: Only read calls are made; the result says what would change.
  diff_mode:
    support: full
    description: The diff shows only the fields you set that would change.
"""
