"""aiinfra components: Pulumi ComponentResources for secure, cost-governed Azure AI/GPU infrastructure.

Use them from any Pulumi Python program (`pip install` this repository or its wheel):

    from components import NamingConvention, SharedServices, SharedServicesArgs

Every component takes one args model (strict pydantic: unknown or invalid fields raise `ComponentArgsError`
naming the field, before any resource is registered) and exposes its outputs as typed attributes. Components
that build on the shared network and vault take a `SharedServicesRef`: `SharedServices.ref`, or one you build
by hand for a network you already have. Each module is documented in docs/components/<module>.md.
"""

from aiinfra.catalog.gpu_skus import CATALOGUE as GPU_SKUS
from aiinfra.catalog.gpu_skus import GpuSku, GpuVmSize, UnknownGpuSkuError
from aiinfra.catalog.gpu_skus import lookup as lookup_gpu_sku

from ._base import ArgsModel, ComponentArgsError, InputStr
from ._compute_instance import ComputeInstanceSchedule, ComputeInstanceSettings
from ._datastore import DatastoreSettings
from .ai_services import (
    AiConsumer,
    AiServices,
    AiServicesArgs,
    AiServicesSettings,
    AiWorkspaceConnection,
    ContentFilter,
    ModelDeployment,
)
from .aks_gpu_cluster import (
    AksGpuCluster,
    AksGpuClusterArgs,
    AksGpuClusterSettings,
    AmlAttachment,
    AmlAttachmentSettings,
    AzureMlExtensionSettings,
    CpuNodePool,
    GpuNodePool,
    MaintenanceWindow,
)
from .batch_autoscale import AutoscaleSettings, autoscale_formula
from .batch_gpu_pool import BatchGpuPool, BatchGpuPoolArgs, BatchGpuPoolSettings
from .container_apps_gpu import (
    ContainerAppsGpu,
    ContainerAppsGpuArgs,
    ContainerAppsGpuSettings,
    GpuAppSettings,
    GpuWorkloadProfile,
    KeyVaultSecret,
    QueueTrigger,
)
from .deployer_identity import (
    AzurePipelinesFederation,
    DeployerIdentity,
    DeployerIdentityArgs,
    DeployerIdentitySettings,
    GitHubFederation,
)
from .gpu_compute_pool import GpuComputePool, GpuComputePoolArgs, GpuComputePoolSettings
from .interfaces import BUILTIN_ROLES, CommonArgs, CustomerManagedKey, RoleAssignmentSpec
from .naming import NamingConvention, NamingError
from .network_plan import AddressPlanError
from .platform_monitoring import (
    AlertSetting,
    AlertSettings,
    CostAnomalyAlert,
    CostAnomalyAlertArgs,
    MonitoredAksCluster,
    MonitoredBatchPool,
    MonitoredContainerApp,
    MonitoredWorkspace,
    PlatformAlerts,
    PlatformAlertsArgs,
    PlatformMonitoring,
    PlatformMonitoringArgs,
    PlatformMonitoringSettings,
)
from .policy_guardrails import BUILT_IN_POLICIES, PolicyGuardrails, PolicyGuardrailsArgs, PolicyGuardrailsSettings
from .secure_workspace import (
    ImageBuildCluster,
    OutboundRule,
    SecureWorkspace,
    SecureWorkspaceArgs,
    SecureWorkspaceRef,
    SecureWorkspaceSettings,
    WorkspaceAccess,
)
from .shared_services import (
    BudgetSettings,
    LifecycleRules,
    SharedServices,
    SharedServicesArgs,
    SharedServicesRef,
    SharedServicesSettings,
)

__all__ = [
    # base
    "ArgsModel",
    "ComponentArgsError",
    "InputStr",
    # cross-cutting interface
    "BUILTIN_ROLES",
    "CommonArgs",
    "CustomerManagedKey",
    "RoleAssignmentSpec",
    # naming, address plan, GPU catalogue
    "NamingConvention",
    "NamingError",
    "AddressPlanError",
    "GPU_SKUS",
    "GpuSku",
    "GpuVmSize",
    "UnknownGpuSkuError",
    "lookup_gpu_sku",
    # components
    "SharedServices",
    "SharedServicesArgs",
    "SharedServicesSettings",
    "SharedServicesRef",
    "LifecycleRules",
    "BudgetSettings",
    "SecureWorkspace",
    "SecureWorkspaceArgs",
    "SecureWorkspaceSettings",
    "SecureWorkspaceRef",
    "OutboundRule",
    "ImageBuildCluster",
    "WorkspaceAccess",
    "GpuComputePool",
    "GpuComputePoolArgs",
    "GpuComputePoolSettings",
    "DeployerIdentity",
    "DeployerIdentityArgs",
    "DeployerIdentitySettings",
    "GitHubFederation",
    "AzurePipelinesFederation",
    "AksGpuCluster",
    "AksGpuClusterArgs",
    "AksGpuClusterSettings",
    "CpuNodePool",
    "GpuNodePool",
    "MaintenanceWindow",
    "AzureMlExtensionSettings",
    "AmlAttachment",
    "AmlAttachmentSettings",
    "BatchGpuPool",
    "BatchGpuPoolArgs",
    "BatchGpuPoolSettings",
    "AutoscaleSettings",
    "autoscale_formula",
    "ContainerAppsGpu",
    "ContainerAppsGpuArgs",
    "ContainerAppsGpuSettings",
    "GpuAppSettings",
    "GpuWorkloadProfile",
    "KeyVaultSecret",
    "QueueTrigger",
    # operations (issue 20)
    "ComputeInstanceSchedule",
    "ComputeInstanceSettings",
    "DatastoreSettings",
    "PlatformMonitoring",
    "PlatformMonitoringArgs",
    "PlatformMonitoringSettings",
    "PlatformAlerts",
    "PlatformAlertsArgs",
    "AlertSetting",
    "AlertSettings",
    "MonitoredWorkspace",
    "MonitoredBatchPool",
    "MonitoredContainerApp",
    "MonitoredAksCluster",
    "CostAnomalyAlert",
    "CostAnomalyAlertArgs",
    "PolicyGuardrails",
    "PolicyGuardrailsArgs",
    "PolicyGuardrailsSettings",
    "BUILT_IN_POLICIES",
    "AiServices",
    "AiServicesArgs",
    "AiServicesSettings",
    "AiConsumer",
    "AiWorkspaceConnection",
    "ContentFilter",
    "ModelDeployment",
]
