"""A data team's style: module-level helpers, plain azure-native, secrets read back through `list*` data sources."""

import base64

import pulumi
import pulumi_azuread as azuread
from pulumi_azure_native import authorization, containerregistry, containerservice, keyvault, resources, storage

conf = pulumi.Config()
PREFIX = conf.require("prefix")


def connection_string(account: storage.StorageAccount, group: resources.ResourceGroup) -> pulumi.Output[str]:
    keys = storage.list_storage_account_keys_output(resource_group_name=group.name, account_name=account.name)
    return pulumi.Output.format(
        "DefaultEndpointsProtocol=https;AccountName={0};AccountKey={1};EndpointSuffix=core.windows.net",
        account.name, keys.keys[0].value)


group = resources.ResourceGroup("group", resource_group_name=f"rg-{PREFIX}")
account = storage.StorageAccount(
    "features", resource_group_name=group.name, account_name=f"st{PREFIX}01", kind="StorageV2",
    sku=storage.SkuArgs(name="Standard_ZRS"), allow_blob_public_access=False, minimum_tls_version="TLS1_2")

# The plain (non-Output) forms run at once, as under `pulumi preview`, and answer the service's shape.
existing = storage.list_storage_account_keys(resource_group_name="rg-shared", account_name="stshared")
assert [k.key_name for k in existing.keys] == ["key1", "key2"]
registry = containerregistry.list_registry_credentials(resource_group_name="rg-shared", registry_name="acrshared")
assert registry.username == "acrshared" and registry.passwords and registry.passwords[0].value
kube = containerservice.list_managed_cluster_user_credentials(resource_group_name="rg-shared", resource_name="aks-shared")
assert "kind: Config" in base64.b64decode(kube.kubeconfigs[0].value).decode()
vault = keyvault.get_vault(resource_group_name="rg-shared", vault_name="kv-shared")
assert vault.properties.vault_uri == "https://kv-shared.vault.azure.net/"

client = authorization.get_client_config()
ci = azuread.get_service_principal(display_name="github-ci")
admins = azuread.get_group(display_name="feature-store-admins")
whoami = azuread.get_client_config()

# The Output forms, on a resource this program creates: its recorded state comes back.
same_account = storage.get_storage_account_output(resource_group_name=group.name, account_name=account.name)
for principal, kind in ((ci.object_id, "ServicePrincipal"), (admins.object_id, "Group")):
    authorization.RoleAssignment(
        f"blob-reader-{kind.lower()}", principal_id=principal, principal_type=kind, scope=same_account.id,
        role_definition_id=f"/subscriptions/{client.subscription_id}/providers/Microsoft.Authorization/"
                           "roleDefinitions/2a2b9908-6ea1-4ae2-8e65-a410df84e7d1")

pulumi.export("connection", pulumi.Output.secret(connection_string(account, group)))
pulumi.export("website", account.primary_endpoints.apply(lambda endpoints: endpoints.web))
pulumi.export("blob", same_account.primary_endpoints.blob)
pulumi.export("ciObjectId", ci.object_id)
pulumi.export("tenant", whoami.tenant_id)
