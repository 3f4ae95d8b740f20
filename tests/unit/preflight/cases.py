"""Malformed configs, each one realistic mistake on top of a valid config of its inventory
(the first file of configs/ for that cloud), with the one variable path preflight must name.

Kinds (the misses of issue 15): relation (facts that must agree), downstream (passes a type
check but means something else later), collision (names that collide after derivation),
contradiction (limits that contradict each other), placeholder, secret (in the wrong place; its
value must never be printed), reporting (a type error or typo reported once, nothing else)."""

from __future__ import annotations

from kit import DELETE

KINDS = ("relation", "downstream", "collision", "contradiction", "placeholder", "secret", "reporting")
TOKEN = "ghp_R3alL00kingT0kenF0rT3sts0nly00000000"
MASTER = "sk-master-9f8e7d6c5b4a39281706"
PRIVATE_KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQ\n"
    "-----END OPENSSH PRIVATE KEY-----\n"
)


# The valid config each cloud's cases start from (configs/).
BASE = {"gke": "gke-zonal-l4.yml", "hetzner": "hetzner-nbg1-gex44.yml", "byo": "byo-operator-vault.yml", "lab": "lab-three-models.yml"}


class Case:
    def __init__(self, cloud, kind, case_id, patch, expected, secret=None, context=None, e2e=True):
        assert kind in KINDS, kind
        self.cloud, self.kind, self.id, self.patch, self.expected = cloud, kind, case_id, patch, expected
        self.secret, self.context, self.e2e = secret, context, e2e

    def __repr__(self):
        return "%s-%s" % (self.cloud, self.id)


def _gpu_workers(**hosts):
    return {"hosts": {"gpu_workers": hosts}, "exists": lambda p: not p.startswith("/nonexistent"), "ssh_identities": True}


CASES = [
    # ------------------------------------------------------------------ GKE (on gke-zonal-l4)
    Case(
        "gke",
        "relation",
        "node-location-in-another-region",
        {"substrate_gke_location": "us-central1", "substrate_gke_node_locations": ["us-central1-a", "us-east1-b"]},
        "substrate_gke_node_locations[1]",
    ),
    Case("gke", "relation", "zone-letter-the-region-lacks", {"substrate_gke_location": "europe-west1-a"}, "substrate_gke_location"),
    Case("gke", "relation", "machine-type-of-hetzner", {"cpu_pools.0.machine_type": "cpx42"}, "cpu_pools[0].machine_type"),
    Case(
        "gke",
        "relation",
        "accelerator-not-what-the-machine-carries",
        {"gpu_pools.0.machine_type": "a2-highgpu-1g"},
        "gpu_pools[0].accelerator",
    ),
    Case("gke", "relation", "gpu-count-not-what-the-machine-carries", {"gpu_pools.1.gpus_per_node": 4}, "gpu_pools[1].gpus_per_node"),
    Case(
        "gke",
        "relation",
        "accelerator-missing-in-the-node-zone",
        {
            "substrate_gke_location": "europe-west1",
            "substrate_gke_node_locations": ["europe-west1-c"],
            "gpu_pools.0.machine_type": "a2-highgpu-1g",
            "gpu_pools.0.accelerator": "nvidia-tesla-a100",
        },
        "gpu_pools[0].accelerator",
    ),
    Case(
        "gke",
        "downstream",
        "default-machine-type-carries-an-l4",
        {"gpu_pools.0.machine_type": DELETE, "gpu_pools.0.accelerator": "nvidia-tesla-t4"},
        "gpu_pools[0].accelerator",
    ),
    Case(
        "gke",
        "contradiction",
        "managed-stack-with-driver-install-disabled",
        {"gpu_pools.0.driver_version": "INSTALLATION_DISABLED"},
        "gpu_pools[0].driver_version",
    ),
    Case(
        "gke",
        "collision",
        "cluster-name-too-long-for-the-node-service-account",
        {"cluster_name": "llm-platform-europe-prod"},
        "cluster_name",
    ),
    Case(
        "gke",
        "relation",
        "private-nodes-control-plane-cidr-not-a-28",
        {"substrate_gke_private_nodes": True, "substrate_gke_master_ipv4_cidr_block": "172.16.0.0/24"},
        "substrate_gke_master_ipv4_cidr_block",
    ),
    Case(
        "gke",
        "placeholder",
        "oci-source-from-the-example",
        {"models.0.source": "oci://<registry>/qwen2.5-0.5b@sha256:<digest>"},
        "models[0].source",
    ),
    Case(
        "gke",
        "secret",
        "token-inside-the-repo-url",
        {"platform_repo_url": "https://ci-bot:%s@github.com/acme-corp/llm-platform.git" % TOKEN},
        "platform_repo_url",
        secret=TOKEN,
    ),
    Case("gke", "reporting", "gpu-count-as-a-word", {"gpu_pools.1.gpus_per_node": "two"}, "gpu_pools[1].gpus_per_node"),
    Case("gke", "downstream", "zero-gpus-becomes-one", {"models.0.gpus": 0}, "models[0].gpus"),
    Case(
        "gke",
        "contradiction",
        "prod-floor-above-max-replicas",
        {"cost_tier": "prod", "models.0.max_replicas": 1, "models.1.min_replicas": 0},
        "models[0].max_replicas",
    ),
    Case(
        "gke",
        "relation",
        "authorized-network-not-a-cidr",
        {"substrate_gke_master_authorized_networks": [{"cidr_block": "198.51.100.7/24", "display_name": "office"}]},
        "substrate_gke_master_authorized_networks[0].cidr_block",
    ),
    # ------------------------------------------------------------------ Hetzner (on hetzner-nbg1-gex44)
    Case(
        "hetzner", "relation", "location-outside-the-network-zone", {"substrate_hetzner_location": "ash"}, "substrate_hetzner_network_zone"
    ),
    Case(
        "hetzner",
        "relation",
        "vswitch-outside-eu-central",
        {"substrate_hetzner_location": "hil", "substrate_hetzner_network_zone": "us-west", "substrate_hetzner_vswitch_id": 123},
        "substrate_hetzner_vswitch_id",
    ),
    Case(
        "hetzner",
        "relation",
        "subnet-outside-the-network",
        {"substrate_hetzner_subnet_cidr": "10.1.1.0/24"},
        "substrate_hetzner_subnet_cidr",
    ),
    Case(
        "hetzner",
        "relation",
        "pod-cidr-overlaps-the-network",
        {"substrate_hetzner_k3s_cluster_cidr": "10.0.128.0/17"},
        "substrate_hetzner_k3s_cluster_cidr",
    ),
    Case(
        "hetzner",
        "relation",
        "service-cidr-inside-the-pod-cidr",
        {"substrate_hetzner_k3s_service_cidr": "10.42.128.0/20"},
        "substrate_hetzner_k3s_service_cidr",
    ),
    Case(
        "hetzner",
        "relation",
        "vswitch-subnet-overlaps-the-cloud-subnet",
        {"substrate_hetzner_vswitch_id": 1, "substrate_hetzner_vswitch_subnet_cidr": "10.0.1.128/25"},
        "substrate_hetzner_vswitch_subnet_cidr",
    ),
    Case("hetzner", "relation", "cpu-machine-type-of-gcp", {"cpu_pools.0.machine_type": "e2-standard-4"}, "cpu_pools[0].machine_type"),
    Case("hetzner", "relation", "gpu-machine-type-of-gcp", {"gpu_pools.0.machine_type": "g2-standard-4"}, "gpu_pools[0].machine_type"),
    Case("hetzner", "relation", "accelerator-not-on-the-gex44", {"gpu_pools.0.accelerator": "nvidia-l4"}, "gpu_pools[0].accelerator"),
    Case("hetzner", "downstream", "arm-workers-with-the-amd64-k3s", {"cpu_pools.0.machine_type": "cax31"}, "cpu_pools[0].machine_type"),
    Case("hetzner", "contradiction", "gpu-servers-counted-as-autoscaling", {"gpu_pools.0.max_nodes": 4}, "gpu_pools[0].max_nodes"),
    Case("hetzner", "collision", "pool-named-like-the-control-plane", {"cpu_pools.0.name": "cp"}, "cpu_pools[0].name"),
    Case(
        "hetzner",
        "placeholder",
        "checksum-from-the-comment",
        {"substrate_hetzner_k3s_binary_checksum": "sha256:<hex>"},
        "substrate_hetzner_k3s_binary_checksum",
    ),
    Case(
        "hetzner",
        "downstream",
        "checksum-in-another-format",
        {"substrate_hetzner_k3s_binary_checksum": "md5:9e107d9d372bb6826bd81d3542a419d6"},
        "substrate_hetzner_k3s_binary_checksum",
    ),
    Case(
        "hetzner",
        "secret",
        "private-key-as-the-public-key",
        {"substrate_hetzner_ssh_public_key": PRIVATE_KEY},
        "substrate_hetzner_ssh_public_key",
        secret="b3BlbnNzaC1rZXktdjEAAAAABG5vbmU",
    ),
    Case(
        "hetzner",
        "secret",
        "password-in-the-k3s-mirror-url",
        {"substrate_hetzner_k3s_binary_url": "https://deploy:S3cretMirrorPass@mirror.acme-corp.de/k3s/k3s"},
        "substrate_hetzner_k3s_binary_url",
        secret="S3cretMirrorPass",
    ),
    Case(
        "hetzner",
        "relation",
        "gpu-worker-key-file-missing",
        {},
        "gpu_workers.gex-2.ansible_ssh_private_key_file",
        context=_gpu_workers(
            **{
                "gex-1": {"ansible_host": "203.0.113.10"},
                "gex-2": {"ansible_host": "203.0.113.11", "ansible_ssh_private_key_file": "/nonexistent/gex.key"},
            }
        ),
        e2e=False,
    ),
    Case(
        "hetzner",
        "relation",
        "gpu-worker-without-an-address",
        {},
        "gpu_workers.gex-1.ansible_host",
        context=_gpu_workers(**{"gex-1": {"ansible_user": "root"}, "gex-2": {"ansible_host": "203.0.113.11"}}),
        e2e=False,
    ),
    Case(
        "hetzner",
        "relation",
        "gpu-workers-not-what-the-pools-count",
        {},
        "gpu_pools",
        context=_gpu_workers(**{"gex-%d" % i: {"ansible_host": "203.0.113.%d" % (10 + i)} for i in range(3)}),
        e2e=False,
    ),
    Case(
        "hetzner",
        "contradiction",
        "even-control-plane",
        {"substrate_hetzner_control_plane_count": 2},
        "substrate_hetzner_control_plane_count",
    ),
    Case(
        "hetzner",
        "reporting",
        "operator-cidrs-as-a-string",
        {"substrate_hetzner_operator_cidrs": "198.51.100.0/24"},
        "substrate_hetzner_operator_cidrs",
    ),
    Case("hetzner", "downstream", "gpu-stack-gke-managed-off-gke", {"gpu_stack": "gke-managed"}, "gpu_stack"),
    # ------------------------------------------------------------------ BYO (on byo-operator-vault)
    Case("byo", "downstream", "kubeconfig-that-does-not-exist", {"kubeconfig_path": "/nonexistent/kubeconfig"}, "kubeconfig_path"),
    Case("byo", "downstream", "empty-gateway-class", {"gateway_class": ""}, "gateway_class"),
    Case("byo", "relation", "gke-gateway-class-off-gke", {"gateway_class": "gke-l7-rilb"}, "gateway_class"),
    Case("byo", "relation", "gke-managed-gpu-stack-off-gke", {"gpu_stack": "gke-managed"}, "gpu_stack"),
    Case(
        "byo",
        "contradiction",
        "version-range-upside-down",
        {"substrate_byo_min_version": "1.35", "substrate_byo_max_version": "1.31"},
        "substrate_byo_max_version",
    ),
    Case("byo", "reporting", "version-as-a-number", {"substrate_byo_min_version": 1.3}, "substrate_byo_min_version"),
    Case(
        "byo",
        "secret",
        "master-key-in-the-litellm-url",
        {"tenants_litellm_api_url": "http://admin:%s@litellm.internal.acme-corp.de:4000" % MASTER},
        "tenants_litellm_api_url",
        secret=MASTER,
    ),
    Case(
        "byo",
        "placeholder",
        "vault-host-left-as-a-placeholder",
        {"secret_vault_server": "https://<vault-host>:8200"},
        "secret_vault_server",
    ),
    Case("byo", "collision", "tenant-named-like-a-platform-namespace", {"tenants.2.name": "litellm"}, "tenants[2].name"),
    Case(
        "byo",
        "collision",
        "key-aliases-collide-across-tenants",
        {"tenants.0.name": "sales-crm", "tenants.1.keys.0.name": "crm-default"},
        "tenants[1].keys[0].name",
    ),
    Case("byo", "contradiction", "key-budget-above-the-tenant", {"tenants.1.keys.1.max_usd": 500.0}, "tenants[1].keys[1].max_usd"),
    Case(
        "byo",
        "contradiction",
        "gpu-queue-above-the-quota",
        {"platform_gpu_quota": 4, "tenants.0.gpu_queue.gpus": 6},
        "tenants[0].gpu_queue.gpus",
    ),
    Case("byo", "downstream", "domain-given-as-a-url", {"platform_domain": "https://llm.acme-corp.de"}, "platform_domain"),
    Case(
        "byo",
        "downstream",
        "scp-like-repo-url-with-a-slash",
        {"platform_repo_url": "git@github.com/acme-corp/llm-platform.git"},
        "platform_repo_url",
    ),
    Case("byo", "relation", "file-repo-url-off-the-lab", {"platform_repo_url": "file:///srv/git/llm-platform"}, "platform_repo_url"),
    Case("byo", "downstream", "model-source-without-an-org", {"models.1.source": "hf://Qwen2.5-7B-Instruct"}, "models[1].source"),
    Case(
        "byo",
        "reporting",
        "mistyped-budget-key",
        {"tenants.0.budgett": {"max_usd": 800.0, "window": "30d"}, "tenants.0.budget": DELETE},
        "tenants[0].budgett",
    ),
    # ------------------------------------------------------------------ lab (on lab-three-models)
    Case(
        "lab",
        "downstream",
        "node-shape-for-a-pool-that-does-not-exist",
        {
            "substrate_lab_node_shapes": {
                "system": {"cpu": "8", "memory": "32Gi", "pods": "110"},
                "gpu-h100": {"cpu": "48", "memory": "192Gi", "pods": "110"},
            }
        },
        "substrate_lab_node_shapes.gpu-h100",
    ),
    Case(
        "lab",
        "collision",
        "extra-pool-named-like-a-gpu-pool",
        {"substrate_lab_extra_gpu_pools.0.name": "gpu-l4"},
        "substrate_lab_extra_gpu_pools[0].name",
    ),
    Case("lab", "relation", "privileged-api-server-port", {"substrate_lab_apiserver_port": 443}, "substrate_lab_apiserver_port"),
    Case("lab", "relation", "gpu-operator-on-simulated-gpus", {"gpu_stack": "operator"}, "gpu_stack"),
    Case("lab", "collision", "tenant-named-argocd", {"tenants.1.name": "argocd"}, "tenants[1].name"),
    Case(
        "lab", "downstream", "engine-arg-the-chart-sets", {"models.0.engine_args": ["--tensor-parallel-size=2"]}, "models[0].engine_args[0]"
    ),
    Case("lab", "downstream", "engine-arg-with-a-space", {"models.2.engine_args": ["--max-model-len 8192"]}, "models[2].engine_args[0]"),
    Case(
        "lab",
        "contradiction",
        "replica-floors-beyond-the-fleet",
        {"models.0.min_replicas": 2, "models.0.max_replicas": 2, "models.2.min_replicas": 1},
        "models[2].min_replicas",
    ),
    Case(
        "lab",
        "secret",
        "token-in-the-bench-litellm-url",
        {"bench_litellm_url": "http://admin:LabSecretToken1234@127.0.0.1:4000"},
        "bench_litellm_url",
        secret="LabSecretToken1234",
    ),
    Case(
        "lab",
        "placeholder",
        "bench-image-digest-from-the-comment",
        {"bench_runner": "job", "bench_job_image": "registry.acme-corp.de/llm-platform/bench@sha256:<64 hex>"},
        "bench_job_image",
    ),
    Case(
        "lab",
        "downstream",
        "jsonl-dataset-that-does-not-exist",
        {"bench_dataset": "jsonl", "bench_dataset_path": "/nonexistent/prompts.jsonl"},
        "bench_dataset_path",
    ),
    Case("lab", "reporting", "budget-as-a-word", {"tenants.0.budget.max_usd": "lots"}, "tenants[0].budget.max_usd"),
    Case("lab", "downstream", "empty-served-name", {"models.0.served_name": ""}, "models[0].served_name"),
    Case("lab", "downstream", "zero-gpus-on-a-model", {"models.2.gpus": 0}, "models[2].gpus"),
    Case("lab", "relation", "gke-gateway-class-in-the-lab", {"gateway_class": "gke-l7-rilb"}, "gateway_class"),
    Case("lab", "placeholder", "tenant-model-left-as-your-model", {"tenants.2.models": ["your-model"]}, "tenants[2].models[0]"),
]
