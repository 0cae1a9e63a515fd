"""Azure ML compute clusters (AmlCompute), written once for the GPU pools and the workspace's image-build cluster."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

import pulumi
from pulumi_azure_native import machinelearningservices as ml
from pydantic import AfterValidator

from aiinfra.catalog.create_only import fixed_paths

from .interfaces import child_opts
from .naming import NamingError, validate

# What Azure ML cannot change on an existing cluster (VM size, priority, subnet...): one row of the create-only table
# the diff command reads too (aiinfra/catalog/create_only.py, with its sources). azure-native would send these as a
# PUT that Azure refuses or ignores, so the cluster declares them `replace_on_changes`; its name is fixed (job specs
# use it), so the old one is deleted first. Unverified: Azure/azure-rest-api-specs#18889 is a same-name re-create that
# kept the old vmSize because the delete detached instead of deleting (azurerm#16640 fixed it with
# underlyingResourceAction=Delete, which azure-native's generic delete does not send) — see secure_workspace.md.
CREATE_ONLY_PROPERTIES = fixed_paths("azure-native:machinelearningservices:Compute")

MAX_IDLE_MINUTES = 1440
"""A day: idle nodes of a cluster are billed, so a longer idle time is a mistake, not a choice."""


def validate_compute_name(name: str) -> str:
    """An AML compute name: 3-24 letters, digits and '-', starting with a letter, each '-' followed later by a letter.

    It is the name data scientists put in job specs (`compute: azureml:<name>`), so it is used as written, not
    decorated with prefix and region: the same job spec then runs in every environment.
    """
    try:
        validate("machine_learning_compute", name)
    except NamingError as exc:
        raise ValueError(str(exc).replace("machine_learning_compute name", "compute name")) from None
    if "-" in name and not re.search(r"[A-Za-z]", name.rsplit("-", 1)[1]):
        raise ValueError(
            f"compute name '{name}': Azure requires a letter after the last '-' (e.g. 'a100-x' not 'a100-2')"
        )
    return name


ComputeName = Annotated[str, AfterValidator(validate_compute_name)]
"""A valid Azure ML compute name."""


def validate_idle_minutes(minutes: int) -> int:
    if not 1 <= minutes <= MAX_IDLE_MINUTES:
        raise ValueError(
            f"must be between 1 and {MAX_IDLE_MINUTES} minutes ({minutes} given): idle nodes are billed "
            "until they are scaled down"
        )
    return minutes


def idle_duration(minutes: int) -> str:
    """The ISO-8601 duration AML expects for `nodeIdleTimeBeforeScaleDown`, e.g. 5 -> `PT5M`."""
    return f"PT{validate_idle_minutes(minutes)}M"


def user_assigned(identity_id: pulumi.Input[str]) -> ml.ManagedServiceIdentityArgs:
    """The identity of an AML compute: one user-assigned identity (the workspace's compute identity)."""
    return ml.ManagedServiceIdentityArgs(
        type=ml.ManagedServiceIdentityType.USER_ASSIGNED, user_assigned_identities=[identity_id]
    )


@dataclass(frozen=True)
class ComputePlacement:
    """Where a workspace's computes go and what they run as: the same for every cluster and compute instance of one
    workspace (SecureWorkspace's image-build cluster and instances, GpuComputePool)."""

    workspace_name: pulumi.Input[str]
    resource_group_name: pulumi.Input[str]
    location: str
    identity_id: pulumi.Input[str]
    subnet_id: pulumi.Input[str] | None
    """None when the workspace has a managed network: computes then live in the managed VNet, and Azure rejects a
    subnet of your own there."""
    tags: dict[str, str]
    depends_on: Sequence[pulumi.Resource]


@dataclass(frozen=True)
class ClusterShape:
    """What one AmlCompute cluster runs: size, priority and how it scales."""

    vm_size: str
    priority: ml.VmPriority
    min_nodes: int
    max_nodes: int
    idle_minutes: int


def aml_cluster(
    parent: pulumi.Resource,
    logical_name: str,
    *,
    placement: ComputePlacement,
    compute_name: str,
    shape: ClusterShape,
    description: str,
) -> ml.Compute:
    """An AmlCompute cluster with no node public IP, SSH closed, local auth off and a user-assigned identity."""
    return workspace_compute(
        parent,
        logical_name,
        placement=placement,
        compute_name=compute_name,
        properties=ml.AmlComputeArgs(
            compute_type="AmlCompute",
            compute_location=placement.location,
            description=description,
            disable_local_auth=True,
            properties=_cluster_properties(shape, placement.subnet_id),
        ),
        replace_on_changes=list(CREATE_ONLY_PROPERTIES),
        # `Compute - Update` takes only scale settings: a changed description would be sent on every `up` and never
        # applied (a perpetual diff), so it is set at creation only.
        ignore_changes=["properties.description"],
    )


def workspace_compute(
    parent: pulumi.Resource,
    logical_name: str,
    *,
    placement: ComputePlacement,
    compute_name: str,
    properties: ml.AmlComputeArgs | ml.ComputeInstanceArgs,
    replace_on_changes: list[str],
    ignore_changes: list[str] | None = None,
) -> ml.Compute:
    """A compute of the workspace, placed and identified by `placement`. What Azure ML cannot update replaces it,
    and the old one goes first: its name is fixed (job specs and users refer to it)."""
    return ml.Compute(
        logical_name,
        compute_name=compute_name,
        workspace_name=placement.workspace_name,
        resource_group_name=placement.resource_group_name,
        location=placement.location,
        identity=user_assigned(placement.identity_id),
        properties=properties,
        tags=placement.tags,
        opts=pulumi.ResourceOptions.merge(
            child_opts(parent, depends_on=placement.depends_on),
            pulumi.ResourceOptions(
                replace_on_changes=replace_on_changes, delete_before_replace=True, ignore_changes=ignore_changes
            ),
        ),
    )


def _cluster_properties(shape: ClusterShape, subnet_id: pulumi.Input[str] | None) -> ml.AmlComputePropertiesArgs:
    return ml.AmlComputePropertiesArgs(
        vm_size=shape.vm_size,
        vm_priority=shape.priority,
        os_type=ml.OsType.LINUX,
        enable_node_public_ip=False,
        remote_login_port_public_access=ml.RemoteLoginPortPublicAccess.DISABLED,
        scale_settings=ml.ScaleSettingsArgs(
            min_node_count=shape.min_nodes,
            max_node_count=shape.max_nodes,
            node_idle_time_before_scale_down=idle_duration(shape.idle_minutes),
        ),
        subnet=ml.ResourceIdArgs(id=subnet_id) if subnet_id is not None else None,
    )
