"""BatchGpuPool and ContainerAppsGpu from another Pulumi program: the network, vault, registry, storage and key were
made elsewhere, so the program hands over plain ids (a SharedServicesRef built by hand) and uses the opt-outs."""

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

import pulumi  # noqa: E402

from aiinfra.components.batch_autoscale import AutoscaleSettings  # noqa: E402
from aiinfra.components.batch_gpu_pool import BatchGpuPool, BatchGpuPoolArgs  # noqa: E402
from aiinfra.components.container_apps_gpu import ContainerAppsGpu, ContainerAppsGpuArgs  # noqa: E402
from aiinfra.components.interfaces import CustomerManagedKey  # noqa: E402
from aiinfra.components.naming import NamingConvention  # noqa: E402
from aiinfra.components.shared_services import SharedServicesRef  # noqa: E402

SUB = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-net/providers"
VNET = f"{SUB}/Microsoft.Network/virtualNetworks/vnet-acme"
VAULT = f"{SUB}/Microsoft.KeyVault/vaults/kv-acme"

shared = SharedServicesRef(
    naming=NamingConvention(prefix="acme", environment="lab", location="westus"),
    resource_group_name="rg-net",
    tags={"owner": "ml@acme.test", "costCenter": "42"},
    virtual_network_id=VNET,
    private_endpoint_subnet_id=f"{VNET}/subnets/pe",
    batch_subnet_id=f"{VNET}/subnets/batch",
    container_apps_subnet_id=f"{VNET}/subnets/aca",
    private_dns_zone_ids={
        "privatelink.batch.azure.com": f"{SUB}/Microsoft.Network/privateDnsZones/privatelink.batch.azure.com"
    },
    key_vault_id=VAULT,
    key_vault_uri="https://kv-acme.vault.azure.net",  # no trailing slash: secret URLs must still be right
    storage_account_id=f"{SUB}/Microsoft.Storage/storageAccounts/stacme",
    storage_account_name="stacme",
    container_registry_id=f"{SUB}/Microsoft.ContainerRegistry/registries/cracme",
    container_registry_login_server="cracme.azurecr.io",
    log_analytics_workspace_id=f"{SUB}/Microsoft.OperationalInsights/workspaces/log-acme",
    application_insights_id=f"{SUB}/Microsoft.Insights/components/appi-acme",
    cmk=CustomerManagedKey(
        key_vault_id=VAULT,
        key_vault_uri="https://kv-acme.vault.azure.net/",
        key_name="batch",
        key_id="https://kv-acme.vault.azure.net/keys/batch",
        key_version_url="https://kv-acme.vault.azure.net/keys/batch/0123456789abcdef0123456789abcdef",
        identity_id=f"{SUB}/Microsoft.ManagedIdentity/userAssignedIdentities/id-cmk",
        identity_client_id="6d1c2b3a-0000-4000-8000-000000000001",
        identity_principal_id="6d1c2b3a-0000-4000-8000-000000000002",
    ),
)
common: dict[str, Any] = dict(naming=shared.naming, resource_group_name="rg-acme-gpu", tags=shared.tags, shared=shared)

# A lab account on the public endpoint without the customer-managed key: both opt-outs, dedicated nodes only.
pool = BatchGpuPool(
    "lab",
    BatchGpuPoolArgs(
        **common,
        private_network=False,
        use_customer_managed_key=False,
        vm_size="Standard_NC64as_T4_v3",
        task_slots_per_node=4,
        task_scheduling="Spread",
        image="ubuntu-hpc-2404",
        autoscale=AutoscaleSettings(max_nodes=3, low_priority_share=0, evaluation_interval_minutes=15),
    ),
)

# West US has serverless GPUs but no availability zones; the network already has a queue endpoint. The image is
# pinned by digest and managed here; the API key already lives in their vault (declared existing). One caller range.
apps = ContainerAppsGpu(
    "lab",
    ContainerAppsGpuArgs(
        **common,
        queue_private_endpoint=False,
        caller_ranges={"scoring-vms": "10.8.4.0/24"},
        gpu_profiles=[{"workloadProfileType": "Consumption-GPU-NC24-A100", "name": "a100"}],  # pyright: ignore[reportArgumentType]  # their style: dicts, which the args model validates
        apps=[  # pyright: ignore[reportArgumentType]  # their style: dicts, which the args model validates
            {
                "name": "score",
                "image": "models/scorer@sha256:" + "ab" * 32,
                "cpu": 12,
                "memoryGib": 110,
                "queue": {"queueName": "score-jobs"},
                "secrets": [{"keyVaultSecret": "Api-Key", "envVar": "API_KEY", "existing": True}],
                "env": {"LOG_LEVEL": "info"},
            }
        ],
    ),
)

pulumi.export("batchPoolName", pool.pool_name)
pulumi.export("scoreFqdn", apps.app_fqdns["score"])
