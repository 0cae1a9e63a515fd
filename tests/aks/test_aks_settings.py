"""AksGpuCluster's settings as plain logic: what a bad value says, and the derived taints, labels, settings."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from typing import Any, cast

import pulumi
import pytest
from helpers import fake_shared_ref

from aiinfra.components._base import ComponentArgsError
from aiinfra.components.aks_gpu_cluster import (
    GPU_TAINT,
    SPOT_TAINT,
    AksGpuClusterArgs,
    AksGpuClusterSettings,
    AmlAttachment,
    AzureMlExtensionSettings,
    CpuNodePool,
    GpuNodePool,
    InferenceTls,
    azure_ml_extension_settings,
    azure_ml_protected_settings,
    instance_type,
)
from aiinfra.components.naming import NamingConvention
from aiinfra.components.shared_services import SharedServicesRef

ADMINS = ["5b6f0c1e-0d8a-4a51-9a57-3c2f8e1b7d44"]


def _naming() -> NamingConvention:
    return NamingConvention(prefix="acme", environment="dev", location="eastus")


def _shared() -> SharedServicesRef:
    zone = "privatelink.eastus.azmk8s.io"
    return fake_shared_ref("eastus", aks_subnet_id="/aks", private_dns_zone_ids={zone: f"/zones/{zone}"})


def settings(**kwargs: Any) -> AksGpuClusterSettings:
    return AksGpuClusterSettings(admin_group_object_ids=ADMINS, **kwargs)


def error(build: Callable[[], object]) -> str:
    with pytest.raises(ComponentArgsError) as caught:
        build()
    return str(caught.value)


# --- GPU pools -----------------------------------------------------------------------------------------------


def test_retired_gpu_size_is_rejected_with_the_date_and_the_alternatives():
    message = error(lambda: GpuNodePool(name="gpu", vm_size="Standard_NC6s_v3", max_count=2))
    assert "vm_size: 'Standard_NC6s_v3' was retired by Azure on 2025-09-30" in message
    assert "Standard_NC24ads_A100_v4" in message


def test_unknown_gpu_size_is_rejected():
    assert "is not a supported GPU VM size" in error(
        lambda: GpuNodePool(name="gpu", vm_size="Standard_D4s_v5", max_count=2)
    )


def test_min_above_max_is_rejected_naming_both_fields():
    assert "minCount (3) must be <= maxCount (2)" in error(
        lambda: GpuNodePool(name="gpu", vm_size="Standard_NC4as_T4_v3", min_count=3, max_count=2)
    )


def test_max_zero_is_rejected_on_the_field():
    assert "max_count: must be greater than 0, got 0" in error(
        lambda: GpuNodePool(name="gpu", vm_size="Standard_NC4as_T4_v3", max_count=0)
    )


def test_spot_needs_autoscaling():
    assert "spot: Spot pools need autoscaling" in error(
        lambda: GpuNodePool(name="gpu", vm_size="Standard_NC4as_T4_v3", max_count=2, spot=True, autoscaling=False)
    )


def test_inference_pools_are_not_spot_unless_config_says_so_explicitly():
    assert "spot: inference pools run on Regular capacity" in error(
        lambda: GpuNodePool(name="infer", vm_size="Standard_NC4as_T4_v3", role="inference", max_count=2, spot=True)
    )
    opted_in = GpuNodePool(
        name="infer",
        vm_size="Standard_NC4as_T4_v3",
        role="inference",
        max_count=2,
        spot=True,
        allow_spot_for_inference=True,
    )
    assert opted_in.spot is True
    assert "allowSpotForInference only applies to pools with role 'inference'" in error(
        lambda: GpuNodePool(name="train", vm_size="Standard_NC4as_T4_v3", max_count=2, allow_spot_for_inference=True)
    )


def test_mig_only_where_the_gpu_supports_it():
    assert "migProfile: Standard_NC4as_T4_v3 (NVIDIA T4) does not support Multi-Instance GPU" in error(
        lambda: GpuNodePool(name="gpu", vm_size="Standard_NC4as_T4_v3", max_count=2, mig_profile="MIG1g")
    )
    pool = GpuNodePool(name="gpu", vm_size="Standard_NC24ads_A100_v4", max_count=2, mig_profile="MIG1g")
    assert pool.mig_profile == "MIG1g"


def test_pool_names_follow_aks_rules():
    assert "not a valid AKS node pool name" in error(
        lambda: GpuNodePool(name="GPU-Train", vm_size="Standard_NC4as_T4_v3", max_count=2)
    )
    assert "not a valid AKS node pool name" in error(
        lambda: GpuNodePool(name="averyveryverylongname", vm_size="Standard_NC4as_T4_v3", max_count=2)
    )


def test_the_workload_label_is_owned_by_the_role():
    assert "label 'workload' is set by aiinfra or AKS" in error(
        lambda: GpuNodePool(name="gpu", vm_size="Standard_NC4as_T4_v3", max_count=2, labels={"workload": "x"})
    )


def test_gpu_pools_default_to_zero_nodes_and_carry_taint_and_labels():
    training = GpuNodePool(name="train", vm_size="standard_nc4as_t4_v3", max_count=2, labels={"team": "vision"})
    assert training.vm_size == "Standard_NC4as_T4_v3"  # Azure's spelling
    assert training.min_count == 0
    assert training.node_taints == [GPU_TAINT]
    assert training.node_labels == {"team": "vision", "workload": "gpu-training"}
    spot = GpuNodePool(name="spot", vm_size="Standard_NC4as_T4_v3", max_count=2, spot=True)
    # AKS adds the Spot taint itself; declaring it keeps the API's answer equal to the input.
    assert spot.node_taints == [GPU_TAINT, SPOT_TAINT]
    # ... and its label (a label update without it strips it from the nodes, Azure/AKS#3152).
    assert spot.node_labels == {"workload": "gpu-training", "kubernetes.azure.com/scalesetpriority": "spot"}
    inference = GpuNodePool(name="infer", vm_size="Standard_NC4as_T4_v3", role="inference", max_count=2)
    assert inference.node_labels == {"workload": "gpu-inference"}


def test_cpu_pools_refuse_gpu_sizes():
    assert "is a GPU size; put GPU nodes in gpuPools" in error(lambda: CpuNodePool(vm_size="Standard_NC4as_T4_v3"))


# --- the cluster ---------------------------------------------------------------------------------------------


def test_admin_groups_are_required_and_must_be_object_ids():
    # deliberately without the required argument: the runtime error is what is tested
    assert "adminGroupObjectIds: required key is missing" in error(
        lambda: AksGpuClusterSettings()  # pyright: ignore[reportCallIssue]
    )
    assert "'ml-admins' is not an Azure AD object id" in error(
        lambda: AksGpuClusterSettings(admin_group_object_ids=["ml-admins"])
    )


def test_pool_names_must_be_unique_across_the_cluster():
    message = error(
        lambda: settings(
            cpu_pool=CpuNodePool(name="gpu"),
            gpu_pools=[GpuNodePool(name="gpu", vm_size="Standard_NC4as_T4_v3", max_count=1)],
        )
    )
    assert "node pool names must be unique; repeated: gpu" in message


def test_system_pool_keeps_at_least_one_node():
    assert "systemPool.minCount must be at least 1" in error(
        lambda: settings(system_pool=CpuNodePool(name="system", min_count=0))
    )


def test_pod_and_service_ranges_are_private_and_disjoint():
    assert "podCidr (10.0.0.0/16) and serviceCidr (10.0.0.0/20) overlap" in error(
        lambda: settings(pod_cidr="10.0.0.0/16", service_cidr="10.0.0.0/20")
    )
    assert "'8.8.0.0/16' must be a private IPv4 range" in error(lambda: settings(pod_cidr="8.8.0.0/16"))
    assert settings(service_cidr="172.20.0.0/16").dns_service_ip == "172.20.0.10"


def test_local_accounts_follow_the_extension_unless_set():
    assert settings().local_accounts_disabled is True
    with_ml = settings(cpu_pool=CpuNodePool(), azure_ml_extension=AzureMlExtensionSettings())
    assert with_ml.local_accounts_disabled is False
    assert settings(disable_local_accounts=False).local_accounts_disabled is False


def test_extension_with_local_accounts_disabled_is_an_error():
    message = error(
        lambda: settings(
            cpu_pool=CpuNodePool(), azure_ml_extension=AzureMlExtensionSettings(), disable_local_accounts=True
        )
    )
    assert "disableLocalAccounts: Azure ML does not support AKS with local accounts disabled" in message


def test_extension_needs_an_untainted_cpu_pool():
    assert "azureMlExtension needs cpuPool" in error(lambda: settings(azure_ml_extension=AzureMlExtensionSettings()))


# --- the Azure ML extension ----------------------------------------------------------------------------------


def test_extension_needs_training_or_inference():
    assert "enable at least one of enableTraining and enableInference" in error(
        lambda: AzureMlExtensionSettings(enable_training=False)
    )


def test_https_inference_needs_a_host_name_and_never_names_a_kubernetes_secret():
    message = error(lambda: AzureMlExtensionSettings(enable_inference=True))
    assert "inference over HTTPS needs sslCname" in message
    assert AzureMlExtensionSettings(enable_inference=True, allow_insecure_connections=True).enable_inference
    # A Kubernetes secret cannot exist in a cluster the same deployment creates: the setting is gone.
    assert "ssl_secret_name: unknown key" in error(
        lambda: AzureMlExtensionSettings(ssl_secret_name="fe-tls")  # pyright: ignore[reportCallIssue]  # removed arg
    )


def test_extension_settings_training_only():
    values = azure_ml_extension_settings(
        AzureMlExtensionSettings(), cluster_id="/id", cluster_name="aks", location="westus3", spot=False
    )
    assert values["enableTraining"] == "true" and values["enableInference"] == "false"
    assert not any(k.startswith(("inferenceRouter", "scoringFe", "internalLoadBalancer")) for k in values)
    # What the CLI would have derived before calling ARM.
    assert values["relayserver.enabled"] == "false" and values["servicebus.enabled"] == "false"
    assert values["cluster_name"] == values["clusterId"] == "/id"
    assert values["location"] == values["jobSchedulerLocation"] == "westus3"
    assert values["installNvidiaDevicePlugin"] == "true"
    for prefix in ("toleration", "workLoadToleration"):  # the extension's DaemonSets, and Azure ML's pods
        assert values[f"{prefix}[0].key"] == "sku" and values[f"{prefix}[0].value"] == "gpu"
        assert values[f"{prefix}[0].effect"] == "NoSchedule"
        assert f"{prefix}[1].key" not in values


def test_extension_settings_inference_on_an_internal_load_balancer_with_tls():
    values = azure_ml_extension_settings(
        AzureMlExtensionSettings(enable_inference=True, ssl_cname="ml.contoso.internal"),
        cluster_id="/id",
        cluster_name="aks",
        location="westus3",
        spot=True,
    )
    assert values["inferenceRouterServiceType"] == "loadBalancer"
    assert values["internalLoadBalancerProvider"] == "azure"
    assert values["scoringFe.serviceType.internalLoadBalancer"] == "true"
    assert values["allowInsecureConnections"] == "false"
    assert not any("sslSecret" in key or "sslCert" in key or "sslKey" in key for key in values)
    assert values["sslCname"] == "ml.contoso.internal"
    assert values["workLoadToleration[1].key"] == values["toleration[1].key"] == "kubernetes.azure.com/scalesetpriority"
    assert all(isinstance(v, str) for v in values.values())


def _cluster_args(
    azure_ml_extension: AzureMlExtensionSettings | None = None,
    inference_tls: InferenceTls | None = None,
    log_analytics_workspace_id: str | None = "/law",
) -> AksGpuClusterArgs:
    return AksGpuClusterArgs(
        naming=_naming(),
        resource_group_name="rg",
        shared=_shared(),
        admin_group_object_ids=ADMINS,
        log_analytics_workspace_id=log_analytics_workspace_id,
        cpu_pool=CpuNodePool(name="services"),
        azure_ml_extension=azure_ml_extension,
        inference_tls=inference_tls,
    )


def test_https_inference_needs_the_certificate_and_key_and_nothing_else_takes_them():
    https = AzureMlExtensionSettings(enable_inference=True, ssl_cname="ml.contoso.internal")
    assert "inference_tls is required for HTTPS inference" in error(lambda: _cluster_args(https))
    tls = InferenceTls(certificate_pem="cert", key_pem="key")
    assert "inference_tls is only used for HTTPS inference" in error(
        lambda: _cluster_args(AzureMlExtensionSettings(), inference_tls=tls)
    )
    assert _cluster_args(https, inference_tls=tls).inference_tls is tls
    assert "defender needs log_analytics_workspace_id" in error(lambda: _cluster_args(log_analytics_workspace_id=None))


def test_attachment_to_a_managed_network_workspace_is_refused():
    message = error(
        lambda: AmlAttachment(workspace_name="w", workspace_resource_group_name="rg", workspace_managed_network=True)
    )
    assert "Kubernetes compute is not supported in an Azure ML managed virtual network" in message
    assert "isolation mode Disabled" in message


def test_gpu_pools_need_a_device_plugin():
    pools = [GpuNodePool(name="gpu", vm_size="Standard_NC4as_T4_v3", max_count=1)]
    assert "gpuPools need a GPU device plugin" in error(lambda: settings(gpu_pools=pools))
    assert "gpuPools need a GPU device plugin" in error(
        lambda: settings(
            gpu_pools=pools,
            cpu_pool=CpuNodePool(name="services"),
            azure_ml_extension=AzureMlExtensionSettings(install_nvidia_device_plugin=False),
        )
    )
    assert settings(gpu_pools=pools, self_managed_gpu_device_plugin=True).gpu_pools == pools
    assert (
        settings(
            gpu_pools=pools, cpu_pool=CpuNodePool(name="services"), azure_ml_extension=AzureMlExtensionSettings()
        ).gpu_pools
        == pools
    )


def test_zonal_system_pool_keeps_a_node_per_zone():
    message = error(
        lambda: settings(
            system_pool=CpuNodePool(name="system", min_count=2, max_count=4, availability_zones=["1", "2", "3"])
        )
    )
    assert "systemPool.minCount (2) must be at least the number of availabilityZones (3)" in message


def test_instance_type_takes_a_whole_node_or_one_mig_slice_with_its_share():
    def limits(pool: GpuNodePool) -> dict:
        schema = instance_type(pool)
        assert schema.node_selector == {"agentpool": pool.name}
        resources = cast(Any, schema.resources)
        assert resources.requests == {k: v for k, v in resources.limits.items() if k != "nvidia.com/gpu"}
        return cast(dict, resources.limits)

    whole = limits(GpuNodePool(name="a100", vm_size="Standard_NC48ads_A100_v4", max_count=2))
    assert whole == {"cpu": "36", "memory": "330Gi", "nvidia.com/gpu": "2"}
    # NC24ads A100 v4: 24 vCPUs, 220 GiB, one A100 cut into two 3g slices -> each pod asks for half of 3/4 of it.
    mig3 = limits(GpuNodePool(name="mig", vm_size="Standard_NC24ads_A100_v4", max_count=2, mig_profile="MIG3g"))
    assert mig3 == {"cpu": "9", "memory": "82Gi", "nvidia.com/gpu": "1"}
    # Seven 1g slices per GPU, two GPUs: fourteen pods per node.
    mig1 = limits(GpuNodePool(name="mig1", vm_size="Standard_NC48ads_A100_v4", max_count=2, mig_profile="MIG1g"))
    assert mig1 == {"cpu": "2", "memory": "23Gi", "nvidia.com/gpu": "1"}
    fourteen = GpuNodePool(name="mig1", vm_size="Standard_NC48ads_A100_v4", max_count=2, mig_profile="MIG1g")
    assert fourteen.pods_per_node == 14


def test_protected_settings_are_base64_pem_and_secret_whatever_the_caller_passes():
    tls = InferenceTls(
        certificate_pem="-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        key_pem="-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
    )

    async def resolve() -> dict[str, tuple[str, bool]]:
        settings = azure_ml_protected_settings(tls)
        found = {}
        for key, value in settings.items():
            output = cast(pulumi.Output[str], value)
            found[key] = (await output.future(), await output._is_secret)  # noqa: SLF001 - no public accessor
        return found

    found = asyncio.run(resolve())
    assert set(found) == {"scoringFe.sslCert", "scoringFe.sslKey"}
    assert base64.b64decode(found["scoringFe.sslCert"][0]).decode() == tls.certificate_pem
    assert base64.b64decode(found["scoringFe.sslKey"][0]).decode() == tls.key_pem
    assert found["scoringFe.sslCert"][1] is True and found["scoringFe.sslKey"][1] is True


def test_a_cluster_outside_the_shared_services_region_is_refused_naming_both_regions():
    """Learn, "Create a private AKS cluster": the private DNS zone must be privatelink.<cluster region>.azmk8s.io."""
    elsewhere = NamingConvention(prefix="acme", environment="dev", location="westeurope")
    message = error(
        lambda: AksGpuClusterArgs(
            naming=elsewhere,
            resource_group_name="rg",
            shared=_shared(),
            admin_group_object_ids=ADMINS,
            log_analytics_workspace_id="/law",
        )
    )
    assert "'westeurope' differs from shared.naming.location 'eastus'" in message
    assert "privatelink.eastus.azmk8s.io" in message
    assert _cluster_args().naming.location == "eastus"
