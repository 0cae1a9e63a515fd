"""The components from other Pulumi programs: the examples/ program, and a workspace without a managed network."""

from __future__ import annotations

import textwrap
from pathlib import Path

from helpers import children, one, private_endpoints_to, run_here, zone_names_of

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "ml-workspace"
COMPUTE = "azure-native:machinelearningservices:Compute"


def test_the_example_program_runs_offline_from_the_installed_package():
    source = (EXAMPLE / "__main__.py").read_text()
    assert (
        "sys.path" not in source and "from aiinfra.components import" in source
    )  # the installed library, as a user has it
    plan = run_here(EXAMPLE, "dev")
    assert plan.project == "fraud-ml"
    assert [r.type for r in plan.resources if not r.custom and r.type.startswith("aiinfra:")].count(
        "aiinfra:shared:SharedServices"
    ) == 1
    component = one(plan, "aiinfra:ml:SecureWorkspace")
    pool = one(plan, "aiinfra:ml:GpuComputePool")
    assert pool.parent == component.urn
    workspace = one(plan, "azure-native:machinelearningservices:Workspace")
    assert workspace.inputs["publicNetworkAccess"] == "Disabled"
    assert workspace.inputs["managedNetwork"]["isolationMode"] == "AllowOnlyApprovedOutbound"
    [endpoint] = private_endpoints_to(plan, workspace)
    assert zone_names_of(plan, endpoint) == {"privatelink.api.azureml.ms", "privatelink.notebooks.azure.net"}
    [compute] = children(plan, pool, COMPUTE)
    props = compute.inputs["properties"]["properties"]
    assert props["vmPriority"] == "LowPriority" and props["scaleSettings"]["minNodeCount"] == 0
    assert workspace.urn in compute.dependencies
    assert plan.stack_outputs["computeName"] == "t4-lowpri"
    assert plan.stack_outputs["workspaceId"] == workspace.id


PROGRAM = """\
import pulumi
from pulumi_azure_native import resources
from aiinfra.components import (GpuComputePool, GpuComputePoolArgs, NamingConvention, SecureWorkspace, SecureWorkspaceArgs,
                        SharedServices, SharedServicesArgs)

naming = NamingConvention(prefix="acme", environment="dev", location="eastus")
group = resources.ResourceGroup("rg", resource_group_name="rg-acme", location="eastus")
shared = SharedServices("shared", SharedServicesArgs(naming=naming, resource_group_name=group.name,
                                                     address_space="10.50.0.0/16"))
workspace = SecureWorkspace("legacy", SecureWorkspaceArgs(
    name="legacy", naming=naming, resource_group_name=group.name, shared=shared.ref, isolation_mode="Disabled"))
GpuComputePool("legacy-a100", GpuComputePoolArgs(workspace=workspace.ref, name="a100", vm_size="Standard_NC24ads_A100_v4",
                                                 max_nodes=1))
"""


def test_without_a_managed_network_computes_join_the_aml_subnet(tmp_path: Path):
    (tmp_path / "Pulumi.yaml").write_text("name: legacy-ml\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  azure-native:location: eastus\n")
    (tmp_path / "__main__.py").write_text(textwrap.dedent(PROGRAM))
    plan = run_here(tmp_path, "dev")
    workspace = one(plan, "azure-native:machinelearningservices:Workspace")
    assert workspace.inputs["managedNetwork"]["isolationMode"] == "Disabled"
    assert "outboundRules" not in workspace.inputs["managedNetwork"]
    assert "provisionNetworkNow" not in workspace.inputs
    subnet = one(plan, "azure-native:network:Subnet", "shared-snet-aml-compute")
    computes = plan.of_type(COMPUTE)
    assert len(computes) == 2  # the GPU pool and the image-build cluster
    for compute in computes:
        assert compute.inputs["properties"]["properties"]["subnet"] == {"id": subnet.id}
        assert compute.inputs["properties"]["properties"]["enableNodePublicIp"] is False
    # No managed network, so no private-endpoint approvals for it.
    approver = "b556d68e-0be0-4f35-a333-ad7ee1ce17ea"
    assert not [
        a
        for a in plan.of_type("azure-native:authorization:RoleAssignment")
        if a.inputs["roleDefinitionId"].endswith(approver)
    ]


def test_role_assignment_names_differ_between_subscriptions_of_one_tenant(tmp_path: Path, monkeypatch):
    """Learn, "Understand Azure role assignments": a name must be unique in the whole tenant. The same program (same
    prefix, environment and region, no naming seed) in a second subscription must not reuse the first one's names."""
    from aiinfra.engine import arm

    (tmp_path / "Pulumi.yaml").write_text("name: legacy-ml\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  azure-native:location: eastus\n")
    (tmp_path / "__main__.py").write_text(textwrap.dedent(PROGRAM))

    def names() -> set[str]:
        plan = run_here(tmp_path, "dev")
        return {r.inputs["roleAssignmentName"] for r in plan.of_type("azure-native:authorization:RoleAssignment")}

    first = names()
    monkeypatch.setattr(arm, "SUBSCRIPTION_ID", "11111111-2222-3333-4444-555555555555")
    second = names()
    assert first and len(second) == len(first) and first.isdisjoint(second)
