# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that derive serving objects from the ``models`` list.

The ``models`` list (group_vars/all/models.yml) is the one declaration of every served
model. These filters are the canonical derivations that playbooks and tests use; the
Helm charts under gitops/charts/ implement the same rules (tests pin both to the same
golden files).
"""

from __future__ import annotations

GATEWAY_API_BASE = "http://inference-gateway.inference.svc.cluster.local/v1"
UPSTREAM_KEY_REF = "os.environ/UPSTREAM_API_KEY"
TIER_FLOORS = {"cost": 0, "dev": 1, "prod": 2}


class ModelsError(ValueError):
    """A model entry cannot be turned into serving objects (names the field)."""


def _err(msg):
    try:  # a proper Ansible error inside a play, a ValueError elsewhere
        from ansible.errors import AnsibleFilterError

        return AnsibleFilterError(msg)
    except ImportError:  # pragma: no cover
        return ModelsError(msg)


def _price(model, index, key):
    price = (model.get("price") or {}).get(key)
    if isinstance(price, bool) or not isinstance(price, (int, float)) or price < 0:
        raise _err(
            "models[%d].price.%s: %r is not a price >= 0 (USD per token); every model needs prices so budgets bind" % (index, key, price)
        )
    return float(price)


def route_served_name(model, models):
    """The model name clients put in the request body for this model's route.

    A canary answers to its stable model's served name (the HTTPRoute splits that name's
    traffic between the pools), so its route name is the stable's served_name.
    """
    stable = model.get("canary_of")
    if stable:
        for other in models:
            if other.get("name") == stable:
                return other["served_name"]
        raise _err("models: canary_of %r of model %r names no model" % (stable, model.get("name")))
    return model["served_name"]


def litellm_model_list(models, api_base=GATEWAY_API_BASE, api_key=UPSTREAM_KEY_REF):
    """LiteLLM ``model_list`` for ``models``: one entry per tenant-facing model.

    Every entry points at the inference gateway (LiteLLM never reaches a model Service
    directly), carries the one shared upstream key reference and the model's mandatory
    per-token prices. Canaries get no entry: they are reached through their stable model's
    alias by the gateway's weighted route.
    """
    if not isinstance(models, list):
        raise _err("models: expected a list, got %s" % type(models).__name__)
    out = []
    for index, model in enumerate(models):
        if not isinstance(model, dict):
            raise _err("models[%d]: expected a dict" % index)
        for field in ("name", "served_name"):
            if not model.get(field):
                raise _err("models[%d].%s is required" % (index, field))
        prices = (_price(model, index, "input_per_token"), _price(model, index, "output_per_token"))
        if model.get("canary_of"):
            continue
        out.append(
            {
                "model_name": model["name"],
                "litellm_params": {
                    "model": "openai/" + route_served_name(model, models),
                    "api_base": api_base,
                    "api_key": api_key,
                },
                "model_info": {
                    "id": model["name"],
                    "input_cost_per_token": prices[0],
                    "output_cost_per_token": prices[1],
                },
            }
        )
    return out


def model_replica_floor(model, cost_tier):
    """Replica floor of a model's ScaledObject: its min_replicas, else the cost tier's."""
    if model.get("min_replicas") is not None:
        return int(model["min_replicas"])
    if cost_tier not in TIER_FLOORS:
        raise _err("cost_tier: %r is not one of %s" % (cost_tier, ", ".join(TIER_FLOORS)))
    return TIER_FLOORS[cost_tier]


def model_by_name(models, name):
    """The entry of ``models`` called ``name`` (error naming the choices otherwise)."""
    for model in models or []:
        if model.get("name") == name:
            return model
    raise _err("model %r is not in models (choices: %s)" % (name, ", ".join(m.get("name", "?") for m in models or [])))


def model_workload(model):
    """Kind, API version and name of the object that runs a model's pods."""
    if model.get("engine", "vllm") == "kserve":
        return {"kind": "InferenceService", "api_version": "serving.kserve.io/v1beta1", "name": model["name"]}
    return {"kind": "Deployment", "api_version": "apps/v1", "name": model["name"]}


class FilterModule:
    """llm.platform model filters."""

    def filters(self):
        return {
            "litellm_model_list": litellm_model_list,
            "model_replica_floor": model_replica_floor,
            "model_by_name": model_by_name,
            "model_workload": model_workload,
            "route_served_name": route_served_name,
        }
