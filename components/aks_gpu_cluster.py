"""AksGpuCluster: a private AKS cluster whose GPU node pools scale to zero, optionally running Azure ML jobs.

Only the system pool is defined inline on the cluster; every other pool is its own `AgentPool` resource, and the
cluster ignores later changes to `agentPoolProfiles`. Editing an inline pool makes AKS put *every* pool of the
cluster into the Scaling state (pulumi/pulumi-azure-native#4264), and once pools are managed as separate resources a
cluster update that still carries a different inline list fails with "A new agent pool was introduced"
(pulumi/pulumi-azure-native#2719, #579); the provider's own advice is to manage pools with `AgentPool` and keep the
cluster's inline list out of diffs (ignoreChanges on agentPoolProfiles).

The Azure ML extension cannot run on a cluster with local accounts disabled (Microsoft Learn, "Deploy Azure Machine
Learning extension on AKS or Arc Kubernetes cluster", Limitations). Installing it keeps local accounts on; that
trade-off is an explicit, validated setting and the preview prints a warning about it.

Attaching the cluster to a workspace follows Microsoft Learn, "Attach a Kubernetes cluster to Azure Machine Learning
workspace": the workspace must not have a managed network ("Workspace managed virtual network isolation",
Limitations: Kubernetes compute is not supported in a managed virtual network), its user-assigned identity holds
Reader, Kubernetes Extension Contributor and Azure Kubernetes Service Cluster Admin Role on the cluster before the
attach, and the compute's namespace exists first (the attach neither creates nor checks it). docs/components/
aks_gpu_cluster.md has the whole list with sources.
"""

from __future__ import annotations

import base64
import ipaddress
import math
import re
from collections.abc import Sequence
from typing import Annotated, Literal

import pulumi
from pulumi_azure_native import (
    authorization,
    compute,
    containerservice,
    kubernetesconfiguration,
    machinelearningservices,
    managedidentity,
    monitor,
)
from pydantic import AfterValidator, Field, field_validator, model_validator

from aiinfra.catalog.gpu_skus import GpuVmSize, lookup

from ._base import ArgsModel, ComponentArgsError, InputStr, ResourceList, duplicates, publish
from .interfaces import (
    CommonArgs,
    CustomerManagedKey,
    child_opts,
    diagnostic_setting,
    extra_role_assignments,
    rbac_wait,
    role_assignment,
    user_assigned_identity,
)
from .shared_services import SharedServicesRef

SYSTEM_TAINT = "CriticalAddonsOnly=true:NoSchedule"
GPU_TAINT = "sku=gpu:NoSchedule"
# AKS puts this taint on every Spot node itself; declaring it keeps the API's answer equal to our input (no diff).
SPOT_TAINT = "kubernetes.azure.com/scalesetpriority=spot:NoSchedule"
WORKLOAD_LABEL = "workload"
WORKLOAD_VALUES = {"training": "gpu-training", "inference": "gpu-inference"}

# Control-plane logs worth their ingestion cost: API server, admin audit (writes; kube-audit would add every read),
# controllers, scheduler, the autoscaler (why GPU nodes did or did not come) and guard (Azure AD / Azure RBAC).
CONTROL_PLANE_LOG_CATEGORIES = (
    "kube-apiserver",
    "kube-audit-admin",
    "kube-controller-manager",
    "kube-scheduler",
    "cluster-autoscaler",
    "guard",
)
AZURE_ML_EXTENSION_TYPE = "Microsoft.AzureML.Kubernetes"
# AKS labels every Spot pool with this itself (Microsoft Learn, "Add an Azure Spot node pool to an AKS cluster") and
# returns it in the pool's nodeLabels. Spot pools declare it, like SPOT_TAINT: a label update replaces the whole set,
# and one that leaves it out strips it from the nodes (Azure/AKS#3152; Cluster API for Azure sends it back on every
# update for that reason, kubernetes-sigs/cluster-api-provider-azure#2604). Merely ignoring it in diffs would not
# help: ignoreChanges keeps the old *input*, which never had it, so the next label change still sent the set without.
SPOT_LABEL = "kubernetes.azure.com/scalesetpriority"
# The roles the workspace's user-assigned identity needs on the cluster before the attach (Microsoft Learn, "Attach a
# Kubernetes cluster to Azure Machine Learning workspace", Prerequisites): without Kubernetes Extension Contributor
# the attach fails with "extension not installed", without the Cluster Admin Role with "internal server error".
ATTACH_ROLES = ("Reader", "Kubernetes Extension Contributor", "Azure Kubernetes Service Cluster Admin Role")
# Multi-Instance GPU: slices one A100/H100 GPU is cut into per AKS gpuInstanceProfile (NVIDIA MIG user guide,
# "Supported MIG profiles": 1g x7, 2g x3, 3g x2, 4g x1, 7g x1).
MIG_SLICES_PER_GPU = {"MIG1g": 7, "MIG2g": 3, "MIG3g": 2, "MIG4g": 1, "MIG7g": 1}
# Share of a node's CPU and memory an instance type may request: the rest is AKS's kubelet/OS reservation and the
# DaemonSets every node runs (Microsoft Learn, "Resource reservations" in AKS core concepts).
ALLOCATABLE_SHARE = 0.75
CONTAINER_INSIGHTS_STREAM = "Microsoft-ContainerInsights-Group-Default"

_POOL_NAME = re.compile(r"^[a-z][a-z0-9]{0,11}$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
# Namespaces an AKS managed namespace may not take (Learn, "Use managed namespaces in AKS", Limitations: system
# namespaces) plus the extension's own release namespace.
_RESERVED_NAMESPACES = {
    "default",
    "azureml",
    "gatekeeper-system",
    "app-routing-system",
    "istio-system",
    "calico-system",
    "tigera-operator",
}


def _pool_name(value: str) -> str:
    if not _POOL_NAME.match(value):
        raise ValueError(
            f"'{value}' is not a valid AKS node pool name: 1-12 lowercase letters and digits, "
            "starting with a letter (e.g. 'gputrain')"
        )
    return value


PoolName = Annotated[str, AfterValidator(_pool_name)]
"""An AKS Linux node pool name."""


class CpuNodePool(ArgsModel):
    """A CPU node pool: the system pool, or the untainted pool for cluster services and the Azure ML extension."""

    name: PoolName = "cpu"
    """Node pool name: 1-12 lowercase letters and digits, starting with a letter."""
    vm_size: str = "Standard_D4ds_v5"
    """VM size of the nodes (a CPU size; GPU sizes belong in gpuPools)."""
    min_count: int = Field(default=1, ge=0, le=1000)
    """Fewest nodes the autoscaler keeps."""
    max_count: int = Field(default=3, ge=1, le=1000)
    """Most nodes the autoscaler adds."""
    availability_zones: list[Literal["1", "2", "3"]] = Field(default_factory=list)
    """Spread the nodes over these zones (e.g. ["1", "2", "3"] in production); empty lets Azure choose."""
    max_pods: int = Field(default=110, ge=10, le=250)
    """Most pods per node, set explicitly (Azure CNI overlay defaults to 250). Only settable when the pool is
    created."""

    @field_validator("vm_size")
    @classmethod
    def _not_gpu(cls, value: str) -> str:
        if value.strip().lower().startswith("standard_n"):
            raise ValueError(f"'{value}' is a GPU size; put GPU nodes in gpuPools (tainted, scale to zero)")
        return value

    @model_validator(mode="after")
    def _min_max(self) -> CpuNodePool:
        if self.min_count > self.max_count:
            raise ValueError(f"minCount ({self.min_count}) must be <= maxCount ({self.max_count})")
        return self


class GpuNodePool(ArgsModel):
    """A GPU node pool: tainted so only GPU workloads land on it, autoscaled from zero."""

    name: PoolName
    """Node pool name: 1-12 lowercase letters and digits, starting with a letter (e.g. `gputrain`)."""
    vm_size: GpuVmSize
    """GPU VM size from the catalogue (retired and unknown sizes are rejected)."""
    role: Literal["training", "inference"] = "training"
    """What the pool runs; sets the `workload` node label (gpu-training / gpu-inference) and the Spot rules."""
    min_count: int = Field(default=0, ge=0, le=1000)
    """Fewest nodes kept when idle; 0 (the default) means an idle pool costs nothing."""
    max_count: int = Field(le=1000)
    """Most nodes the autoscaler adds (the pool's spend cap)."""
    autoscaling: bool = True
    """Let the cluster autoscaler size the pool between minCount and maxCount; false runs a fixed maxCount nodes
    around the clock (costly for GPUs)."""
    spot: bool = False
    """Run on Spot capacity (up to ~90% cheaper, evictable; eviction Delete, pay at most the on-demand price)."""
    allow_spot_for_inference: bool = False
    """Accept Spot for an inference pool: evictions interrupt serving, so this must be said explicitly."""
    mig_profile: Literal["MIG1g", "MIG2g", "MIG3g", "MIG4g", "MIG7g"] | None = None
    """Multi-Instance GPU partitioning (A100 / H100 sizes only), e.g. MIG1g for seven small slices per GPU."""
    availability_zones: list[Literal["1", "2", "3"]] = Field(default_factory=list)
    """Zones to place nodes in; empty lets Azure choose (GPU capacity often exists in only some zones)."""
    os_disk_size_gb: int = Field(default=128, ge=30, le=2048)
    """OS disk size; container images for GPU frameworks are large."""
    labels: dict[str, str] = Field(default_factory=dict)
    """Extra node labels (the `workload` label is set from role)."""
    max_pods: int = Field(default=110, ge=10, le=250)
    """Most pods per node, set explicitly (Azure CNI overlay defaults to 250). Only settable when the pool is
    created."""

    @field_validator("max_count")
    @classmethod
    def _positive_max(cls, value: int) -> int:
        if value <= 0:
            raise ValueError(
                f"must be greater than 0, got {value}: a pool that can never have a node is a mistake "
                "(remove the pool instead)"
            )
        return value

    @field_validator("labels")
    @classmethod
    def _reserved_labels(cls, labels: dict[str, str]) -> dict[str, str]:
        for key in labels:
            if key == WORKLOAD_LABEL or key.startswith("kubernetes.azure.com/"):
                raise ValueError(f"label '{key}' is set by aiinfra or AKS; use role to choose the workload label")
        return labels

    @model_validator(mode="after")
    def _consistent(self) -> GpuNodePool:
        if self.min_count > self.max_count:
            raise ValueError(f"minCount ({self.min_count}) must be <= maxCount ({self.max_count})")
        if self.spot and not self.autoscaling:
            raise ValueError(
                "spot: Spot pools need autoscaling (evicted nodes come back only through the "
                "autoscaler); set autoscaling true or spot false"
            )
        if self.spot and self.role == "inference" and not self.allow_spot_for_inference:
            raise ValueError(
                "spot: inference pools run on Regular capacity because Spot evictions interrupt "
                "serving; set spot false, or allowSpotForInference true to accept that"
            )
        if self.allow_spot_for_inference and self.role != "inference":
            raise ValueError("allowSpotForInference only applies to pools with role 'inference'")
        if self.mig_profile is not None:
            sku = lookup(self.vm_size)
            if self.mig_profile not in sku.mig_profiles:
                raise ValueError(
                    f"migProfile: {sku.name} ({sku.gpu_model}) does not support Multi-Instance GPU; "
                    "use an A100 or H100 size (e.g. Standard_NC24ads_A100_v4) or remove migProfile"
                )
        return self

    @property
    def node_labels(self) -> dict[str, str]:
        spot = {SPOT_LABEL: "spot"} if self.spot else {}
        return {**self.labels, WORKLOAD_LABEL: WORKLOAD_VALUES[self.role], **spot}

    @property
    def pods_per_node(self) -> int:
        """Pods of the pool's instance type that fit on one node: one (all GPUs), or one per MIG slice."""
        if self.mig_profile is None:
            return 1
        return lookup(self.vm_size).gpu_count * MIG_SLICES_PER_GPU[self.mig_profile]

    @property
    def node_taints(self) -> list[str]:
        return [GPU_TAINT, SPOT_TAINT] if self.spot else [GPU_TAINT]


class MaintenanceWindow(ArgsModel):
    """A weekly window for AKS-managed upgrades (control plane and node OS images)."""

    day_of_week: Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"] = "Sunday"
    """Day the window opens."""
    start_time: str = Field(default="02:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    """Start time, HH:MM."""
    duration_hours: int = Field(default=4, ge=4, le=24)
    """Window length; AKS requires at least 4 hours."""
    utc_offset: str = Field(default="+00:00", pattern=r"^[+-](0\d|1[0-4]):[0-5]\d$")
    """Offset of start_time from UTC, e.g. +01:00."""


class AzureMlExtensionSettings(ArgsModel):
    """The Azure ML extension (Microsoft.AzureML.Kubernetes): lets a workspace run jobs and endpoints on the cluster."""

    enable_training: bool = True
    """Run training jobs and batch scoring."""
    enable_inference: bool = False
    """Host online endpoints behind the azureml-fe router, on an internal load balancer only."""
    inference_router_ha: bool = True
    """Three router replicas (needs three or more nodes); false runs one, for dev clusters."""
    allow_insecure_connections: bool = False
    """Serve inference over plain HTTP inside the VNet. Off: HTTPS with sslCname and the router's certificate and
    key, which the component takes as secrets (`inference_tls`), never from a Kubernetes secret: a cluster created by
    the same `pulumi up` cannot hold one yet."""
    ssl_cname: str | None = None
    """Host name clients use for the inference endpoints (must match the certificate)."""
    install_nvidia_device_plugin: bool = True
    """Install the NVIDIA device plugin, without which AKS nodes advertise no `nvidia.com/gpu` resources."""
    install_dcgm_exporter: bool = True
    """Install the DCGM exporter so GPU utilisation and memory appear in the cluster's metrics."""
    release_train: Literal["stable", "preview"] = "stable"
    """Extension release train; minor versions upgrade automatically within it."""

    @model_validator(mode="after")
    def _consistent(self) -> AzureMlExtensionSettings:
        if not (self.enable_training or self.enable_inference):
            raise ValueError("enable at least one of enableTraining and enableInference")
        if self.enable_inference and not self.allow_insecure_connections and not self.ssl_cname:
            raise ValueError(
                "inference over HTTPS needs sslCname (the host name on the router's certificate); or "
                "set allowInsecureConnections true for HTTP inside the VNet"
            )
        return self

    @property
    def serves_https(self) -> bool:
        return self.enable_inference and not self.allow_insecure_connections


class InferenceTls(ArgsModel):
    """The inference router's TLS certificate and key (PEM, not passphrase-protected), e.g. from Pulumi secrets.

    They reach the extension as configurationProtectedSettings (`scoringFe.sslCert` / `scoringFe.sslKey`, base64 of
    the PEM text), the way `az k8s-extension create --config-protected sslCertPemFile=... sslKeyPemFile=...` sends
    them (Azure/azure-cli-extensions, k8s-extension AzureMLKubernetes.py); the component marks both secret.
    """

    certificate_pem: InputStr
    """PEM certificate chain for sslCname."""
    key_pem: InputStr
    """PEM private key of the certificate."""


class AmlAttachmentSettings(ArgsModel):
    """How the cluster appears in an Azure ML workspace."""

    compute_name: str = Field(default="aks-gpu", pattern=r"^[a-zA-Z][a-zA-Z0-9-]{1,15}$")
    """Compute target name in the workspace (2-16 letters, digits, hyphens)."""
    namespace: str = "azureml-workloads"
    """Kubernetes namespace Azure ML runs jobs and deployments in; the component creates it as an AKS managed
    namespace (the attach does not create it). Not `default` or a system namespace."""

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        if not _DNS_LABEL.match(value):
            raise ValueError(f"'{value}' is not a Kubernetes namespace name (lowercase letters, digits, '-')")
        if value in _RESERVED_NAMESPACES or value.startswith("kube-"):
            raise ValueError(
                f"'{value}' is a namespace Kubernetes, AKS or the Azure ML extension owns; name one "
                "for Azure ML workloads (e.g. 'azureml-workloads')"
            )
        return value


class AmlAttachment(AmlAttachmentSettings):
    """Attach the cluster to an Azure ML workspace as Kubernetes compute: plain references, any workspace."""

    workspace_name: InputStr
    """Name of the Azure ML workspace."""
    workspace_resource_group_name: InputStr
    """Resource group of the workspace."""
    workspace_location: str | None = None
    """Region of the workspace; None means the cluster's region."""
    workspace_managed_network: bool = False
    """The workspace has an Azure ML managed virtual network. Kubernetes compute is not supported there (Learn,
    "Workspace managed virtual network isolation", Limitations), so True is refused: attach to a workspace with
    isolation mode Disabled."""
    workspace_principal_id: InputStr | None = None
    """Principal id of the workspace's user-assigned (primary) identity: it is granted Reader, Kubernetes Extension
    Contributor and Azure Kubernetes Service Cluster Admin Role on the cluster before the attach. None: the
    workspace uses its system-assigned identity, for which Azure ML makes the grants itself."""
    identity_id: InputStr | None = None
    """User-assigned identity for the compute (e.g. the workspace's compute identity, which already holds AcrPull and
    storage data roles); None gives it a system-assigned identity, granted AcrPull on the shared registry and Storage
    Blob Data Contributor on the shared storage."""
    depends_on: ResourceList = Field(default_factory=list)
    """What the compute must wait for besides the workspace (e.g. its compute identity's role assignments)."""

    @model_validator(mode="after")
    def _supported_workspace(self) -> AmlAttachment:
        if self.workspace_managed_network:
            raise ValueError(
                "workspace_managed_network: Kubernetes compute is not supported in an Azure ML managed "
                "virtual network; attach the cluster to a workspace with isolation mode Disabled (its "
                "private endpoint in your VNet), or do not attach it"
            )
        return self


class AksGpuClusterSettings(ArgsModel):
    """What an environment chooses about its AKS GPU cluster (the `aks` section of stack config)."""

    sku_tier: Literal["Free", "Standard", "Premium"] = "Free"
    """Control-plane tier: Free (no SLA) for dev, Standard (financially backed SLA) for production."""
    kubernetes_version: str | None = Field(default=None, pattern=r"^\d+\.\d+(\.\d+)?$")
    """Kubernetes version (e.g. `1.32`); None takes AKS's default. Patches follow upgradeChannel."""
    admin_group_object_ids: list[str] = Field(min_length=1)
    """Azure AD group object ids that get cluster-admin through Azure RBAC."""
    system_pool: CpuNodePool = Field(default_factory=lambda: CpuNodePool(name="system", min_count=1, max_count=3))
    """The inline system pool, tainted CriticalAddonsOnly so only system pods run there."""
    cpu_pool: CpuNodePool | None = None
    """An untainted CPU pool for cluster services (required with the Azure ML extension, whose services cannot run
    on the tainted system and GPU pools)."""
    gpu_pools: list[GpuNodePool] = Field(default_factory=list)
    """GPU pools, each a separate AgentPool."""
    os_sku: Literal["Ubuntu", "AzureLinux"] = "Ubuntu"
    """Node OS image for every pool."""
    network_policy: Literal["cilium", "calico", "azure"] = "cilium"
    """Network policy engine; cilium also switches the dataplane to Azure CNI powered by Cilium."""
    pod_cidr: str = "192.168.0.0/16"
    """Overlay pod address space: must not overlap the VNet, peered networks or serviceCidr."""
    service_cidr: str = "172.16.0.0/16"
    """Kubernetes service address space: must not overlap the VNet, peered networks or podCidr."""
    outbound_type: Literal["userAssignedNATGateway", "userDefinedRouting", "loadBalancer"] = "userAssignedNATGateway"
    """Node egress: the NAT gateway on the AKS subnet (shared services), a route table to your firewall, or an
    AKS-managed public load balancer."""
    upgrade_channel: Literal["patch", "stable", "rapid", "node-image", "none"] = "patch"
    """Automatic Kubernetes upgrades."""
    node_os_upgrade_channel: Literal["NodeImage", "SecurityPatch", "Unmanaged", "None"] = "NodeImage"
    """Automatic node OS image / security patch upgrades."""
    maintenance_window: MaintenanceWindow = Field(default_factory=MaintenanceWindow)
    """When automatic upgrades may run."""
    scale_down_unneeded_minutes: int = Field(default=10, ge=1, le=1440)
    """How long an idle node (e.g. a GPU node whose job ended) stays before the autoscaler removes it."""
    customer_managed_key: bool = True
    """Encrypt node OS and data disks with the environment's customer-managed key (through a Disk Encryption Set)
    when the shared services have one; false opts out (only possible when the cluster is created)."""
    container_insights: bool = True
    """Container Insights (node, pod and container logs and metrics) to the Log Analytics workspace."""
    azure_ml_extension: AzureMlExtensionSettings | None = None
    """Install the Azure ML extension; None installs none."""
    disable_local_accounts: bool | None = None
    """Disable local Kubernetes accounts so only Azure AD identities get credentials. None (default) decides from
    the extension: disabled without it; enabled with it, because Azure ML does not support AKS with local accounts
    disabled (a warning is printed). Setting it true together with the extension is an error."""
    self_managed_gpu_device_plugin: bool = False
    """You install a GPU device plugin yourself (e.g. the NVIDIA device plugin DaemonSet or the NVIDIA GPU Operator,
    by Helm or GitOps). Without one, GPU nodes advertise no `nvidia.com/gpu` and GPU pods never schedule, so GPU
    pools need this or the Azure ML extension with installNvidiaDevicePlugin."""
    azure_policy: bool = True
    """Azure Policy add-on (Gatekeeper): Azure Policy's Kubernetes definitions (e.g. the pod security baseline)
    audit or deny what is deployed in the cluster. Azure policy 'Azure Policy Add-on for Kubernetes service (AKS)
    should be installed and enabled on your clusters'."""
    defender: bool = True
    """Microsoft Defender for Containers sensor (securityProfile.defender), reporting to the Log Analytics
    workspace. It runs only where the subscription has the Defender for Containers plan (billed per vCore)."""
    encryption_at_host: bool = True
    """Encrypt the nodes' temp disks and OS/data disk caches on the VM host (the disk encryption set covers only the
    managed disks). Needs the subscription feature Microsoft.Compute/EncryptionAtHost (bootstrap/ registers it) and
    VM sizes whose EncryptionAtHostSupported capability is true; only settable when a pool is created."""

    @field_validator("admin_group_object_ids")
    @classmethod
    def _object_ids(cls, ids: list[str]) -> list[str]:
        for value in ids:
            if not _UUID.match(value):
                raise ValueError(f"'{value}' is not an Azure AD object id (a GUID)")
        return ids

    @field_validator("pod_cidr", "service_cidr")
    @classmethod
    def _private_cidr(cls, value: str) -> str:
        try:
            network = ipaddress.ip_network(value, strict=True)
        except ValueError as exc:
            raise ValueError(f"'{value}' is not a valid IPv4 CIDR block: {exc}") from None
        if not isinstance(network, ipaddress.IPv4Network) or not network.is_private:
            raise ValueError(f"'{value}' must be a private IPv4 range")
        if network.prefixlen > 24:
            raise ValueError(f"'{value}' is too small; use a /24 or larger (e.g. a /16)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> AksGpuClusterSettings:
        if self.system_pool.min_count < 1:
            raise ValueError("systemPool.minCount must be at least 1: AKS keeps system pods on the system pool")
        names = [
            self.system_pool.name,
            *([self.cpu_pool.name] if self.cpu_pool else []),
            *(p.name for p in self.gpu_pools),
        ]
        repeated = duplicates(names)
        if repeated:
            raise ValueError(f"node pool names must be unique; repeated: {', '.join(repeated)}")
        if ipaddress.ip_network(self.pod_cidr).overlaps(ipaddress.ip_network(self.service_cidr)):
            raise ValueError(f"podCidr ({self.pod_cidr}) and serviceCidr ({self.service_cidr}) overlap")
        if self.system_pool.availability_zones and self.system_pool.min_count < len(
            self.system_pool.availability_zones
        ):
            raise ValueError(
                f"systemPool.minCount ({self.system_pool.min_count}) must be at least the number of "
                f"availabilityZones ({len(self.system_pool.availability_zones)}): one system node per "
                "zone, or a zone outage takes the system pods down"
            )
        extension_plugin = self.azure_ml_extension is not None and self.azure_ml_extension.install_nvidia_device_plugin
        if self.gpu_pools and not extension_plugin and not self.self_managed_gpu_device_plugin:
            raise ValueError(
                "gpuPools need a GPU device plugin, or their nodes advertise no nvidia.com/gpu and GPU "
                "pods never schedule: add azureMlExtension (installNvidiaDevicePlugin true), or set "
                "selfManagedGpuDevicePlugin true if you install the NVIDIA device plugin yourself"
            )
        if self.azure_ml_extension is not None:
            if self.disable_local_accounts:
                raise ValueError(
                    "disableLocalAccounts: Azure ML does not support AKS with local accounts disabled; "
                    "remove azureMlExtension, or leave disableLocalAccounts unset (or false)"
                )
            if self.cpu_pool is None:
                raise ValueError(
                    "azureMlExtension needs cpuPool: the extension's services cannot run on the tainted "
                    "system pool or GPU pools"
                )
        return self

    def check_attachment(self, key: str) -> None:
        """Fail when something is attached (`key`, as the caller spells it) without the Azure ML extension."""
        if self.azure_ml_extension is None:
            raise ValueError(
                f"{key} needs azureMlExtension: a workspace can only use the cluster through the Azure ML extension"
            )

    @property
    def local_accounts_disabled(self) -> bool:
        if self.disable_local_accounts is not None:
            return self.disable_local_accounts
        return self.azure_ml_extension is None

    @property
    def dns_service_ip(self) -> str:
        """The cluster DNS service address: the tenth address of the service range (AKS's convention)."""
        return str(ipaddress.ip_network(self.service_cidr).network_address + 10)


class AksGpuClusterArgs(CommonArgs, AksGpuClusterSettings):
    """Args of AksGpuCluster: the common component args, the environment's settings, the shared services."""

    shared: SharedServicesRef
    """Network, private DNS zones, registry, storage and the customer-managed key to build on."""
    aml_attachment: AmlAttachment | None = None
    """Attach the cluster to this Azure ML workspace as Kubernetes compute (needs azureMlExtension)."""
    inference_tls: InferenceTls | None = None
    """The inference router's certificate and key, required for HTTPS inference (azure_ml_extension with
    enable_inference and not allow_insecure_connections). Pass secrets (e.g. `Config.require_secret`)."""

    @model_validator(mode="after")
    def _attachment_needs_extension(self) -> AksGpuClusterArgs:
        if self.aml_attachment is not None:
            self.check_attachment("amlAttachment")
        https = self.azure_ml_extension is not None and self.azure_ml_extension.serves_https
        if https and self.inference_tls is None:
            raise ValueError(
                "inference_tls is required for HTTPS inference (azure_ml_extension.enable_inference "
                "without allow_insecure_connections): pass the router's PEM certificate and key as "
                "secrets"
            )
        if self.inference_tls is not None and not https:
            raise ValueError(
                "inference_tls is only used for HTTPS inference; remove it, or enable inference "
                "(azure_ml_extension.enable_inference) without allow_insecure_connections"
            )
        if self.defender and self.log_analytics_workspace_id is None:
            raise ValueError(
                "defender needs log_analytics_workspace_id (the sensor reports to a Log Analytics "
                "workspace); pass one, or set defender false"
            )
        return self

    @model_validator(mode="after")
    def _same_region_as_its_dns_zone(self) -> AksGpuClusterArgs:
        # A private cluster's own private DNS zone must be privatelink.<the cluster's region>.azmk8s.io (Learn,
        # "Create a private AKS cluster": configure a private DNS zone), and the zone comes from the shared services.
        if self.naming.location != self.shared.naming.location:
            raise ValueError(
                f"naming.location '{self.naming.location}' differs from shared.naming.location "
                f"'{self.shared.naming.location}': the private cluster uses the shared privatelink."
                f"{self.shared.naming.location}.azmk8s.io zone, which AKS accepts only for a cluster in that region; "
                "create the cluster in the shared services' region (or give it shared services of its own region)"
            )
        return self


def instance_type(pool: GpuNodePool) -> machinelearningservices.InstanceTypeSchemaArgs:
    """An Azure ML instance type for `pool`, picked by name in jobs: the whole node (all its GPUs) for a plain GPU
    pool; for a MIG pool one slice with its share of the node's CPU and memory, so the node runs one pod per slice
    (a slice asking for three quarters of the node would leave every other slice idle)."""
    sku = lookup(pool.vm_size)
    pods_per_node = pool.pods_per_node
    cpu = str(max(1, math.floor(sku.vcpus * ALLOCATABLE_SHARE / pods_per_node)))
    memory = f"{max(1, math.floor(sku.memory_gib * ALLOCATABLE_SHARE / pods_per_node))}Gi"
    # On an AKS MIG pool the device plugin advertises each slice as one nvidia.com/gpu (MIG strategy "single").
    gpus = "1" if pool.mig_profile else str(sku.gpu_count)
    return machinelearningservices.InstanceTypeSchemaArgs(
        node_selector={"agentpool": pool.name},
        resources=machinelearningservices.InstanceTypeSchemaResourcesArgs(
            requests={"cpu": cpu, "memory": memory},
            limits={"cpu": cpu, "memory": memory, "nvidia.com/gpu": gpus},
        ),
    )


def azure_ml_extension_settings(
    settings: AzureMlExtensionSettings,
    *,
    cluster_id: pulumi.Input[str],
    cluster_name: pulumi.Input[str],
    location: str,
    spot: bool,
) -> dict[str, pulumi.Input[str]]:
    """The extension's configurationSettings as ARM takes them (strings only).

    `az k8s-extension create` derives several keys client-side before it calls ARM (Azure/azure-cli-extensions,
    k8s-extension AzureMLKubernetes.py): the scoringFe.* keys, cluster_name (and the clusterId and Prometheus label
    it is copied to), domain/location, and relayserver and servicebus off on AKS. A direct ARM deployment must send
    them itself. Tolerations for the GPU (and Spot) taints, as Microsoft's edge-ai AKS integration sets them:
    `toleration[i]` for the extension's own DaemonSets (the NVIDIA device plugin, log and storage agents) that must
    run on GPU nodes, `workLoadToleration[i]` for Azure ML jobs and deployments.
    """
    flag = {True: "true", False: "false"}
    values: dict[str, pulumi.Input[str]] = {
        "enableTraining": flag[settings.enable_training],
        "enableInference": flag[settings.enable_inference],
        "installNvidiaDevicePlugin": flag[settings.install_nvidia_device_plugin],
        "installDcgmExporter": flag[settings.install_dcgm_exporter],
        "servicebus.enabled": "false",
        "relayserver.enabled": "false",
        "nginxIngress.enabled": "true",
        "cluster_name": cluster_id,
        "clusterId": cluster_id,
        "prometheus.prometheusSpec.externalLabels.cluster_name": cluster_id,
        "cluster_name_friendly": cluster_name,
        "domain": f"{location}.cloudapp.azure.com",
        "location": location,
        "jobSchedulerLocation": location,
    }
    tolerations = [("sku", "Equal", "gpu", "NoSchedule")]
    if spot:
        tolerations.append(("kubernetes.azure.com/scalesetpriority", "Equal", "spot", "NoSchedule"))
    for prefix in ("toleration", "workLoadToleration"):
        for i, (key, operator, value, effect) in enumerate(tolerations):
            values.update(
                {
                    f"{prefix}[{i}].key": key,
                    f"{prefix}[{i}].operator": operator,
                    f"{prefix}[{i}].value": value,
                    f"{prefix}[{i}].effect": effect,
                }
            )
    if settings.enable_inference:
        # Internal load balancer only: the inference router gets a private IP in the AKS subnet.
        values.update(
            {
                "inferenceRouterServiceType": "loadBalancer",
                "internalLoadBalancerProvider": "azure",
                "scoringFe.serviceType.internalLoadBalancer": "true",
                "inferenceRouterHA": flag[settings.inference_router_ha],
                "allowInsecureConnections": flag[settings.allow_insecure_connections],
            }
        )
        # The certificate and key travel as protected settings (azure_ml_protected_settings), never as `sslSecret`:
        # that names a Kubernetes secret, which a cluster created by the same deployment cannot hold yet.
        if settings.ssl_cname:
            values["sslCname"] = settings.ssl_cname
    return values


def azure_ml_protected_settings(tls: InferenceTls) -> dict[str, pulumi.Input[str]]:
    """The extension's configurationProtectedSettings for HTTPS inference, as `az k8s-extension create
    --config-protected sslCertPemFile=... sslKeyPemFile=...` sends them (Azure/azure-cli-extensions, k8s-extension
    AzureMLKubernetes.py: base64 of the PEM text under scoringFe.sslCert / scoringFe.sslKey). Both are secret
    Outputs, whatever the caller passed: they never appear in a plan or state in plain text."""

    def encoded(pem: InputStr) -> pulumi.Output[str]:
        return pulumi.Output.secret(pem).apply(lambda text: base64.b64encode(text.encode()).decode())

    return {"scoringFe.sslCert": encoded(tls.certificate_pem), "scoringFe.sslKey": encoded(tls.key_pem)}


# No SSH into nodes (AgentPool securityProfile.sshAccess "Disabled", in the stable API 2025-09-01 the SDK uses; Learn,
# "Manage SSH for secure access to AKS nodes"): node access goes through `kubectl debug node/...` under Azure RBAC
# instead of a static key.
_NO_SSH = containerservice.AgentPoolSecurityProfileArgs(ssh_access=containerservice.AgentPoolSSHAccess.DISABLED)


def local_accounts_warning(cluster: str) -> str:
    return (
        f"AKS cluster '{cluster}' keeps local accounts ENABLED (disableLocalAccounts false) because it runs the "
        "Azure ML extension, which does not support AKS with local accounts disabled. Anyone allowed "
        "listClusterAdminCredential gets a static admin kubeconfig: grant that action (e.g. 'Azure Kubernetes "
        "Service Cluster Admin Role') to no one but break-glass admins."
    )


class AksGpuCluster(pulumi.ComponentResource):
    """Private AKS (Azure AD + Azure RBAC, workload identity, CNI overlay with network policy, NAT egress) with a
    tainted system pool, an optional CPU pool, GPU pools that scale to zero, disk CMK, Container Insights,
    control-plane diagnostics, managed upgrades in a maintenance window, and optionally the Azure ML extension
    with the cluster attached to a workspace."""

    cluster_id: pulumi.Output[str]
    cluster_name: pulumi.Output[str]
    private_fqdn: pulumi.Output[str]
    oidc_issuer_url: pulumi.Output[str]
    control_plane_identity_principal_id: pulumi.Output[str]
    kubelet_identity_object_id: pulumi.Output[str]
    node_resource_group: pulumi.Output[str]
    disk_encryption_set_id: pulumi.Output[str] | None
    aml_compute_id: pulumi.Output[str] | None
    gpu_pool_names: list[str]

    def __init__(self, name: str, args: AksGpuClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        subnet_id = args.shared.require("aks_subnet_id", "the AKS nodes need a subnet")
        [dns_zone_id] = args.shared.dns_zone_ids_for("management")
        cmk = _disk_encryption_key(args)
        super().__init__("aiinfra:aks:AksGpuCluster", name, None, opts)

        identity, grants = self._control_plane_identity(name, args, dns_zone_id)
        des = None
        if cmk is not None:
            des = self._disk_encryption_set(name, args, cmk)
            grants.append(self._des_reader(name, args, des, identity))
        cluster_name = args.naming.name("kubernetes_cluster")
        # AKS checks the grants when it validates the create (a custom private DNS zone the identity cannot write fails
        # with CustomPrivateDNSZoneMissingPermissionError; Learn, "Create a private AKS cluster", and "Use a managed
        # identity in AKS": a pre-created identity needs its roles before the cluster); role assignments take effect
        # minutes after ARM returns them (Learn, "Troubleshoot Azure RBAC").
        ready = [*grants, rbac_wait(self, f"{name}-rbac-wait", grants), *args.shared.dns_zone_links_for("management")]
        cluster = self._cluster(name, args, cluster_name, identity, des, subnet_id, dns_zone_id, depends_on=ready)
        pools = self._user_pools(name, args, cluster, subnet_id)
        self._maintenance(name, args, cluster)
        self._monitoring(name, args, cluster)
        kubelet_object_id = self._cluster_grants(name, args, cluster)
        compute_id = self._azure_ml(name, args, cluster, cluster_name, pools)

        publish(
            self,
            cluster_id=cluster.id,
            cluster_name=cluster.name,
            private_fqdn=cluster.private_fqdn,
            oidc_issuer_url=cluster.oidc_issuer_profile.apply(lambda p: (p.issuer_url if p else None) or ""),
            control_plane_identity_principal_id=identity.principal_id,
            kubelet_identity_object_id=kubelet_object_id,
            node_resource_group=cluster.node_resource_group.apply(lambda g: g or ""),
            disk_encryption_set_id=des.id if des is not None else None,
            aml_compute_id=compute_id,
            gpu_pool_names=[p.name for p in args.gpu_pools],
        )

    # --- control-plane identity and the grants AKS checks before it creates the cluster -------------------------------

    def _control_plane_identity(
        self, name: str, args: AksGpuClusterArgs, dns_zone_id: InputStr
    ) -> tuple[managedidentity.UserAssignedIdentity, list[pulumi.Resource]]:
        """A custom private DNS zone needs a user-assigned control-plane identity that can write the zone and join
        the subnet, granted before the cluster exists."""
        identity = user_assigned_identity(self, f"{name}-id", args=args, workload="aks")
        grants: list[pulumi.Resource] = [
            role_assignment(
                self,
                f"{name}-dns-zone-contributor",
                naming=args.naming,
                scope=dns_zone_id,
                principal_id=identity.principal_id,
                role="Private DNS Zone Contributor",
            ),
            role_assignment(
                self,
                f"{name}-network-contributor",
                naming=args.naming,
                scope=args.shared.virtual_network_id,
                principal_id=identity.principal_id,
                role="Network Contributor",
            ),
        ]
        return identity, grants

    # --- disk encryption with the environment's customer-managed key --------------------------------------------------

    def _disk_encryption_set(
        self, name: str, args: AksGpuClusterArgs, cmk: CustomerManagedKey
    ) -> compute.DiskEncryptionSet:
        """The CMK identity holds Key Vault Crypto Service Encryption User on the key (CustomerManagedKey's contract;
        the DES waits for that grant); the DES follows key rotations itself."""
        key_url = cmk.key_version_url
        assert key_url is not None  # checked by _disk_encryption_key before anything is registered
        return compute.DiskEncryptionSet(
            f"{name}-des",
            disk_encryption_set_name=args.naming.name("disk_encryption_set", "aks"),
            resource_group_name=args.resource_group_name,
            location=args.location,
            identity=compute.EncryptionSetIdentityArgs(
                type=compute.DiskEncryptionSetIdentityType.USER_ASSIGNED,
                user_assigned_identities=[cmk.identity_id],
            ),
            active_key=compute.KeyForDiskEncryptionSetArgs(
                key_url=key_url,
                source_vault=compute.SourceVaultArgs(id=cmk.key_vault_id),
            ),
            encryption_type=compute.DiskEncryptionSetType.ENCRYPTION_AT_REST_WITH_CUSTOMER_KEY,
            rotation_to_latest_key_version_enabled=True,
            tags=args.tags,
            opts=child_opts(self, depends_on=cmk.depends_on),
        )

    def _des_reader(
        self,
        name: str,
        args: AksGpuClusterArgs,
        des: compute.DiskEncryptionSet,
        identity: managedidentity.UserAssignedIdentity,
    ) -> authorization.RoleAssignment:
        """The cluster identity must read the DES before the cluster uses it for node disks (Learn, "Bring your own
        keys (BYOK) with Azure managed disks in AKS": "the AKS cluster identity has read access to the
        DiskEncryptionSet"); the cluster waits for the grant."""
        return role_assignment(
            self,
            f"{name}-des-reader",
            naming=args.naming,
            scope=des.id,
            principal_id=identity.principal_id,
            role="Reader",
        )

    # --- the cluster with its inline system pool ----------------------------------------------------------------------

    def _cluster(
        self,
        name: str,
        args: AksGpuClusterArgs,
        cluster_name: str,
        identity: managedidentity.UserAssignedIdentity,
        des: compute.DiskEncryptionSet | None,
        subnet_id: InputStr,
        dns_zone_id: InputStr,
        *,
        depends_on: list[pulumi.Resource],
    ) -> containerservice.ManagedCluster:
        """The private cluster in the custom zone. It waits (`depends_on`) for the control-plane identity's grants and
        the RBAC wait, and for the zone's VNet link when the shared services made it: the nodes resolve the API
        server's private FQDN through that zone while they join (Learn, "Create a private AKS cluster": the zone
        is linked to the VNet the nodes are attached to, and AKS links a custom zone to the cluster's VNet itself
        when no link exists), and a zone can have only one link per VNet (Learn, "What is a virtual network link?"),
        so a cluster created before our link could race it: AKS's own link first, then ours rejected."""
        client = authorization.get_client_config_output()
        return containerservice.ManagedCluster(
            f"{name}-cluster",
            resource_name_=cluster_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            dns_prefix=cluster_name,
            kubernetes_version=args.kubernetes_version,
            sku=containerservice.ManagedClusterSKUArgs(
                name=containerservice.ManagedClusterSKUName.BASE,
                tier=containerservice.ManagedClusterSKUTier(args.sku_tier),
            ),
            identity=containerservice.ManagedClusterIdentityArgs(
                type=containerservice.ResourceIdentityType.USER_ASSIGNED,
                user_assigned_identities=[identity.id],
            ),
            node_resource_group=args.naming.name("resource_group", "aks-nodes"),
            agent_pool_profiles=[self._system_pool(args, subnet_id)],
            api_server_access_profile=containerservice.ManagedClusterAPIServerAccessProfileArgs(
                enable_private_cluster=True,
                enable_private_cluster_public_fqdn=False,
                private_dns_zone=dns_zone_id,
            ),
            network_profile=_network_profile(args),
            aad_profile=containerservice.ManagedClusterAADProfileArgs(
                managed=True,
                enable_azure_rbac=True,
                admin_group_object_ids=args.admin_group_object_ids,
                tenant_id=client.tenant_id,
            ),
            enable_rbac=True,
            disable_local_accounts=args.local_accounts_disabled,
            oidc_issuer_profile=containerservice.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
            security_profile=_security_profile(args),
            addon_profiles=self._addons(args),
            auto_upgrade_profile=containerservice.ManagedClusterAutoUpgradeProfileArgs(
                upgrade_channel=containerservice.UpgradeChannel(args.upgrade_channel),
                node_os_upgrade_channel=containerservice.NodeOSUpgradeChannel(args.node_os_upgrade_channel),
            ),
            auto_scaler_profile=containerservice.ManagedClusterPropertiesAutoScalerProfileArgs(
                scale_down_unneeded_time=f"{args.scale_down_unneeded_minutes}m",
                expander="least-waste",
            ),
            disk_encryption_set_id=des.id if des is not None else None,
            tags=args.tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=depends_on,
                # Pools other than the system pool are AgentPool resources (see the module docstring); the
                # system pool's own later changes are made with `az aks nodepool update`, not through this list.
                ignore_changes=["agentPoolProfiles"],
                # No ARM lock: a CanNotDelete lock on the cluster also blocks deleting its node pools.
                protect=args.lock,
            ),
        )

    def _system_pool(
        self, args: AksGpuClusterArgs, subnet_id: InputStr
    ) -> containerservice.ManagedClusterAgentPoolProfileArgs:
        pool = args.system_pool
        return containerservice.ManagedClusterAgentPoolProfileArgs(
            name=pool.name,
            mode=containerservice.AgentPoolMode.SYSTEM,
            vm_size=pool.vm_size,
            count=pool.min_count,
            enable_auto_scaling=True,
            min_count=pool.min_count,
            max_count=pool.max_count,
            availability_zones=pool.availability_zones or None,
            node_taints=[SYSTEM_TAINT],
            vnet_subnet_id=subnet_id,
            enable_node_public_ip=False,
            os_type=containerservice.OSType.LINUX,
            os_sku=containerservice.OSSKU(args.os_sku),
            os_disk_type=containerservice.OSDiskType.MANAGED,
            os_disk_size_gb=128,
            max_pods=pool.max_pods,
            enable_encryption_at_host=args.encryption_at_host,
            security_profile=_NO_SSH,
            type=containerservice.AgentPoolType.VIRTUAL_MACHINE_SCALE_SETS,
        )

    def _addons(self, args: AksGpuClusterArgs) -> dict[str, containerservice.ManagedClusterAddonProfileArgs]:
        addons = {
            # Secrets Store CSI driver for Key Vault, re-reading rotated secrets every two minutes.
            "azureKeyvaultSecretsProvider": containerservice.ManagedClusterAddonProfileArgs(
                enabled=True, config={"enableSecretRotation": "true", "rotationPollInterval": "2m"}
            ),
        }
        if args.azure_policy:
            # Azure Policy for Kubernetes (Gatekeeper): the cluster's pods are audited/denied by Azure Policy
            # definitions assigned to the subscription or group (Learn, "Azure Policy for Kubernetes").
            addons["azurepolicy"] = containerservice.ManagedClusterAddonProfileArgs(enabled=True)
        if args.container_insights and args.log_analytics_workspace_id is not None:
            # Managed-identity auth (no workspace key); what to collect is in the data collection rule.
            addons["omsagent"] = containerservice.ManagedClusterAddonProfileArgs(
                enabled=True,
                config={"logAnalyticsWorkspaceResourceID": args.log_analytics_workspace_id, "useAADAuth": "true"},
            )
        return addons

    # --- user node pools and upgrades ---------------------------------------------------------------------------------

    def _user_pools(
        self, name: str, args: AksGpuClusterArgs, cluster: containerservice.ManagedCluster, subnet_id: InputStr
    ) -> list[containerservice.AgentPool]:
        """The CPU pool (if any) and the GPU pools, created one after another: AKS rejects concurrent pool writes."""
        pools: list[containerservice.AgentPool] = []
        if args.cpu_pool is not None:
            cpu = args.cpu_pool
            pools.append(
                self._agent_pool(
                    name,
                    args,
                    cluster,
                    subnet_id,
                    pool_name=cpu.name,
                    vm_size=cpu.vm_size,
                    zones=cpu.availability_zones,
                    labels={WORKLOAD_LABEL: "services"},
                    taints=[],
                    os_disk_size_gb=128,
                    autoscaling=True,
                    min_count=cpu.min_count,
                    max_count=cpu.max_count,
                    spot=False,
                    mig_profile=None,
                    max_pods=cpu.max_pods,
                    after=pools,
                )
            )
        for gpu in args.gpu_pools:
            pools.append(
                self._agent_pool(
                    name,
                    args,
                    cluster,
                    subnet_id,
                    pool_name=gpu.name,
                    vm_size=gpu.vm_size,
                    zones=gpu.availability_zones,
                    labels=gpu.node_labels,
                    taints=gpu.node_taints,
                    os_disk_size_gb=gpu.os_disk_size_gb,
                    autoscaling=gpu.autoscaling,
                    min_count=gpu.min_count,
                    max_count=gpu.max_count,
                    spot=gpu.spot,
                    mig_profile=gpu.mig_profile,
                    max_pods=gpu.max_pods,
                    after=pools,
                )
            )
        return pools

    def _agent_pool(
        self,
        name: str,
        args: AksGpuClusterArgs,
        cluster: containerservice.ManagedCluster,
        subnet_id: InputStr,
        *,
        pool_name: str,
        vm_size: str,
        zones: Sequence[str],
        labels: dict[str, str],
        taints: list[str],
        os_disk_size_gb: int,
        autoscaling: bool,
        min_count: int,
        max_count: int,
        spot: bool,
        mig_profile: str | None,
        max_pods: int,
        after: Sequence[pulumi.Resource],
    ) -> containerservice.AgentPool:
        """One user pool in the AKS subnet: no public IPs, no SSH, encryption at host, managed OS disk, autoscaled
        (the autoscaler owns the node count, so `count` stays out of diffs) or a fixed maxCount nodes; Spot with
        eviction Delete and spotMaxPrice -1 (evicted only for capacity, never pays more than on-demand), declaring
        AKS's own Spot label and taint (see SPOT_LABEL)."""
        ignored = ["count"] if autoscaling else []
        return containerservice.AgentPool(
            f"{name}-pool-{pool_name}",
            agent_pool_name=pool_name,
            resource_name_=cluster.name,
            resource_group_name=args.resource_group_name,
            mode=containerservice.AgentPoolMode.USER,
            vm_size=vm_size,
            enable_auto_scaling=autoscaling,
            count=min_count if autoscaling else max_count,
            min_count=min_count if autoscaling else None,
            max_count=max_count if autoscaling else None,
            scale_set_priority=(
                containerservice.ScaleSetPriority.SPOT if spot else containerservice.ScaleSetPriority.REGULAR
            ),
            scale_set_eviction_policy=containerservice.ScaleSetEvictionPolicy.DELETE if spot else None,
            spot_max_price=-1 if spot else None,
            gpu_instance_profile=containerservice.GPUInstanceProfile(mig_profile) if mig_profile else None,
            availability_zones=list(zones) or None,
            node_labels=labels,
            node_taints=taints or None,
            vnet_subnet_id=subnet_id,
            enable_node_public_ip=False,
            os_type=containerservice.OSType.LINUX,
            os_sku=containerservice.OSSKU(args.os_sku),
            os_disk_type=containerservice.OSDiskType.MANAGED,
            os_disk_size_gb=os_disk_size_gb,
            max_pods=max_pods,
            enable_encryption_at_host=args.encryption_at_host,
            security_profile=_NO_SSH,
            type=containerservice.AgentPoolType.VIRTUAL_MACHINE_SCALE_SETS,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(after[-1:]), ignore_changes=ignored or None),
        )

    def _maintenance(self, name: str, args: AksGpuClusterArgs, cluster: containerservice.ManagedCluster) -> None:
        window = args.maintenance_window
        schedules = []
        if args.upgrade_channel != "none":
            schedules.append(("upgrade", "aksManagedAutoUpgradeSchedule"))
        if args.node_os_upgrade_channel in ("NodeImage", "SecurityPatch"):
            schedules.append(("node-os", "aksManagedNodeOSUpgradeSchedule"))
        for key, config_name in schedules:
            containerservice.MaintenanceConfiguration(
                f"{name}-maintenance-{key}",
                config_name=config_name,
                resource_name_=cluster.name,
                resource_group_name=args.resource_group_name,
                maintenance_window=containerservice.MaintenanceWindowArgs(
                    schedule=containerservice.ScheduleArgs(
                        weekly=containerservice.WeeklyScheduleArgs(
                            day_of_week=containerservice.WeekDay(window.day_of_week), interval_weeks=1
                        )
                    ),
                    duration_hours=window.duration_hours,
                    start_time=window.start_time,
                    utc_offset=window.utc_offset,
                ),
                opts=child_opts(self),
            )

    # --- monitoring and the grants on the finished cluster ------------------------------------------------------------

    def _monitoring(self, name: str, args: AksGpuClusterArgs, cluster: containerservice.ManagedCluster) -> None:
        """Control-plane diagnostics, and Container Insights through a data collection rule."""
        diagnostic_setting(
            self,
            f"{name}-diag",
            resource_id=cluster.id,
            workspace_id=args.log_analytics_workspace_id,
            log_categories=CONTROL_PLANE_LOG_CATEGORIES,
        )
        if args.container_insights and args.log_analytics_workspace_id is not None:
            self._container_insights(name, args, cluster, args.log_analytics_workspace_id)

    def _container_insights(
        self, name: str, args: AksGpuClusterArgs, cluster: containerservice.ManagedCluster, workspace_id: InputStr
    ) -> None:
        rule = monitor.DataCollectionRule(
            f"{name}-ci-dcr",
            data_collection_rule_name=args.naming.name("data_collection_rule", "aks-ci"),
            resource_group_name=args.resource_group_name,
            location=args.location,
            kind="Linux",
            data_sources={
                "extensions": [
                    {
                        "name": "ContainerInsightsExtension",
                        "extension_name": "ContainerInsights",
                        "streams": [CONTAINER_INSIGHTS_STREAM],
                        "extension_settings": {
                            "dataCollectionSettings": {
                                "interval": "1m",
                                "namespaceFilteringMode": "Off",
                                "enableContainerLogV2": True,
                            }
                        },
                    }
                ]
            },
            destinations={"log_analytics": [{"name": "ciworkspace", "workspace_resource_id": workspace_id}]},
            data_flows=[{"streams": [CONTAINER_INSIGHTS_STREAM], "destinations": ["ciworkspace"]}],
            tags=args.tags,
            opts=child_opts(self),
        )
        monitor.DataCollectionRuleAssociation(
            f"{name}-ci-dcra",
            association_name="ContainerInsightsExtension",
            resource_uri=cluster.id,
            data_collection_rule_id=rule.id,
            opts=child_opts(self),
        )

    def _cluster_grants(
        self, name: str, args: AksGpuClusterArgs, cluster: containerservice.ManagedCluster
    ) -> pulumi.Output[str]:
        """AcrPull on the shared registry for the kubelet identity (private image pulls), and the caller's extra
        role assignments on the cluster. Returns the kubelet identity's object id."""
        kubelet_object_id = cluster.identity_profile.apply(
            lambda profile: (profile or {})["kubeletidentity"].object_id or ""
        )
        role_assignment(
            self,
            f"{name}-kubelet-acr-pull",
            naming=args.naming,
            scope=args.shared.container_registry_id,
            principal_id=kubelet_object_id,
            role="AcrPull",
        )
        extra_role_assignments(self, name, args, cluster.id)
        return kubelet_object_id

    # --- Azure ML: the extension, and the cluster attached to a workspace ---------------------------------------------

    def _azure_ml(
        self,
        name: str,
        args: AksGpuClusterArgs,
        cluster: containerservice.ManagedCluster,
        cluster_name: str,
        pools: list[containerservice.AgentPool],
    ) -> pulumi.Output[str] | None:
        """The Azure ML extension (if asked for) and the attachment to a workspace; returns the compute's id."""
        if args.azure_ml_extension is None:
            return None
        pulumi.log.warn(local_accounts_warning(cluster_name), resource=self)
        extension = self._extension(name, args, args.azure_ml_extension, cluster, pools)
        if args.aml_attachment is None:
            return None
        attachment = args.aml_attachment
        namespace = self._managed_namespace(name, args, attachment, cluster, extension)
        waits: list[pulumi.Resource] = [extension, namespace, *attachment.depends_on]
        if attachment.workspace_principal_id is not None:
            waits += self._attach_grants(name, args, cluster, attachment.workspace_principal_id)
        attached = self._attached_compute(name, args, attachment, cluster, depends_on=waits)
        if attachment.identity_id is None:
            self._compute_grants(name, args, attached)
        return attached.id

    def _extension(
        self,
        name: str,
        args: AksGpuClusterArgs,
        settings: AzureMlExtensionSettings,
        cluster: containerservice.ManagedCluster,
        pools: list[containerservice.AgentPool],
    ) -> kubernetesconfiguration.Extension:
        return kubernetesconfiguration.Extension(
            f"{name}-azureml",
            extension_name="azureml",
            cluster_name=cluster.name,
            cluster_resource_name="managedClusters",
            cluster_rp="Microsoft.ContainerService",
            resource_group_name=args.resource_group_name,
            extension_type=AZURE_ML_EXTENSION_TYPE,
            auto_upgrade_minor_version=True,
            release_train=settings.release_train,
            scope=kubernetesconfiguration.ScopeArgs(
                cluster=kubernetesconfiguration.ScopeClusterArgs(release_namespace="azureml")
            ),
            configuration_settings=azure_ml_extension_settings(
                settings,
                cluster_id=cluster.id,
                cluster_name=cluster.name,
                location=args.location,
                spot=any(p.spot for p in args.gpu_pools),
            ),
            configuration_protected_settings=(
                azure_ml_protected_settings(args.inference_tls) if args.inference_tls is not None else None
            ),
            # Its services need schedulable nodes, and AKS rejects extension installs while pools change.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=pools, additional_secret_outputs=["configurationProtectedSettings"]
            ),
        )

    def _managed_namespace(
        self,
        name: str,
        args: AksGpuClusterArgs,
        attachment: AmlAttachment,
        cluster: containerservice.ManagedCluster,
        extension: kubernetesconfiguration.Extension,
    ) -> containerservice.ManagedNamespace:
        """The attach neither creates nor checks its namespace; jobs sent to a missing one fail (Learn, "Attach a
        Kubernetes cluster to Azure Machine Learning workspace"). An AKS managed namespace (ARM resource, GA in API
        2025-09-01; Learn, "Use managed namespaces in AKS") creates it with the cluster's Azure RBAC. Ingress from
        other namespaces stays open because the azureml-fe router (namespace `azureml`) forwards inference requests
        to deployments here; the managed default would be same-namespace only."""
        return containerservice.ManagedNamespace(
            f"{name}-ns-{attachment.namespace}",
            managed_namespace_name=attachment.namespace,
            resource_name_=cluster.name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            properties=containerservice.NamespacePropertiesArgs(
                adoption_policy=containerservice.AdoptionPolicy.IF_IDENTICAL,
                delete_policy=containerservice.DeletePolicy.KEEP,
                default_network_policy=containerservice.NetworkPoliciesArgs(
                    ingress=containerservice.PolicyRule.ALLOW_ALL, egress=containerservice.PolicyRule.ALLOW_ALL
                ),
                labels={"app.kubernetes.io/managed-by": "aiinfra", "azureml.workloads": "true"},
            ),
            tags=args.tags,
            opts=child_opts(self, depends_on=[extension]),
        )

    def _attach_grants(
        self,
        name: str,
        args: AksGpuClusterArgs,
        cluster: containerservice.ManagedCluster,
        workspace_principal_id: InputStr,
    ) -> list[pulumi.Resource]:
        """The workspace's user-assigned identity acts on the cluster during the attach: grant ATTACH_ROLES first.
        Azure ML uses them the moment the attach starts ("extension not installed" / "internal server error" when
        they are missing; Learn, "Attach a Kubernetes cluster to Azure Machine Learning workspace"), and new role
        assignments take minutes to take effect (Learn, "Troubleshoot Azure RBAC"): the attach waits for them and
        for a sleep after them."""
        grants: list[pulumi.Resource] = []
        for role in ATTACH_ROLES:
            slug = re.sub(r"[^a-z0-9]+", "-", role.lower()).strip("-")
            grants.append(
                role_assignment(
                    self,
                    f"{name}-mlw-{slug}",
                    naming=args.naming,
                    scope=cluster.id,
                    principal_id=workspace_principal_id,
                    role=role,
                )
            )
        wait = rbac_wait(self, f"{name}-attach-rbac-wait", grants)
        return [*grants, wait]

    def _attached_compute(
        self,
        name: str,
        args: AksGpuClusterArgs,
        attachment: AmlAttachment,
        cluster: containerservice.ManagedCluster,
        *,
        depends_on: list[pulumi.Resource],
    ) -> machinelearningservices.Compute:
        if attachment.identity_id is not None:
            identity = machinelearningservices.ManagedServiceIdentityArgs(
                type=machinelearningservices.ManagedServiceIdentityType.USER_ASSIGNED,
                user_assigned_identities=[attachment.identity_id],
            )
        else:
            identity = machinelearningservices.ManagedServiceIdentityArgs(
                type=machinelearningservices.ManagedServiceIdentityType.SYSTEM_ASSIGNED
            )
        location = attachment.workspace_location or args.location
        return machinelearningservices.Compute(
            f"{name}-aml-compute",
            compute_name=attachment.compute_name,
            workspace_name=attachment.workspace_name,
            resource_group_name=attachment.workspace_resource_group_name,
            location=location,
            identity=identity,
            properties=machinelearningservices.KubernetesArgs(
                compute_type="Kubernetes",
                resource_id=cluster.id,
                compute_location=location,
                description="AKS GPU cluster attached by aiinfra",
                # Azure AD only, like every other AML compute of ours.
                disable_local_auth=True,
                properties=machinelearningservices.KubernetesPropertiesArgs(
                    namespace=attachment.namespace,
                    extension_instance_release_train=args.azure_ml_extension.release_train
                    if args.azure_ml_extension
                    else None,
                    instance_types={pool.name: instance_type(pool) for pool in args.gpu_pools},
                ),
            ),
            tags=args.tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=depends_on,
                # An attached compute is not updated in place (the Compute API's update takes only scale
                # settings; Azure ML's guidance is detach and attach again): a change of its properties (instance
                # types, namespace, cluster) replaces it, and the fixed compute name means delete first.
                replace_on_changes=["properties"],
                delete_before_replace=True,
            ),
        )

    def _compute_grants(self, name: str, args: AksGpuClusterArgs, attached: machinelearningservices.Compute) -> None:
        """A system-assigned compute identity pulls images from the shared registry and reads and writes the shared
        storage."""
        principal = attached.identity.apply(lambda i: (i.principal_id if i else None) or "")
        role_assignment(
            self,
            f"{name}-aml-compute-acr-pull",
            naming=args.naming,
            scope=args.shared.container_registry_id,
            principal_id=principal,
            role="AcrPull",
        )
        role_assignment(
            self,
            f"{name}-aml-compute-blob",
            naming=args.naming,
            scope=args.shared.storage_account_id,
            principal_id=principal,
            role="Storage Blob Data Contributor",
        )


def _disk_encryption_key(args: AksGpuClusterArgs) -> CustomerManagedKey | None:
    """The key node disks are encrypted with, or None; fails before anything is registered when a Disk Encryption
    Set could not use it."""
    cmk = args.shared.cmk if args.customer_managed_key else None
    if cmk is not None and cmk.key_version_url is None:
        raise ComponentArgsError(
            "AksGpuClusterArgs.shared.cmk.key_version_url is required for disk encryption: "
            "a Disk Encryption Set needs the versioned key URL (or set "
            "customer_managed_key false)"
        )
    return cmk


def _network_profile(args: AksGpuClusterSettings) -> containerservice.ContainerServiceNetworkProfileArgs:
    """Azure CNI overlay with a network policy engine (Cilium also as the dataplane) and the chosen egress."""
    return containerservice.ContainerServiceNetworkProfileArgs(
        network_plugin=containerservice.NetworkPlugin.AZURE,
        network_plugin_mode=containerservice.NetworkPluginMode.OVERLAY,
        network_dataplane=(
            containerservice.NetworkDataplane.CILIUM
            if args.network_policy == "cilium"
            else containerservice.NetworkDataplane.AZURE
        ),
        network_policy=containerservice.NetworkPolicy(args.network_policy),
        pod_cidr=args.pod_cidr,
        service_cidr=args.service_cidr,
        dns_service_ip=args.dns_service_ip,
        outbound_type=containerservice.OutboundType(args.outbound_type),
        load_balancer_sku="standard",
    )


def _security_profile(args: AksGpuClusterArgs) -> containerservice.ManagedClusterSecurityProfileArgs:
    """Workload identity, the Defender sensor and the image cleaner."""
    return containerservice.ManagedClusterSecurityProfileArgs(
        workload_identity=containerservice.ManagedClusterSecurityProfileWorkloadIdentityArgs(enabled=True),
        # Defender for Containers sensor (Learn, "Enable Defender for Containers on AKS"; AVM managed-cluster's
        # securityProfile.defender), reporting to the environment's workspace.
        defender=containerservice.ManagedClusterSecurityProfileDefenderArgs(
            log_analytics_workspace_resource_id=args.log_analytics_workspace_id,
            security_monitoring=containerservice.ManagedClusterSecurityProfileDefenderSecurityMonitoringArgs(
                enabled=True
            ),
        )
        if args.defender
        else None,
        # GPU framework images are tens of GB: remove unused ones from nodes.
        image_cleaner=containerservice.ManagedClusterSecurityProfileImageCleanerArgs(enabled=True, interval_hours=48),
    )


__all__ = [
    "AksGpuCluster",
    "AksGpuClusterArgs",
    "AksGpuClusterSettings",
    "AmlAttachment",
    "AmlAttachmentSettings",
    "AzureMlExtensionSettings",
    "CpuNodePool",
    "InferenceTls",
    "GpuNodePool",
    "MaintenanceWindow",
    "azure_ml_extension_settings",
    "azure_ml_protected_settings",
    "instance_type",
    "local_accounts_warning",
]
