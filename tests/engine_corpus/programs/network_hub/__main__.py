# pyright: reportArgumentType=false, reportMissingImports=false, reportAttributeAccessIssue=false, reportGeneralTypeIssues=false
# (another team's program, written as teams write them: plain dicts, its own venv's packages and modules)
"""A platform team's style: data first, then loops; children and extension resources everywhere."""

import pulumi
from pulumi_azure_native import containerservice, keyvault, monitor, network, operationalinsights, resources, storage

SUBNETS = {"snet-aks": "10.20.0.0/22", "snet-pe": "10.20.4.0/24", "snet-jobs": "10.20.5.0/24"}
RULES = [("deny-internet-in", 4000, "Inbound", "Deny", "Internet"), ("allow-lb", 100, "Inbound", "Allow",
                                                                     "AzureLoadBalancer")]

rg = resources.ResourceGroup("hub", resource_group_name="rg-hub-dev")
logs = operationalinsights.Workspace("logs", resource_group_name=rg.name, workspace_name="log-hub-dev",
                                     sku={"name": "PerGB2018"}, retention_in_days=30)
nsg = network.NetworkSecurityGroup("nsg", resource_group_name=rg.name, network_security_group_name="nsg-hub")
for name, priority, direction, access, source in RULES:
    network.SecurityRule(name, resource_group_name=rg.name, network_security_group_name=nsg.name,
                         security_rule_name=name, priority=priority, direction=direction, access=access,
                         protocol="*", source_address_prefix=source, source_port_range="*",
                         destination_address_prefix="*", destination_port_range="*")
egress_ip = network.PublicIPAddress("egress-ip", resource_group_name=rg.name, public_ip_address_name="pip-hub-egress",
                                    sku={"name": "Standard"}, public_ip_allocation_method="Static")
nat = network.NatGateway("nat", resource_group_name=rg.name, nat_gateway_name="nat-hub", sku={"name": "Standard"},
                         public_ip_addresses=[{"id": egress_ip.id}])
vnet = network.VirtualNetwork("vnet", resource_group_name=rg.name, virtual_network_name="vnet-hub",
                              address_space={"address_prefixes": ["10.20.0.0/16"]})
subnets = {
    name: network.Subnet(name, resource_group_name=rg.name, virtual_network_name=vnet.name, subnet_name=name,
                         address_prefix=prefix, network_security_group={"id": nsg.id},
                         nat_gateway={"id": nat.id} if name != "snet-pe" else None)
    for name, prefix in SUBNETS.items()
}
vault = keyvault.Vault("kv", resource_group_name=rg.name, vault_name="kv-hub-dev",
                       properties={"tenant_id": "11111111-1111-1111-1111-111111111111", "sku": {"family": "A",
                                   "name": "standard"}, "enable_rbac_authorization": True,
                                   "public_network_access": "Disabled"})
key = keyvault.Key("cmk", resource_group_name=rg.name, vault_name=vault.name, key_name="cmk",
                   properties={"kty": "RSA", "key_size": 3072})
account = storage.StorageAccount("st", resource_group_name=rg.name, account_name="sthubdev01", kind="StorageV2",
                                 sku={"name": "Standard_LRS"}, allow_blob_public_access=False)
container = storage.BlobContainer("models", resource_group_name=rg.name, account_name=account.name,
                                  container_name="models")
cluster = containerservice.ManagedCluster(
    "aks", resource_group_name=rg.name, resource_name_="aks-hub-dev", dns_prefix="akshub",
    identity={"type": "SystemAssigned"},
    agent_pool_profiles=[{"name": "system", "mode": "System", "count": 1, "vm_size": "Standard_D4ds_v5",
                          "vnet_subnet_id": subnets["snet-aks"].id}])
containerservice.AgentPool("gpu", resource_group_name=rg.name, resource_name_=cluster.name, agent_pool_name="gpu",
                           vm_size="Standard_NC8as_T4_v3", mode="User", count=0, min_count=0, max_count=2,
                           enable_auto_scaling=True, vnet_subnet_id=subnets["snet-aks"].id)
# The same diagnostic setting name on every resource: ARM nests each under the resource it watches.
for label, target in (("kv", vault), ("st", account), ("aks", cluster), ("vnet", vnet)):
    monitor.DiagnosticSetting(f"diag-{label}", name="to-logs", resource_uri=target.id, workspace_id=logs.id,
                              logs=[{"category_group": "allLogs", "enabled": True}])

pulumi.export("aksSubnetId", subnets["snet-aks"].id)
pulumi.export("keyId", key.id)
pulumi.export("containerId", container.id)
