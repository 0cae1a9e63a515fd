# pyright: reportArgumentType=false, reportMissingImports=false, reportAttributeAccessIssue=false, reportGeneralTypeIssues=false
# (another team's program, written as teams write them: plain dicts, its own venv's packages and modules)
"""An ops team's lift-and-shift: always-on charges of every kind, GPU capacity in a region outside the US."""

from pulumi_azure_native import compute, containerinstance, network, privatedns, resources, sql, web

rg = resources.ResourceGroup("legacy", resource_group_name="rg-legacy", location="westus3")
ip = network.PublicIPAddress("ip", resource_group_name=rg.name, public_ip_address_name="pip-legacy",
                             sku={"name": "Standard"}, public_ip_allocation_method="Static", location="westus3")
network.NatGateway("nat", resource_group_name=rg.name, nat_gateway_name="nat-legacy", sku={"name": "Standard"},
                   location="westus3", public_ip_addresses=[{"id": ip.id}])
privatedns.PrivateZone("zone", resource_group_name=rg.name, private_zone_name="legacy.internal", location="global")
network.VirtualNetworkGateway("vpn", resource_group_name=rg.name, virtual_network_gateway_name="vgw-legacy",
                              gateway_type="Vpn", vpn_type="RouteBased", sku={"name": "VpnGw1", "tier": "VpnGw1"},
                              location="westus3")
containerinstance.ContainerGroup("worker", resource_group_name=rg.name, container_group_name="ci-worker",
                                 os_type="Linux", location="westus3", containers=[{
                                     "name": "worker", "image": "mcr.microsoft.com/hello-world",
                                     "resources": {"requests": {"cpu": 1, "memory_in_gb": 1.5}}}])
web.AppServicePlan("plan", resource_group_name=rg.name, name="asp-legacy", kind="linux", reserved=True,
                   sku={"name": "B1", "tier": "Basic"}, location="westus3")
compute.VirtualMachine("jumpbox", resource_group_name=rg.name, vm_name="vm-jump", location="westus3",
                       hardware_profile={"vm_size": "Standard_D4s_v5"})
compute.VirtualMachine("trainer", resource_group_name=rg.name, vm_name="vm-train", location="swedencentral",
                       hardware_profile={"vm_size": "Standard_NC24ads_A100_v4"})
server = sql.Server("sql", resource_group_name=rg.name, server_name="sql-legacy", location="westus3",
                    administrator_login="sqladmin", administrator_login_password="not-a-real-password-1!")
sql.Database("db", resource_group_name=rg.name, server_name=server.name, database_name="app", location="westus3",
             sku={"name": "S0", "tier": "Standard"})
