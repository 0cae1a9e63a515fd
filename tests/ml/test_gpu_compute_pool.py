"""GPU pools: the wiring each environment gets, and the input a platform engineer gets wrong."""

from __future__ import annotations

import re
from typing import Any

import pytest
from helpers import one

from aiinfra.catalog.gpu_skus import CATALOGUE
from aiinfra.components import ComponentArgsError, GpuComputePoolArgs, GpuComputePoolSettings, NamingConvention
from aiinfra.components.secure_workspace import SecureWorkspaceRef

COMPUTE = "azure-native:machinelearningservices:Compute"
POOL = "aiinfra:ml:GpuComputePool"


def aml_computes(plan) -> list:
    """AmlCompute clusters (an attached AKS cluster is a Compute of another kind)."""
    return [c for c in plan.of_type(COMPUTE) if c.inputs["properties"]["computeType"] == "AmlCompute"]


def gpu_computes(plan) -> list:
    return [c for c in aml_computes(plan) if c.inputs["properties"]["properties"]["vmSize"].startswith("Standard_N")]


def test_every_pool_is_a_component_with_one_gpu_cluster(plan):
    pools = plan.of_type(POOL)
    assert pools
    for pool in pools:
        [compute] = [c for c in plan.of_type(COMPUTE) if c.parent == pool.urn]
        assert compute.name == f"{pool.name}-compute"
        assert compute.inputs["properties"]["properties"]["vmSize"] in CATALOGUE
        workspace_component = next(r for r in plan.resources if r.urn == pool.parent)
        assert workspace_component.type == "aiinfra:ml:SecureWorkspace"
    assert len(gpu_computes(plan)) == len(pools)


def test_pools_scale_to_zero_quickly(plan):
    for compute in gpu_computes(plan):
        scale = compute.inputs["properties"]["properties"]["scaleSettings"]
        assert scale["minNodeCount"] == 0, compute.name
        assert scale["maxNodeCount"] >= 1
        minutes = re.fullmatch(r"PT(\d+)M", scale["nodeIdleTimeBeforeScaleDown"])
        assert minutes and 1 <= int(minutes.group(1)) <= 15, compute.name


def test_nodes_have_no_public_ip_no_ssh_no_local_auth_and_a_user_assigned_identity(plan):
    for compute in aml_computes(plan):
        aml = compute.inputs["properties"]
        assert aml["computeType"] == "AmlCompute"
        assert aml["disableLocalAuth"] is True
        assert aml["properties"]["enableNodePublicIp"] is False
        assert aml["properties"]["remoteLoginPortPublicAccess"] == "Disabled"
        assert "userAccountCredentials" not in aml["properties"]
        identity = compute.inputs["identity"]
        assert identity["type"] == "UserAssigned" and len(identity["userAssignedIdentities"]) == 1


def test_dev_runs_low_priority_t4s(plan_of):
    computes = gpu_computes(plan_of("dev"))
    assert computes
    for compute in computes:
        props = compute.inputs["properties"]["properties"]
        assert props["vmPriority"] == "LowPriority", compute.name
        assert CATALOGUE[props["vmSize"]].gpu_model == "NVIDIA T4"


def test_prd_runs_a100s_with_dedicated_capacity_only_where_configured(plan_of):
    computes = gpu_computes(plan_of("prd"))
    models = {CATALOGUE[c.inputs["properties"]["properties"]["vmSize"]].gpu_model for c in computes}
    assert models and all("A100" in m for m in models)
    dedicated = [
        c.inputs["computeName"] for c in computes if c.inputs["properties"]["properties"]["vmPriority"] == "Dedicated"
    ]
    assert dedicated == ["a100-dedicated"]


def test_compute_names_are_the_pool_names_in_every_environment(plan_of):
    names = {env: {c.inputs["computeName"] for c in gpu_computes(plan_of(env))} for env in ("dev", "test", "prd")}
    assert "t4-lowpri" in names["dev"] and "t4-lowpri" in names["test"]  # one job spec for both


def test_pool_outputs_name_the_gpus(plan_of):
    plan = plan_of("prd")
    pool = one(plan, POOL, "ml-research-a100x4-lowpri")
    outputs = plan.component_outputs[pool.urn]
    assert outputs["gpuModel"] == "NVIDIA A100 80GB PCIe"
    assert outputs["maxGpus"] == 16  # 4 GPUs x 4 nodes


# --- validation: pure, no engine ----------------------------------------------------------------------------


def ref(**overrides: Any) -> SecureWorkspaceRef:
    values: dict[str, Any] = dict(
        naming=NamingConvention(prefix="contoso", environment="dev", location="westus3"),
        resource_group_name="rg",
        workspace_name="mlw",
        workspace_id="/subscriptions/x/resourceGroups/rg/ws",
        compute_identity_id="/subscriptions/x/id",
    )
    values.update(overrides)
    return SecureWorkspaceRef(**values)


def pool_args(**overrides: Any) -> GpuComputePoolArgs:
    values: dict[str, Any] = dict(workspace=ref(), name="t4-lowpri", vm_size="Standard_NC4as_T4_v3", max_nodes=2)
    values.update(overrides)
    return GpuComputePoolArgs(**values)


def test_defaults_are_the_cheap_ones():
    args = pool_args()
    assert (args.priority, args.min_nodes, args.idle_minutes) == ("LowPriority", 0, 5)


def test_a_retired_size_is_rejected_with_the_valid_ones():
    with pytest.raises(ComponentArgsError) as error:
        pool_args(vm_size="Standard_NC6s_v3")
    message = str(error.value)
    assert "vm_size" in message and "retired" in message and "2025-09-30" in message
    assert "Standard_NC4as_T4_v3" in message and "Standard_NC24ads_A100_v4" in message


def test_an_unknown_size_is_rejected():
    with pytest.raises(ComponentArgsError, match=r"vm_size: 'Standard_D4s_v5' is not a supported GPU VM size"):
        pool_args(vm_size="Standard_D4s_v5")


def test_size_is_normalised_to_azures_spelling():
    assert pool_args(vm_size="standard_nc24ads_a100_v4").vm_size == "Standard_NC24ads_A100_v4"


def test_min_above_max_is_rejected_on_max_nodes():
    with pytest.raises(ComponentArgsError, match=r"max_nodes: must be >= minNodes \(3\)"):
        pool_args(min_nodes=3, max_nodes=2)


@pytest.mark.parametrize(
    "field,value,fragment",
    [
        ("max_nodes", 0, "max_nodes: Input should be greater than 0"),
        ("min_nodes", -1, "min_nodes: Input should be greater than or equal to 0"),
        ("idle_minutes", 0, "idle_minutes: must be between 1 and 1440 minutes"),
        ("idle_minutes", 5000, "idle_minutes: must be between 1 and 1440 minutes"),
        ("priority", "Spot", "priority: Input should be 'LowPriority' or 'Dedicated'"),
        ("name", "g", "name: compute name 'g' must be 3-24 characters"),
        ("name", "a100-pool-for-the-research-team", "must be 3-24 characters"),
        ("name", "1-a100", "must start with a letter"),
        ("name", "a100_pool", "may only contain"),
        ("name", "a100-2", "a letter after the last '-'"),
        ("extra", 1, "extra: unknown key"),
    ],
)
def test_bad_settings_name_the_field(field, value, fragment):
    with pytest.raises(ComponentArgsError) as error:
        pool_args(**{field: value})
    assert fragment in str(error.value)


def test_a_workspace_without_managed_network_needs_a_subnet():
    with pytest.raises(ComponentArgsError, match="nodes need a subnet"):
        pool_args(workspace=ref(managed_network=False))
    assert pool_args(workspace=ref(managed_network=False, compute_subnet_id="/subnets/aml")).workspace.compute_subnet_id


def test_an_identity_is_required():
    with pytest.raises(ComponentArgsError, match="identity_id is required"):
        pool_args(workspace=ref(compute_identity_id=None))
    assert pool_args(workspace=ref(compute_identity_id=None), identity_id="/id/mine").identity_id == "/id/mine"


def test_settings_alone_validate_from_yaml_keys():
    settings = GpuComputePoolSettings.model_validate(
        {"name": "a100-lowpri", "vmSize": "Standard_NC24ads_A100_v4", "maxNodes": 2, "idleMinutes": 10}
    )
    assert settings.sku.gpu_count == 1 and settings.max_nodes == 2


def test_a_change_azure_ml_cannot_update_replaces_the_pool_deleting_first():
    """Azure ML updates only a cluster's scale settings and identity (Learn, "az ml compute update"); a new VM size
    must replace it, and since the compute name is fixed (job specs use it) the old one goes first. No lock sits on a
    managed-network workspace (issue 12 item 6), so the delete is allowed."""
    import asyncio

    import pulumi
    from pulumi.runtime.mocks import MockMonitor

    from aiinfra.components import GpuComputePool
    from aiinfra.components._aml import CREATE_ONLY_PROPERTIES
    from aiinfra.engine.monitor import ArmMocks

    seen: dict[str, Any] = {}

    class Capture(MockMonitor):
        def RegisterResource(self, request):  # noqa: N802 - gRPC method name
            if request.type == COMPUTE:
                seen.update(replace=list(request.replaceOnChanges), delete_first=request.deleteBeforeReplace)
            return super().RegisterResource(request)

    loop = asyncio.new_event_loop()  # the engine leaves no current loop behind; pulumi's test helper needs one
    asyncio.set_event_loop(loop)
    mocks = ArmMocks()
    pulumi.runtime.set_mocks(mocks, preview=True, monitor=Capture(mocks))

    @pulumi.runtime.test
    def program():
        ref = SecureWorkspaceRef(
            naming=NamingConvention(prefix="contoso", environment="dev", location="westus3"),
            resource_group_name="rg",
            workspace_name="mlw",
            workspace_id="/subscriptions/s/ws",
            compute_identity_id="/subscriptions/s/id",
        )
        pool = GpuComputePool(
            "pool", GpuComputePoolArgs(workspace=ref, name="t4-pool", vm_size="Standard_NC4as_T4_v3", max_nodes=2)
        )
        return pool.compute_id.apply(lambda _: None)

    try:
        program()
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    assert seen["delete_first"] is True
    assert "properties.properties.vmSize" in seen["replace"] and set(seen["replace"]) == set(CREATE_ONLY_PROPERTIES)
