"""Errors in the `aks` section of stack config name the stack file and the key path as written in YAML."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from stacks.config import ConfigError, parse_platform_config

REPO = Path(__file__).resolve().parents[2]
DEV = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())["config"]["aiinfra:platform"]


def problem(mutate) -> str:
    raw = copy.deepcopy(DEV)
    raw["aks"]["attach"] = {"workspace": "aksml", "computeName": "aks-t4"}
    mutate(raw)
    with pytest.raises(ConfigError) as caught:
        parse_platform_config(raw, "Pulumi.dev.yaml")
    message = str(caught.value)
    assert message.startswith("Pulumi.dev.yaml: invalid stack config:")
    return message


def pool(raw: dict) -> dict:
    return raw["aks"]["gpuPools"][0]


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (
            lambda r: pool(r).update(vmSize="Standard_NC6s_v3"),
            "aiinfra:platform.aks.gpuPools[0].vmSize: 'Standard_NC6s_v3' was retired by Azure on 2025-09-30",
        ),
        (
            lambda r: pool(r).update(minCount=3),
            "aiinfra:platform.aks.gpuPools[0]: minCount (3) must be <= maxCount (2)",
        ),
        (lambda r: pool(r).update(maxCount=0), "aiinfra:platform.aks.gpuPools[0].maxCount: must be greater than 0"),
        (
            lambda r: pool(r).update(role="inference"),
            "aiinfra:platform.aks.gpuPools[0]: spot: inference pools run on Regular capacity",
        ),
        (
            lambda r: pool(r).update(autoscaling=False),
            "aiinfra:platform.aks.gpuPools[0]: spot: Spot pools need autoscaling",
        ),
        (
            lambda r: pool(r).update(migProfile="MIG1g"),
            "aiinfra:platform.aks.gpuPools[0]: migProfile: Standard_NC4as_T4_v3 (NVIDIA T4) does not support",
        ),
        (lambda r: pool(r).update(spotPrice=1), "aiinfra:platform.aks.gpuPools[0].spotPrice: unknown key"),
        (
            lambda r: r["aks"].update(disableLocalAccounts=True),
            "aiinfra:platform.aks: disableLocalAccounts: Azure ML does not support AKS with local accounts disabled",
        ),
        (lambda r: r["aks"].pop("cpuPool"), "aiinfra:platform.aks: azureMlExtension needs cpuPool"),
        (
            lambda r: (r["aks"].pop("azureMlExtension"), r["aks"].update(selfManagedGpuDevicePlugin=True)),
            "aiinfra:platform.aks: attach needs azureMlExtension",
        ),
        (
            lambda r: r["aks"]["attach"].update(workspace="nlp"),
            "aiinfra:platform: aks.attach.workspace: no workspace named 'nlp'; workspaces: research, vision, aksml",
        ),
        # Learn, managed network limitations: Kubernetes compute is not supported in a managed virtual network.
        (
            lambda r: r["aks"]["attach"].update(workspace="research"),
            "aiinfra:platform: aks.attach.workspace: workspace 'research' has a managed network (workspaces[0]."
            "isolationMode AllowInternetOutbound), and Azure ML does not support Kubernetes compute in a managed virtual "
            "network; attach the cluster to a workspace with isolationMode Disabled",
        ),
        # GPU nodes advertise no nvidia.com/gpu without a device plugin.
        (
            lambda r: (r["aks"].pop("attach"), r["aks"].pop("azureMlExtension")),
            "aiinfra:platform.aks: gpuPools need a GPU device plugin",
        ),
        (
            lambda r: r["aks"]["azureMlExtension"].update(installNvidiaDevicePlugin=False),
            "aiinfra:platform.aks: gpuPools need a GPU device plugin",
        ),
        (
            lambda r: r["aks"]["systemPool"].update(availabilityZones=["1", "2", "3"], minCount=2, maxCount=3),
            "aiinfra:platform.aks: systemPool.minCount (2) must be at least the number of availabilityZones (3)",
        ),
        (
            lambda r: r["aks"]["attach"].update(namespace="default"),
            "aiinfra:platform.aks.attach.namespace: 'default' is a namespace Kubernetes, AKS or the Azure ML extension owns",
        ),
        (
            lambda r: r["aks"]["gpuPools"][0].update(maxPods=500),
            "aiinfra:platform.aks.gpuPools[0].maxPods: Input should be less than or equal to 250",
        ),
        (
            lambda r: r["aks"]["azureMlExtension"].update(enableInference=True),
            "aiinfra:platform.aks.azureMlExtension: inference over HTTPS needs sslCname",
        ),
        (
            lambda r: r["aks"]["azureMlExtension"].update(sslSecretName="azureml-fe-tls"),
            "aiinfra:platform.aks.azureMlExtension.sslSecretName: unknown key",
        ),
        (
            lambda r: r["aks"].update(podCidr="10.10.128.0/17"),
            "aiinfra:platform: aks.podCidr (10.10.128.0/17) overlaps shared.addressSpace (10.10.0.0/16)",
        ),
        (
            lambda r: r["shared"].update(natGateway=False),
            "aiinfra:platform: aks.outboundType: userAssignedNATGateway needs the NAT gateway on the AKS subnet",
        ),
        (
            lambda r: r["aks"].update(skuTier="Gold"),
            "aiinfra:platform.aks.skuTier: Input should be 'Free', 'Standard' or 'Premium'",
        ),
    ],
)
def test_aks_config_errors_name_the_yaml_path(mutate, expected):
    assert expected in problem(mutate)


def test_dev_config_is_valid_with_and_without_attach():
    raw = copy.deepcopy(DEV)
    config = parse_platform_config(raw, "Pulumi.dev.yaml")
    assert config.aks is not None and config.aks.attach is not None
    assert (config.aks.attach.workspace, config.aks.attach.compute_name) == ("aksml", "aks-gpu")
    assert [p.name for p in config.aks.gpu_pools] == ["t4spot"]
    del raw["aks"]["attach"]
    without = parse_platform_config(raw, "Pulumi.dev.yaml").aks
    assert without is not None and without.attach is None
    raw["workspaces"].append({"name": "serving", "isolationMode": "Disabled"})
    raw["aks"]["attach"] = {"workspace": "serving"}
    aks = parse_platform_config(raw, "Pulumi.dev.yaml").aks
    assert aks is not None
    attach = aks.attach
    assert attach is not None and (attach.workspace, attach.compute_name) == ("serving", "aks-gpu")


def test_every_stack_attaches_to_a_workspace_without_a_managed_network(repo):
    for env in ("dev", "test", "prd"):
        raw = yaml.safe_load((repo / f"Pulumi.{env}.yaml").read_text())["config"]["aiinfra:platform"]
        config = parse_platform_config(raw, f"Pulumi.{env}.yaml")
        assert config.aks is not None and config.aks.attach is not None, env
        [target] = [w for w in config.workspaces if w.name == config.aks.attach.workspace]
        assert target.isolation_mode == "Disabled" and target.public_network_access == "Disabled", env
