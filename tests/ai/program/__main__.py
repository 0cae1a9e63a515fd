"""AiServices from another team's program: their own network and key handed over as plain ids (a SharedServicesRef
built by hand, a key without a version), an AI Services account with a provisioned chat deployment, and a plain
azure-native Azure ML workspace (not SecureWorkspace) that gets the outbound rule and the Entra ID connection."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

import pulumi  # noqa: E402
from pulumi_azure_native import machinelearningservices as ml  # noqa: E402
from pulumi_azure_native import managedidentity  # noqa: E402

from aiinfra.components import (  # noqa: E402
    AiServices,
    AiServicesArgs,
    AiWorkspaceConnection,
    CustomerManagedKey,
    NamingConvention,
    SharedServicesRef,
)

SUB = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-net/providers"
VNET = f"{SUB}/Microsoft.Network/virtualNetworks/vnet-fab"
ZONES = f"{SUB}/Microsoft.Network/privateDnsZones"

shared = SharedServicesRef(
    naming=NamingConvention(prefix="fabrikam", environment="qa", location="swedencentral"),
    resource_group_name="rg-net",
    tags={"owner": "ai@fabrikam.test", "costCenter": "7", "environment": "qa"},
    virtual_network_id=VNET,
    private_endpoint_subnet_id=f"{VNET}/subnets/endpoints",
    private_dns_zone_ids={
        z: f"{ZONES}/{z}" for z in ("privatelink.openai.azure.com", "privatelink.cognitiveservices.azure.com")
    },
    key_vault_id=f"{SUB}/Microsoft.KeyVault/vaults/kv-fab",
    key_vault_uri="https://kv-fab.vault.azure.net/",
    storage_account_id=f"{SUB}/Microsoft.Storage/storageAccounts/stfab",
    storage_account_name="stfab",
    container_registry_id=f"{SUB}/Microsoft.ContainerRegistry/registries/crfab",
    container_registry_login_server="crfab.azurecr.io",
    log_analytics_workspace_id=f"{SUB}/Microsoft.OperationalInsights/workspaces/log-fab",
    application_insights_id=f"{SUB}/Microsoft.Insights/components/appi-fab",
    cmk=CustomerManagedKey(
        key_vault_id=f"{SUB}/Microsoft.KeyVault/vaults/kv-fab",
        key_vault_uri="https://kv-fab.vault.azure.net/",
        key_name="openai",
        key_id="https://kv-fab.vault.azure.net/keys/openai",
        identity_id=f"{SUB}/Microsoft.ManagedIdentity/userAssignedIdentities/id-cmk",
        identity_client_id="6d1c2b3a-0000-4000-8000-000000000001",
        identity_principal_id="6d1c2b3a-0000-4000-8000-000000000002",
    ),
)

ai = AiServices(
    "genai",
    AiServicesArgs(
        naming=shared.naming,
        resource_group_name="rg-fab-ai",
        tags=shared.tags,
        shared=shared,
        name="assist",
        kind="AIServices",
        require_cmk=True,
        allowed_fqdns=["srch-fab.search.windows.net"],
        allow_shared_storage=False,
        content_filter={"hate": "Low", "sexual": "Low", "violence": "Low", "selfHarm": "Low"},  # pyright: ignore[reportArgumentType]  # their style: dicts, which the args model validates
        deployments=[  # pyright: ignore[reportArgumentType]  # their style: dicts, which the args model validates
            {
                "name": "gpt-ptu",
                "model": "gpt-4o",
                "version": "2024-11-20",
                "sku": "DataZoneProvisionedManaged",
                "capacity": 25,
            },
            {
                "name": "embed",
                "model": "text-embedding-3-small",
                "version": "1",
                "sku": "GlobalStandard",
                "capacity": 100,
            },
        ],
    ),
)

# Their own workspace, written in plain azure-native, with the rule the account hands out.
identity = managedidentity.UserAssignedIdentity("fab-mlw-id", resource_group_name="rg-fab-ml", location="swedencentral")
workspace = ml.Workspace(
    "fab-mlw",
    workspace_name="mlw-fab-qa",
    resource_group_name="rg-fab-ml",
    location="swedencentral",
    identity=ml.ManagedServiceIdentityArgs(
        type=ml.ManagedServiceIdentityType.USER_ASSIGNED, user_assigned_identities=[identity.id]
    ),
    primary_user_assigned_identity=identity.id,
    public_network_access="Disabled",
    managed_network=ml.ManagedNetworkSettingsArgs(
        isolation_mode=ml.IsolationMode.ALLOW_ONLY_APPROVED_OUTBOUND,
        outbound_rules={"genai": ai.workspace_outbound_rule("genai").wire()},
    ),
)
ai.connect_workspace(
    AiWorkspaceConnection(
        key="fab",
        workspace_name=workspace.name,
        resource_group_name="rg-fab-ml",
        principal_ids=[identity.principal_id.apply(lambda p: p)],
        connection_name="genai",
    )
)

pulumi.export("endpoint", ai.endpoint)
