"""AksGpuCluster from another Pulumi program: the network, DNS zone, vault key and workspace were made elsewhere,
so the program hands over plain ids (a SharedServicesRef built by hand, an AmlAttachment by name)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

import pulumi  # noqa: E402
from pulumi_azure_native import privatedns  # noqa: E402

from aiinfra.components.aks_gpu_cluster import (  # noqa: E402
    AksGpuCluster,
    AksGpuClusterArgs,
    AmlAttachment,
    AzureMlExtensionSettings,
    CpuNodePool,
    GpuNodePool,
    InferenceTls,
)
from aiinfra.components.interfaces import CustomerManagedKey  # noqa: E402
from aiinfra.components.naming import NamingConvention  # noqa: E402
from aiinfra.components.shared_services import SharedServicesRef  # noqa: E402

config = pulumi.Config()
SUB = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-net/providers"
VAULT = f"{SUB}/Microsoft.KeyVault/vaults/kv-acme"
# The other team's workspace runs under a user-assigned identity with this principal id.
WORKSPACE_PRINCIPAL = "2c9d7e10-4b3a-4f5e-8a6b-1d2c3e4f5a6b"
TEST_CERT = "-----BEGIN CERTIFICATE-----\nMIIBfixture\n-----END CERTIFICATE-----\n"


ZONE = "privatelink.eastus.azmk8s.io"


def ref(environment: str, cmk: bool, zone_links: list[pulumi.Resource] | None = None) -> SharedServicesRef:
    return SharedServicesRef(
        naming=NamingConvention(prefix="acme", environment=environment, location="eastus"),
        resource_group_name="rg-acme-ml",
        tags={"owner": "ml@acme.test", "costCenter": "42"},
        virtual_network_id=f"{SUB}/Microsoft.Network/virtualNetworks/vnet-acme",
        private_endpoint_subnet_id=f"{SUB}/Microsoft.Network/virtualNetworks/vnet-acme/subnets/pe",
        aks_subnet_id=f"{SUB}/Microsoft.Network/virtualNetworks/vnet-acme/subnets/aks",
        private_dns_zone_ids={ZONE: f"{SUB}/Microsoft.Network/privateDnsZones/{ZONE}"},
        private_dns_zone_links={ZONE: zone_links} if zone_links else {},
        key_vault_id=VAULT,
        key_vault_uri="https://kv-acme.vault.azure.net/",
        storage_account_id=f"{SUB}/Microsoft.Storage/storageAccounts/stacme",
        storage_account_name="stacme",
        container_registry_id=f"{SUB}/Microsoft.ContainerRegistry/registries/cracme",
        container_registry_login_server="cracme.azurecr.io",
        log_analytics_workspace_id=f"{SUB}/Microsoft.OperationalInsights/workspaces/log-acme",
        application_insights_id=f"{SUB}/Microsoft.Insights/components/appi-acme",
        cmk=CustomerManagedKey(
            key_vault_id=VAULT,
            key_vault_uri="https://kv-acme.vault.azure.net/",
            key_name="disks",
            key_id="https://kv-acme.vault.azure.net/keys/disks",
            key_version_url="https://kv-acme.vault.azure.net/keys/disks/0123456789abcdef0123456789abcdef",
            identity_id=f"{SUB}/Microsoft.ManagedIdentity/userAssignedIdentities/id-disks",
            identity_client_id="6d1c2b3a-0000-4000-8000-000000000001",
            identity_principal_id="6d1c2b3a-0000-4000-8000-000000000002",
        )
        if cmk
        else None,
    )


def common(shared: SharedServicesRef) -> dict:
    return dict(
        naming=shared.naming,
        resource_group_name=shared.resource_group_name,
        tags=shared.tags,
        log_analytics_workspace_id=shared.log_analytics_workspace_id,
        shared=shared,
        admin_group_object_ids=[config.require("adminGroup")],
    )


# Azure ML on the cluster, attached to a workspace made by another team: extension on, local accounts kept.
ml_shared = ref("ml", cmk=True)
ml = AksGpuCluster(
    "ml",
    AksGpuClusterArgs(
        **common(ml_shared),
        sku_tier="Standard",
        cpu_pool=CpuNodePool(name="services", min_count=1, max_count=3),
        gpu_pools=[
            GpuNodePool(
                name="a100mig", vm_size="Standard_NC24ads_A100_v4", role="inference", max_count=2, mig_profile="MIG3g"
            ),
            GpuNodePool(name="t4spot", vm_size="standard_nc4as_t4_v3", spot=True, max_count=4),
        ],
        azure_ml_extension=AzureMlExtensionSettings(enable_inference=True, ssl_cname="ml.acme.internal"),
        # The router's certificate and key: plain strings here (a test fixture), which the component turns into secrets.
        inference_tls=InferenceTls(certificate_pem=TEST_CERT, key_pem=config.require_secret("routerKey")),
        aml_attachment=AmlAttachment(
            workspace_name="mlw-shared",
            workspace_resource_group_name="rg-ml-platform",
            workspace_principal_id=WORKSPACE_PRINCIPAL,
            compute_name="acme-aks",
        ),
    ),
)

# A plain GPU cluster without Azure ML: local accounts off, no customer-managed key. This program links the hub's
# zone to its VNet itself and says so in the ref, so the cluster waits for the link.
zone_link = privatedns.VirtualNetworkLink(
    "plain-zone-link",
    virtual_network_link_name="link-vnet-acme",
    private_zone_name=ZONE,
    resource_group_name="rg-net",
    location="global",
    registration_enabled=False,
    virtual_network=privatedns.SubResourceArgs(id=f"{SUB}/Microsoft.Network/virtualNetworks/vnet-acme"),
)
plain_shared = ref("plain", cmk=False, zone_links=[zone_link])
plain = AksGpuCluster(
    "plain",
    AksGpuClusterArgs(
        **common(plain_shared),
        network_policy="calico",
        gpu_pools=[GpuNodePool(name="gpu", vm_size="Standard_NC8as_T4_v3", max_count=2, autoscaling=False)],
        # This team deploys the NVIDIA GPU Operator with its own GitOps, so no device plugin from aiinfra.
        self_managed_gpu_device_plugin=True,
        defender=False,
        encryption_at_host=False,
    ),
)

pulumi.export("mlClusterId", ml.cluster_id)
pulumi.export("plainClusterId", plain.cluster_id)
