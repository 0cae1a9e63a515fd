"""Other teams' programs in the cost estimate: a resource group placed by `azure-native:location` in stack config, a
group whose name is unknown in preview, and pool sizes that are unknown until apply (an `apply`, an Output)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import run_here

from aiinfra.engine.cost import estimate
from aiinfra.engine.plan import Plan

IMAGE = (
    '{"virtual_machine_configuration": {"image_reference": {"publisher": "microsoft-dsvm", "offer": "ubuntu-hpc", '
    '"sku": "2204", "version": "latest"}, "node_agent_sku_id": "batch.node.ubuntu 22.04"}}'
)

# The most common shape: no location anywhere in the program, the region comes from the stack config.
NO_LOCATION = """
import pulumi_azure_native as an
rg = an.resources.ResourceGroup("rg")
cluster = an.containerservice.ManagedCluster(
    "aks", resource_group_name=rg.name, dns_prefix="aks", identity={"type": "SystemAssigned"},
    agent_pool_profiles=[{"name": "system", "mode": "System", "vm_size": "Standard_D4ds_v5", "count": 2}])
an.containerservice.AgentPool(
    "gpu", resource_group_name=rg.name, resource_name_=cluster.name, agent_pool_name="gpu",
    vm_size="Standard_NC24ads_A100_v4", mode="User", enable_auto_scaling=True, min_count=0, max_count=2)
"""

# An explicit provider with its own location places the group it creates.
EXPLICIT_PROVIDER = """
import pulumi
import pulumi_azure_native as an
west = an.Provider("west", location="westeurope")
rg = an.resources.ResourceGroup("rg", opts=pulumi.ResourceOptions(provider=west))
an.containerservice.ManagedCluster(
    "aks", resource_group_name=rg.name, dns_prefix="aks", identity={"type": "SystemAssigned"},
    agent_pool_profiles=[{"name": "system", "mode": "System", "vm_size": "Standard_D4ds_v5", "count": 2}],
    opts=pulumi.ResourceOptions(provider=west))
"""

# Sizes known only after apply: `pulumi preview` shows them as unknown.
UNKNOWN_SIZES = f"""
import pulumi
import pulumi_azure_native as an
rg = an.resources.ResourceGroup("rg", location="eastus")
n = rg.name.apply(lambda _: 3)
cluster = an.containerservice.ManagedCluster(
    "aks", resource_group_name=rg.name, dns_prefix="aks", identity={{"type": "SystemAssigned"}},
    agent_pool_profiles=[{{"name": "system", "mode": "System", "vm_size": "Standard_D4ds_v5", "count": 2}},
        {{"name": "gpu", "mode": "User", "vm_size": "Standard_NC24ads_A100_v4", "count": n}}])
formula = pulumi.Output.concat("$TargetLowPriorityNodes = min(", rg.name.apply(lambda _: "4"), ", 1);")
common = dict(resource_group_name=rg.name, account_name="acct", vm_size="Standard_NC24ads_A100_v4",
    deployment_configuration={IMAGE})
an.batch.Pool("computed-formula", pool_name="cf", scale_settings={{"auto_scale": {{"formula": formula}}}}, **common)
an.batch.Pool("computed-fixed", pool_name="cx", scale_settings={{"fixed_scale": {{"target_dedicated_nodes": n}}}}, **common)
"""


def _program(tmp_path: Path, source: str, location: str | None = "eastus") -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: other-team\nruntime: python\n")
    config = f"config:\n  azure-native:location: {location}\n" if location else "config: {}\n"
    (tmp_path / "Pulumi.dev.yaml").write_text(config)
    (tmp_path / "__main__.py").write_text(source)
    return tmp_path


def _items(plan: Plan) -> dict[str, object]:
    return {item.label: item for item in estimate(plan).items}


@pytest.mark.parametrize("semantics", ["up", "preview"])
def test_a_group_without_location_is_in_the_stack_configs_region(tmp_path, semantics):
    plan = run_here(_program(tmp_path, NO_LOCATION), "dev", semantics=semantics)
    assert plan.default_providers == {"azure-native": {"location": "eastus"}}
    cost = estimate(plan)
    for item in cost.items:
        if item.vm_size:
            assert item.region == "eastus", item.label
            assert item.problem is None, item.label
    assert cost.totals.idle_complete  # $ figures, no "≥ $0.00"
    assert cost.totals.idle_monthly > 0
    # A saved plan keeps it: the estimate of the JSON is the same.
    again = estimate(Plan.from_json(plan.as_json(), "plan.json"))
    assert again.totals.idle_monthly == cost.totals.idle_monthly


def test_without_stack_config_location_the_region_stays_unknown(tmp_path):
    plan = run_here(_program(tmp_path, NO_LOCATION, location=None), "dev")
    problems = [item.problem or "" for item in estimate(plan).items if item.vm_size]
    assert problems and all("region unknown" in p and "azure-native:location" in p for p in problems)


def test_an_explicit_providers_location_places_its_resources(tmp_path):
    plan = run_here(_program(tmp_path, EXPLICIT_PROVIDER), "dev")
    (system,) = [item for item in estimate(plan).items if item.vm_size]
    assert system.region == "westeurope"


def test_preview_follows_an_unknown_group_name_to_the_group(tmp_path):
    # The group has its own location, but in preview `rg.name` is unknown: its dependency still names the group.
    source = NO_LOCATION.replace('ResourceGroup("rg")', 'ResourceGroup("rg", location="swedencentral")')
    plan = run_here(_program(tmp_path, source, location=None), "dev", semantics="preview")
    regions = {item.region for item in estimate(plan).items if item.vm_size}
    assert regions == {"swedencentral"}


def test_sizes_unknown_until_apply_are_unpriced_not_zero_or_defaulted(tmp_path):
    plan = run_here(_program(tmp_path, UNKNOWN_SIZES), "dev", semantics="preview")
    cost = estimate(plan)
    by_name = {(item.resource.name, item.vm_size, item.label.split(":")[0]): item for item in cost.items}
    unknown = {label: item for (_, _, label), item in by_name.items() if item.unknown}
    assert set(unknown) == {
        "AKS aks pool gpu (user)",
        "Batch pool computed-fixed",
        "Batch pool computed-formula",
    }
    for item in unknown.values():
        assert item.problem == "node count unknown until apply (preview semantics)"
        assert item.idle_hourly is None and item.max_hourly is None
        assert any("unknown until apply (preview semantics)" in note for note in item.notes)
        assert not any("default is 1" in note or "$TargetDedicatedNodes" in note for note in item.notes)
    # The fixed pool does not vanish, and totals are lower bounds, not "unbounded".
    assert not cost.totals.idle_complete and not cost.totals.max_complete
    assert not cost.totals.max_unbounded
    # The known system pool is still priced.
    (system,) = [i for i in cost.items if i.label.startswith("AKS aks pool system")]
    assert system.problem is None and system.idle_hourly
