"""A team's own program on the aiinfra library: shared services, one private Azure ML workspace and one GPU pool.

Everything secure and cheap comes from the components' defaults: the workspace has no public access, a private
endpoint in both Azure ML DNS zones and a managed network that allows only approved outbound traffic; the T4 pool is
low-priority and scales to zero after five idle minutes.
"""

import pulumi
from pulumi_azure_native import resources

from aiinfra.components import (
    GpuComputePool,
    GpuComputePoolArgs,
    NamingConvention,
    SecureWorkspace,
    SecureWorkspaceArgs,
    SharedServices,
    SharedServicesArgs,
)

config = pulumi.Config()
naming = NamingConvention(
    prefix="contoso", environment=pulumi.get_stack(), location=pulumi.Config("azure-native").require("location")
)
tags = {"owner": config.require("owner"), "costCenter": config.require("costCenter"), "workload": "fraud"}

group = resources.ResourceGroup(
    "rg", resource_group_name=naming.name("resource_group", "fraud"), location=naming.location, tags=tags
)
shared = SharedServices(
    "shared",
    SharedServicesArgs(
        naming=naming,
        resource_group_name=group.name,
        tags=tags,
        address_space=config.require("addressSpace"),
    ),
)
workspace = SecureWorkspace(
    "fraud",
    SecureWorkspaceArgs(
        name="fraud",
        description="Fraud-detection models",
        naming=naming,
        resource_group_name=group.name,
        tags=tags,
        log_analytics_workspace_id=shared.log_analytics_workspace_id,
        shared=shared.ref,
    ),
)
pool = GpuComputePool(
    "fraud-t4",
    GpuComputePoolArgs(
        workspace=workspace.ref,
        name="t4-lowpri",
        vm_size="Standard_NC4as_T4_v3",
        max_nodes=2,
    ),
    opts=pulumi.ResourceOptions(parent=workspace),
)

pulumi.export("workspaceName", workspace.workspace_name)
pulumi.export("workspaceId", workspace.workspace_id)
pulumi.export("computeName", pool.compute_name)
pulumi.export("dataScientistsGroupObjectId", workspace.data_scientists_group_object_id)
