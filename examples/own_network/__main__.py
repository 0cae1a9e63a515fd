"""A stack that has its own network: the platform team's hub VNet, private DNS zones, Key Vault, storage,
registry and Log Analytics already exist. It describes them in a SharedServicesRef and puts a private Azure ML
workspace with a scale-to-zero GPU pool on them."""

import pulumi
from pulumi_azure_native import resources

from aiinfra.components import (
    GpuComputePool,
    GpuComputePoolArgs,
    NamingConvention,
    SecureWorkspace,
    SecureWorkspaceArgs,
    SharedServicesRef,
)

hub = pulumi.Config().require("hub")  # /subscriptions/<id>/resourceGroups/<the hub's group>
net = f"{hub}/providers/Microsoft.Network"
naming = NamingConvention(prefix="contoso", environment="dev", location="eastus")
tags = {"owner": "ml-team@contoso.com", "costCenter": "CC-1234", "environment": "dev"}

group = resources.ResourceGroup(
    "rg", resource_group_name=naming.name("resource_group", "ml"), location=naming.location, tags=tags
)
shared = SharedServicesRef(
    naming=naming,
    resource_group_name=group.name,
    tags=tags,
    virtual_network_id=f"{net}/virtualNetworks/vnet-hub",
    private_endpoint_subnet_id=f"{net}/virtualNetworks/vnet-hub/subnets/snet-private-endpoints",
    private_dns_zone_ids={
        zone: f"{net}/privateDnsZones/{zone}"
        for zone in ("privatelink.api.azureml.ms", "privatelink.notebooks.azure.net")
    },
    key_vault_id=f"{hub}/providers/Microsoft.KeyVault/vaults/kv-contoso-hub",
    key_vault_uri="https://kv-contoso-hub.vault.azure.net/",
    storage_account_id=f"{hub}/providers/Microsoft.Storage/storageAccounts/stcontosohub",
    storage_account_name="stcontosohub",
    container_registry_id=f"{hub}/providers/Microsoft.ContainerRegistry/registries/crcontosohub",
    container_registry_login_server="crcontosohub.azurecr.io",
    log_analytics_workspace_id=f"{hub}/providers/Microsoft.OperationalInsights/workspaces/log-contoso-hub",
    application_insights_id=f"{hub}/providers/Microsoft.Insights/components/appi-contoso-hub",
)
workspace = SecureWorkspace(
    "research",
    SecureWorkspaceArgs(
        name="research",
        naming=naming,
        resource_group_name=group.name,
        tags=tags,
        log_analytics_workspace_id=shared.log_analytics_workspace_id,
        shared=shared,
    ),
)
pool = GpuComputePool(
    "research-t4",
    GpuComputePoolArgs(
        workspace=workspace.ref,
        name="t4-lowpri",
        vm_size="Standard_NC4as_T4_v3",
        max_nodes=2,
    ),
)
pulumi.export("workspaceName", workspace.workspace_name)
pulumi.export("computeName", pool.compute_name)
