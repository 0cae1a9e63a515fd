# pyright: reportArgumentType=false, reportMissingImports=false, reportAttributeAccessIssue=false, reportGeneralTypeIssues=false
# (another team's program, written as teams write them: config-driven, typed Args classes, a helper per tier)
"""A web team's portal: App Service plans, Azure SQL, a private DNS zone and a site-to-site VPN, all always on."""

import pulumi
from pulumi_azure_native import network, privatedns, resources, sql, web

cfg = pulumi.Config()
region = cfg.get("region") or "eastus"
GIB = 1024**3

rg = resources.ResourceGroup("portal-rg", location=region)
here = {"resource_group_name": rg.name, "location": rg.location}


def plan(name: str, sku: str, linux: bool, instances: int) -> web.AppServicePlan:
    return web.AppServicePlan(
        name,
        resource_group_name=rg.name,
        location=rg.location,
        kind="linux" if linux else "app",
        reserved=linux,
        sku=web.SkuDescriptionArgs(name=sku, capacity=instances),
    )


plan("api-plan", cfg.get("planSku") or "P1v3", linux=True, instances=2)
plan("admin-plan", "S1", linux=False, instances=1)

server = sql.Server(
    "portal-sql",
    resource_group_name=rg.name,
    location=rg.location,
    administrator_login="portaladmin",
    administrator_login_password=pulumi.Output.secret("not-a-real-password-1!"),
)
for db_name, sku, size_gb in (("orders", sql.SkuArgs(name="BC_Gen5", tier="BusinessCritical", family="Gen5", capacity=8), 10),
                              ("sessions", sql.SkuArgs(name="S1", tier="Standard"), None)):
    sql.Database(
        db_name,
        resource_group_name=rg.name,
        server_name=server.name,
        sku=sku,
        max_size_bytes=size_gb * GIB if size_gb else None,
        license_type="BasePrice" if db_name == "orders" else None,
    )

privatedns.PrivateZone("portal-zone", resource_group_name=rg.name, private_zone_name="portal.internal", location="global")

vnet = network.VirtualNetwork(
    "portal-vnet",
    **here,
    address_space=network.AddressSpaceArgs(address_prefixes=["10.40.0.0/16"]),
)
gateway_subnet = network.Subnet(
    "gateway-subnet",
    resource_group_name=rg.name,
    virtual_network_name=vnet.name,
    subnet_name="GatewaySubnet",
    address_prefix="10.40.255.0/27",
)
pip = network.PublicIPAddress(
    "vpn-pip",
    **here,
    sku=network.PublicIPAddressSkuArgs(name="Standard"),
    public_ip_allocation_method="Static",
)
gateway = network.VirtualNetworkGateway(
    "onprem-vpn",
    **here,
    gateway_type="Vpn",
    vpn_type="RouteBased",
    sku=network.VirtualNetworkGatewaySkuArgs(name="VpnGw1AZ", tier="VpnGw1AZ"),
    ip_configurations=[
        network.VirtualNetworkGatewayIPConfigurationArgs(
            name="default",
            subnet=network.SubResourceArgs(id=gateway_subnet.id),
            public_ip_address=network.SubResourceArgs(id=pip.id),
        )
    ],
)
pulumi.export("gateway", gateway.id.apply(lambda i: i.split("/")[-1]))
