"""The estimate's arithmetic, checked against figures computed by hand from shared/reference/pricing.md.

List prices used (USD/h, eastus): NC4as_T4_v3 0.526, spot/low-priority 0.0690; NC24ads_A100_v4 3.673;
private endpoint 0.01; Azure Firewall Standard 1.25; AKS Standard tier 0.10; ACR Premium 1.667/day. 730 h/month.
D4s_v5 0.192 (eastus) is from the same catalogue's vms.csv, as the built-in table cites it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_here
from plan_builder import PlanBuilder, aml_cluster

from aiinfra.engine.cost import HOURS_PER_MONTH, Item, estimate, load_price_table, render_cost
from stacks import preview

PROGRAM = Path(__file__).parent / "program"
T4, T4_SPOT, A100, PE, FIREWALL, AKS_STANDARD, ACR_PREMIUM_DAY = 0.526, 0.069, 3.673, 0.01, 1.25, 0.10, 1.667
D4S_V5 = 0.192
UNLISTED = "Standard_F4s_v2"  # a current size the built-in table does not list


def small_platform(budget: float = 5000.0) -> PlanBuilder:
    """Two components and a budget, priced by hand below."""
    b = PlanBuilder()
    b.add("azure-native:resources:ResourceGroup", "rg", {"resourceGroupName": "rg-a", "location": "East US"})
    train = b.component("acme:ml:Training", "train")
    b.add(
        "azure-native:machinelearningservices:Workspace",
        "ws",
        parent=train,
        inputs={
            "resourceGroupName": "rg-a",
            "workspaceName": "mlw",
            "managedNetwork": {
                "isolationMode": "AllowOnlyApprovedOutbound",
                "outboundRules": {
                    "huggingface": {"type": "FQDN", "destination": "huggingface.co"},
                    "hf": {"type": "FQDN", "destination": "huggingface.co"},
                    "kv": {"type": "PrivateEndpoint", "destination": {"serviceResourceId": "/x"}},
                },
            },
        },
    )
    b.add(
        "azure-native:machinelearningservices:Compute",
        "t4-lp",
        aml_cluster("Standard_NC4as_T4_v3", 1, 4, "LowPriority"),
        parent=train,
    )
    b.add(
        "azure-native:machinelearningservices:Compute",
        "a100",
        aml_cluster("Standard_NC24ads_A100_v4", 0, 2),
        parent=train,
    )
    for name in ("pe-kv", "pe-blob", "pe-ws"):
        b.add("azure-native:network:PrivateEndpoint", name, {"resourceGroupName": "rg-a"}, parent=train)
    b.add("azure-native:authorization:RoleAssignment", "ra", {"scope": "/x", "principalId": "p"}, parent=train)
    serve = b.component("acme:serve:Serving", "serve")
    b.add(
        "azure-native:containerregistry:Registry",
        "acr",
        {"resourceGroupName": "rg-a", "sku": {"name": "Premium"}},
        parent=serve,
    )
    b.add(
        "azure-native:containerservice:ManagedCluster",
        "aks",
        parent=serve,
        inputs={
            "resourceGroupName": "rg-a",
            "resourceName": "aks-a",
            "sku": {"name": "Base", "tier": "Standard"},
            "agentPoolProfiles": [{"name": "system", "mode": "System", "vmSize": "Standard_NC4as_T4_v3", "count": 1.0}],
        },
    )
    b.add(
        "azure-native:consumption:Budget",
        "budget",
        {"scope": "/subscriptions/x", "amount": budget, "timeGrain": "Monthly", "budgetName": "acme-monthly"},
    )
    return b


TRAIN_IDLE = 1 * T4_SPOT * 730 + 0 + 3 * PE * 730 + FIREWALL * 730  # 50.37 + 0 + 21.90 + 912.50
TRAIN_MAX = 4 * T4_SPOT + 2 * A100 + 3 * PE + FIREWALL  # 0.276 + 7.346 + 0.03 + 1.25
TRAIN_SAVING = 4 * (T4 - T4_SPOT)  # 1.828
SERVE_IDLE = ACR_PREMIUM_DAY / 24 * 730 + AKS_STANDARD * 730 + 1 * T4 * 730  # 50.70 + 73.00 + 383.98
SERVE_MAX = ACR_PREMIUM_DAY / 24 + AKS_STANDARD + T4


def test_idle_max_and_saving_per_component_match_hand_figures():
    cost = estimate(small_platform().plan())
    groups = {g.name: g.totals for g in cost.groups}
    assert list(groups) == ["serve", "train"]
    assert groups["train"].idle_monthly == pytest.approx(984.77)
    assert groups["train"].idle_monthly == pytest.approx(TRAIN_IDLE)
    assert groups["train"].max_hourly == pytest.approx(8.902)
    assert groups["train"].max_hourly == pytest.approx(TRAIN_MAX)
    assert groups["train"].spot_saving_hourly == pytest.approx(1.828)
    assert groups["train"].idle_gpu_monthly == pytest.approx(50.37)  # one low-priority T4 at min nodes
    assert groups["serve"].idle_monthly == pytest.approx(SERVE_IDLE)
    assert groups["serve"].idle_monthly == pytest.approx(507.68, abs=0.01)
    assert groups["serve"].max_hourly == pytest.approx(SERVE_MAX)
    assert groups["serve"].spot_saving_hourly == 0
    totals = cost.totals
    assert totals.idle_monthly == pytest.approx(TRAIN_IDLE + SERVE_IDLE)
    assert totals.max_monthly == pytest.approx((TRAIN_MAX + SERVE_MAX) * HOURS_PER_MONTH)
    assert totals.idle_complete and totals.max_complete and not totals.max_unbounded


def test_low_priority_discount_and_min_nodes():
    cost = estimate(small_platform().plan())
    cluster = next(i for i in cost.items if i.resource.name == "t4-lp")
    assert (cluster.idle_units, cluster.max_units) == (1, 4)
    assert cluster.rate.hourly == pytest.approx(T4_SPOT)
    assert cluster.dedicated_rate is not None and cluster.dedicated_rate.hourly == pytest.approx(T4)
    assert cluster.idle_hourly == pytest.approx(0.069)
    assert cluster.saving_hourly == pytest.approx(4 * 0.457)
    a100 = next(i for i in cost.items if i.resource.name == "a100")
    assert a100.idle_hourly == 0 and a100.max_hourly == pytest.approx(7.346)


def test_each_private_endpoint_and_the_implied_firewall_are_priced():
    cost = estimate(small_platform().plan())
    endpoints = [i for i in cost.items if i.resource.type == "azure-native:network:PrivateEndpoint"]
    assert len(endpoints) == 3
    assert sum(_monthly(i) for i in endpoints) == pytest.approx(21.90)
    firewall = [i for i in cost.items if "Firewall" in i.label]
    assert len(firewall) == 1, "one firewall per managed network, whatever the number of FQDN rules"
    assert _monthly(firewall[0]) == pytest.approx(912.50)
    assert firewall[0].rate.approximate
    assert "2 FQDN rules" in firewall[0].label


def _monthly(item: Item) -> float:
    assert item.idle_hourly is not None
    return item.idle_hourly * HOURS_PER_MONTH


def test_no_firewall_without_fqdn_rules_or_with_internet_outbound():
    b = PlanBuilder()
    b.add(
        "azure-native:machinelearningservices:Workspace",
        "open",
        {
            "location": "eastus",
            "managedNetwork": {
                "isolationMode": "AllowInternetOutbound",
                "outboundRules": {"huggingface": {"type": "FQDN", "destination": "huggingface.co"}},
            },
        },
    )
    b.add(
        "azure-native:machinelearningservices:Workspace",
        "closed-no-fqdn",
        {"location": "eastus", "managedNetwork": {"isolationMode": "AllowOnlyApprovedOutbound", "outboundRules": {}}},
    )
    assert estimate(b.plan()).items == []


def test_firewall_from_separate_outbound_rule_resources_with_basic_sku():
    b = PlanBuilder()
    b.add(
        "azure-native:machinelearningservices:Workspace",
        "ws",
        {
            "location": "eastus",
            "resourceGroupName": "rg",
            "workspaceName": "mlw",
            "managedNetwork": {"isolationMode": "AllowOnlyApprovedOutbound", "firewallSku": "Basic"},
        },
    )
    b.add(
        "azure-native:machinelearningservices:ManagedNetworkSettingsRule",
        "huggingface",
        {
            "resourceGroupName": "rg",
            "workspaceName": "mlw",
            "properties": {"type": "FQDN", "destination": "huggingface.co"},
        },
    )
    (firewall,) = estimate(b.plan()).items
    assert firewall.idle_hourly == pytest.approx(0.395)


def test_budget_warns_when_a_month_at_max_scale_exceeds_it():
    cost = estimate(small_platform(budget=5000).plan())
    max_month = (TRAIN_MAX + SERVE_MAX) * 730  # ~7006.14
    assert [w for w in cost.warnings() if "exceeded" in w] == [
        f"budget 'acme-monthly' ($5,000.00/month) would be exceeded by a month at max scale: ${max_month:,.2f}"
    ]
    assert not [w for w in estimate(small_platform(budget=8000).plan()).warnings() if "exceeded" in w]
    idle_too = estimate(small_platform(budget=1000).plan()).warnings()
    assert any("exceeded by the idle cost alone" in w for w in idle_too)


def test_budget_time_grain_is_converted_to_months():
    b = small_platform(budget=24000)
    next(r for r in b.resources if r.name == "budget").inputs["timeGrain"] = "Annually"  # 2000/month < 7006
    cost = estimate(b.plan())
    assert cost.budgets[0].monthly == 2000
    assert any("would be exceeded" in w for w in cost.warnings())


def test_unknown_size_is_reported_never_priced():
    b = PlanBuilder()
    b.add("azure-native:machinelearningservices:Compute", "cpu", {**aml_cluster(UNLISTED, 2, 3), "location": "eastus"})
    cost = estimate(b.plan())
    (item,) = cost.items
    assert item.idle_hourly is None and item.max_hourly is None
    assert item.problem == f"{UNLISTED} is not in the price table"
    assert not cost.totals.idle_complete and not cost.totals.max_complete
    text = render_cost(cost)
    assert f"unpriced: AML compute cluster cpu: {UNLISTED}: {UNLISTED} is not in the price table" in text
    assert "≥ $0.00" in text


def test_zero_nodes_cost_nothing_whatever_the_price():
    b = PlanBuilder()
    b.add("azure-native:machinelearningservices:Compute", "cpu", {**aml_cluster(UNLISTED, 0, 3), "location": "eastus"})
    cost = estimate(b.plan())
    assert cost.totals.idle_monthly == 0 and cost.totals.idle_complete
    assert not cost.totals.max_complete


def test_unknown_region_names_the_regions_the_table_has():
    b = PlanBuilder()
    b.add(
        "azure-native:machinelearningservices:Compute",
        "t4",
        {**aml_cluster("Standard_NC4as_T4_v3", 1, 1), "location": "northeurope"},
    )
    (item,) = estimate(b.plan()).items
    assert item.idle_hourly is None
    assert item.problem == (
        "no price for Standard_NC4as_T4_v3 in northeurope "
        "(the table has centralus, eastus, eastus2, southcentralus, westus, westus2, westus3)"
    )


def test_region_comes_from_the_parent_resource_or_the_resource_group():
    b = PlanBuilder()
    b.add("azure-native:resources:ResourceGroup", "rg", {"resourceGroupName": "rg-w", "location": "westus"})
    b.add(
        "azure-native:machinelearningservices:Workspace",
        "ws",
        {"resourceGroupName": "rg-w", "workspaceName": "mlw", "location": "centralus"},
    )
    b.add(
        "azure-native:machinelearningservices:Compute",
        "via-workspace",
        {**aml_cluster("Standard_NC4as_T4_v3", 1, 1), "resourceGroupName": "rg-w"},
    )
    b.add(
        "azure-native:compute:VirtualMachine",
        "via-group",
        {"resourceGroupName": "rg-w", "hardwareProfile": {"vmSize": "Standard_NC4as_T4_v3"}},
    )
    rates = {i.resource.name: i.rate.hourly for i in estimate(b.plan()).items}
    assert rates == {"via-workspace": pytest.approx(0.594), "via-group": pytest.approx(0.631)}


def test_retired_size_is_refused():
    b = PlanBuilder()
    b.add(
        "azure-native:batch:Pool",
        "v100",
        {
            "location": "eastus",
            "vmSize": "Standard_NC6s_v3",
            "scaleSettings": {"fixedScale": {"targetDedicatedNodes": 1.0}},
        },
    )
    (item,) = estimate(b.plan()).items
    assert item.idle_hourly is None
    assert item.problem is not None and "retired by Azure on 2025-09-30" in item.problem


def test_spot_with_no_spot_price_is_unpriced_not_dedicated():
    b = PlanBuilder()
    b.add(
        "azure-native:containerservice:AgentPool",
        "nd",
        {
            "location": "eastus",
            "vmSize": "Standard_ND96asr_v4",
            "scaleSetPriority": "Spot",
            "enableAutoScaling": True,
            "minCount": 0.0,
            "maxCount": 1.0,
            "count": 0.0,
        },
    )
    (item,) = estimate(b.plan()).items
    assert item.idle_hourly == 0
    assert item.max_hourly is None
    assert item.problem == "no spot price for Standard_ND96asr_v4 in the price table"
    totals = estimate(b.plan()).totals
    assert totals.spot_saving_hourly == 0 and not totals.saving_complete, "an unknown saving is not a zero saving"


def test_aks_free_tier_is_free_and_autoscaling_pools_use_min_and_max():
    b = PlanBuilder()
    b.add(
        "azure-native:containerservice:ManagedCluster",
        "aks",
        {
            "location": "eastus",
            "sku": {"name": "Base", "tier": "Free"},
            "agentPoolProfiles": [
                {
                    "name": "gpu",
                    "mode": "User",
                    "vmSize": "Standard_NC24ads_A100_v4",
                    "enableAutoScaling": True,
                    "minCount": 1.0,
                    "maxCount": 3.0,
                    "count": 1.0,
                }
            ],
        },
    )
    tier, pool = sorted(estimate(b.plan()).items, key=lambda i: "pool" in i.label)
    assert tier.idle_hourly == 0 and tier.problem is None
    assert pool.idle_hourly == pytest.approx(A100) and pool.max_hourly == pytest.approx(3 * A100)


def test_batch_pools_fixed_and_autoscale():
    b = PlanBuilder()
    b.add(
        "azure-native:batch:Pool",
        "fixed",
        {
            "location": "eastus",
            "vmSize": "Standard_NC4as_T4_v3",
            "scaleSettings": {"fixedScale": {"targetDedicatedNodes": 1.0, "targetLowPriorityNodes": 2.0}},
        },
    )
    b.add(
        "azure-native:batch:Pool",
        "auto",
        {
            "location": "eastus",
            "vmSize": "Standard_NC4as_T4_v3",
            "scaleSettings": {
                "autoScale": {
                    "formula": "$maxNodes = 5;\n$TargetLowPriorityNodes = min($maxNodes, $PendingTasks.GetSample(1));"
                }
            },
        },
    )
    b.add(
        "azure-native:batch:Pool",
        "open",
        {
            "location": "eastus",
            "vmSize": "Standard_NC4as_T4_v3",
            "scaleSettings": {
                "autoScale": {
                    "formula": "$TargetDedicatedNodes = avg($PendingTasks.GetSample(TimeInterval_Minute * 5));"
                }
            },
        },
    )
    cost = estimate(b.plan())
    by = {(i.resource.name, i.dedicated_rate is None): i for i in cost.items}
    assert by[("fixed", True)].idle_hourly == pytest.approx(T4)
    assert by[("fixed", False)].idle_hourly == pytest.approx(2 * T4_SPOT)
    assert by[("auto", False)].idle_hourly == 0
    assert by[("auto", False)].max_hourly == pytest.approx(5 * T4_SPOT)
    assert by[("open", True)].max_units is None
    assert cost.totals.max_unbounded
    assert "(unbounded)" in render_cost(cost)
    b.add("azure-native:consumption:Budget", "budget", {"amount": 100.0, "timeGrain": "Monthly"})
    assert any("cannot be compared" in w for w in estimate(b.plan()).warnings())


def test_container_apps_gpu_scale_to_zero_is_free_when_idle():
    b = PlanBuilder()
    env = b.add(
        "azure-native:app:ManagedEnvironment",
        "env",
        {
            "location": "eastus",
            "workloadProfiles": [
                {"name": "Consumption", "workloadProfileType": "Consumption"},
                {"name": "t4", "workloadProfileType": "Consumption-GPU-NC8as-T4"},
            ],
        },
    )
    b.add(
        "azure-native:app:ContainerApp",
        "infer",
        {
            "managedEnvironmentId": env.id,
            "workloadProfileName": "t4",
            "template": {"scale": {"minReplicas": 0.0, "maxReplicas": 3.0}},
        },
    )
    b.add("azure-native:app:ContainerApp", "default-max", {"managedEnvironmentId": env.id, "workloadProfileName": "t4"})
    b.add(
        "azure-native:app:ContainerApp", "cpu", {"managedEnvironmentId": env.id, "workloadProfileName": "Consumption"}
    )
    items = {i.resource.name: i for i in estimate(b.plan()).items}
    assert set(items) == {"infer", "default-max"}, "a consumption (CPU) app is billed by use, not estimated"
    assert items["infer"].idle_hourly == 0 and items["infer"].gpu
    assert items["infer"].max_hourly == pytest.approx(3 * 0.526)
    assert items["infer"].rate.approximate
    assert items["default-max"].max_units == 10 and "Azure's default is 10" in items["default-max"].notes[0]


def test_resources_without_a_standing_price_are_listed_not_guessed():
    b = PlanBuilder()
    b.add("azure-native:storage:StorageAccount", "st", {"location": "eastus"})
    b.add("azure-native:authorization:RoleAssignment", "ra", {"scope": "/x"})
    cost = estimate(b.plan())
    assert cost.items == [] and cost.not_estimated == {"storage:StorageAccount": 1}


def test_output_states_its_basis():
    text = render_cost(estimate(small_platform().plan()))
    assert text.startswith(
        "Cost estimate: list prices, USD, pay-as-you-go, Linux, 730 h/month; "
        "from engine/prices/azure-retail-prices.json (read 2026-11-22, 2026-11-30); may be stale"
    )


def test_a_strangers_program_is_priced_through_the_engine():
    """Wire names as azure-native really serializes them: run a program that is not ours, grouped by its components."""
    cost = estimate(run_here(PROGRAM, "dev"))
    assert [g.type for g in cost.groups] == ["acme:net:Network", "acme:serve:Serving", "acme:ml:Training"]
    priced = {i.resource.type.split(":")[-1] for i in cost.items}
    assert priced == {
        "AgentPool",
        "ManagedCluster",
        "Pool",
        "ContainerApp",
        "Registry",
        "Compute",
        "Workspace",
        "PrivateEndpoint",
        "PrivateZone",
    }
    # A private DNS zone bills per zone-month while it exists ($0.50 in billing zone 'Zone 1', the built-in row):
    # with both zones priced, nothing in this program is left out.
    network = next(g for g in cost.groups if g.name == "net")
    assert network.totals.idle_monthly == pytest.approx(2 * 0.50) and network.totals.idle_complete
    assert cost.totals.idle_complete
    train = next(g for g in cost.groups if g.name == "train").totals
    assert train.idle_monthly == pytest.approx(1 * T4_SPOT * 730 + 2 * PE * 730 + FIREWALL * 730)
    serve = next(g for g in cost.groups if g.name == "serve").totals
    assert serve.idle_gpu_monthly == 0 and serve.idle_gpu_complete
    assert serve.max_hourly == pytest.approx(
        2 * 0.4889 + 4 * T4_SPOT + 3 * 0.526 + ACR_PREMIUM_DAY / 24 + AKS_STANDARD + 2 * D4S_V5
    )
    assert serve.max_complete, "every serve pool is priced, the Standard_D4s_v5 system pool (2 nodes) included"
    assert cost.budgets[0].monthly == 1000


@pytest.mark.integration  # the CLI runs the program in its own process
def test_preview_prints_the_table_and_puts_it_in_json(tmp_path, capsys):
    target = tmp_path / "plan.json"
    code = preview.main(["dev", "--project-dir", str(PROGRAM), "--json", str(target), "--no-policies"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Cost estimate: list prices, USD, pay-as-you-go, Linux" in out
    assert "total (dev)" in out
    document = json.loads(target.read_text())
    assert document["cost"]["totals"]["idleGpuMonthly"] == pytest.approx(50.37)
    assert {c["name"] for c in document["cost"]["components"]} == {"net", "serve", "train"}


def test_builtin_table_rows_carry_source_and_date():
    table = load_price_table()
    assert table.rows and all(r.source and r.read_on for r in table.rows)
    assert {r.currency_code for r in table.rows} == {"USD"}
    assert not any(r.arm_sku_name == "Standard_NC6s_v3" for r in table.rows)


def test_the_estimate_refuses_every_size_the_catalogue_calls_retired():
    # One source: the estimate reads the catalogue's retired sizes, whatever a price table still lists.
    from aiinfra.catalog.gpu_skus import RETIRED

    table = load_price_table()
    for size, day in RETIRED.items():
        quote = table.vm(size.upper(), "eastus")
        assert quote.hourly is None and quote.problem and day in quote.problem, size
