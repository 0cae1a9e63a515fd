"""GpuComputePool: an Azure ML GPU compute cluster (AmlCompute) in a SecureWorkspace that scales to zero.

GPU nodes are the expensive part of an AI platform, so the defaults are the cheap ones: zero nodes when idle,
low-priority capacity, a short idle time before scale-down. Nodes have no public IP, SSH is closed, local auth is
off and the nodes use the workspace's compute identity. The size comes from the typed GPU catalogue: a retired or
unknown size fails with the list of valid ones before anything is registered.

Network: with a managed network (the default) the cluster lives in the workspace's managed VNet and no subnet is
set (Azure rejects one there); without it, the cluster joins the shared AML compute subnet.
"""

from __future__ import annotations

from typing import Literal

import pulumi
from pulumi_azure_native import machinelearningservices as ml
from pydantic import Field, ValidationInfo, field_validator, model_validator

from aiinfra.catalog.gpu_skus import GpuSku, GpuVmSize, lookup

from ._aml import ClusterShape, ComputeName, ComputePlacement, aml_cluster, validate_idle_minutes
from ._base import ArgsModel, InputStr, publish
from .secure_workspace import SecureWorkspaceRef


class GpuComputePoolSettings(ArgsModel):
    """What an environment chooses about one GPU pool (an entry of a workspace's `computePools`)."""

    name: ComputeName
    """Compute name, as jobs refer to it (`compute: azureml:<name>`): 3-24 letters, digits and '-', starting with a
    letter. The same name in every environment keeps job specs portable."""
    vm_size: GpuVmSize
    """GPU VM size from the catalogue (e.g. `Standard_NC4as_T4_v3`, `Standard_NC24ads_A100_v4`); retired sizes fail."""
    priority: Literal["LowPriority", "Dedicated"] = "LowPriority"
    """`LowPriority` (evictable, much cheaper) or `Dedicated` (guaranteed, for production training)."""
    min_nodes: int = Field(default=0, ge=0)
    """Nodes kept running when idle; 0 scales to zero (anything else bills GPUs around the clock)."""
    max_nodes: int = Field(gt=0, le=100)
    """Upper bound of the autoscaler (check your GPU quota for the VM family)."""
    idle_minutes: int = 5
    """Idle time before a node is removed (1-1440 minutes)."""
    description: str = ""
    """What the pool is for; empty: its GPUs and priority (never its node counts, which change when it scales). Set
    at creation only (`Compute - Update` takes only scale settings, so a later change is ignored)."""

    @field_validator("max_nodes")
    @classmethod
    def _max_at_least_min(cls, value: int, info: ValidationInfo) -> int:
        minimum = info.data.get("min_nodes")
        if isinstance(minimum, int) and value < minimum:
            raise ValueError(f"must be >= minNodes ({minimum})")
        return value

    @field_validator("idle_minutes")
    @classmethod
    def _idle(cls, minutes: int) -> int:
        return validate_idle_minutes(minutes)

    @property
    def sku(self) -> GpuSku:
        return lookup(self.vm_size)


class GpuComputePoolArgs(GpuComputePoolSettings):
    """Args of GpuComputePool: the pool settings and the workspace it belongs to."""

    workspace: SecureWorkspaceRef
    """The workspace (`SecureWorkspace.ref`, or a ref built by hand)."""
    identity_id: InputStr | None = None
    """User-assigned identity of the nodes; None uses the workspace's compute identity."""
    tags: dict[str, str] = Field(default_factory=dict)
    """Extra tags, on top of the workspace's."""

    @model_validator(mode="after")
    def _placement(self) -> GpuComputePoolArgs:
        if self.identity_id is None and self.workspace.compute_identity_id is None:
            raise ValueError("identity_id is required when the workspace ref has no compute_identity_id")
        if not self.workspace.managed_network and self.workspace.compute_subnet_id is None:
            raise ValueError(
                "the workspace has no managed network, so the nodes need a subnet: set "
                "workspace.compute_subnet_id (nodes have no public IP)"
            )
        return self


def default_description(sku: GpuSku, priority: str) -> str:
    """The cluster's description when none is given: what never changes in place (its GPUs and priority, which the
    pool replaces on), never the node counts. azure-native applies a scaling change as a full PUT of the cluster
    (Compute_CreateOrUpdate, not the spec's PATCH Compute_Update), and its diff, `aiinfra diff` and the pack see the
    changed inputs: with a fixed description a scaling change is a change of `scaleSettings` alone, while a description
    that followed `max_nodes` would add a second, needless changed input to every scaling update."""
    return f"{sku.gpu_count}x {sku.gpu_model} per node, {priority}"


class GpuComputePool(pulumi.ComponentResource):
    """An AmlCompute GPU cluster: scales to zero, no public IPs, no SSH, no local auth."""

    sku: GpuSku
    compute: ml.Compute
    compute_id: pulumi.Output[str]
    compute_name: pulumi.Output[str]
    vm_size: str
    gpu_model: str
    max_gpus: int

    def __init__(self, name: str, args: GpuComputePoolArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aiinfra:ml:GpuComputePool", name, None, opts)
        workspace = args.workspace
        self.sku = args.sku
        identity = args.identity_id if args.identity_id is not None else workspace.compute_identity_id
        assert identity is not None  # checked by the args model
        self.compute = aml_cluster(
            self,
            f"{name}-compute",
            placement=ComputePlacement(
                workspace_name=workspace.workspace_name,
                resource_group_name=workspace.resource_group_name,
                location=workspace.location,
                identity_id=identity,
                subnet_id=None if workspace.managed_network else workspace.compute_subnet_id,
                tags={**workspace.tags, **args.tags},
                depends_on=workspace.depends_on,
            ),
            compute_name=args.name,
            shape=ClusterShape(
                vm_size=args.vm_size,
                priority=ml.VmPriority(args.priority),
                min_nodes=args.min_nodes,
                max_nodes=args.max_nodes,
                idle_minutes=args.idle_minutes,
            ),
            description=args.description or default_description(self.sku, args.priority),
        )
        publish(
            self,
            compute_id=self.compute.id,
            compute_name=self.compute.name,
            vm_size=args.vm_size,
            gpu_model=self.sku.gpu_model,
            max_gpus=self.sku.gpu_count * args.max_nodes,
        )
