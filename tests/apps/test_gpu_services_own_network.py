"""BatchGpuPool and ContainerAppsGpu used from another Pulumi program (tests/apps/program): a network, vault and
key made elsewhere, handed over as plain ids, with the opt-outs a caller may choose. Assertions on the recorded plan."""

from __future__ import annotations

from pathlib import Path

import pytest
from formula_eval import Samples, evaluate
from helpers import one, run_here

from aiinfra.components.batch_autoscale import AutoscaleSettings, autoscale_formula
from aiinfra.engine import Plan

PROGRAM = Path(__file__).resolve().parent / "program"
VAULT = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-net/providers/Microsoft.KeyVault/"
    "vaults/kv-acme"
)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return run_here(PROGRAM, "dev")


def test_batch_opt_outs_open_the_account_endpoint_and_skip_the_key_but_never_give_nodes_public_ips(plan):
    account = one(plan, "azure-native:batch:BatchAccount")
    assert account.inputs["publicNetworkAccess"] == "Enabled"
    assert "encryption" not in account.inputs
    assert account.inputs["allowedAuthenticationModes"] == ["AAD"]
    assert not plan.of_type("azure-native:network:PrivateEndpoint")
    pool = one(plan, "azure-native:batch:Pool")
    assert pool.inputs["networkConfiguration"]["publicIPAddressConfiguration"] == {"provision": "NoPublicIPAddresses"}
    assert pool.inputs["networkConfiguration"]["subnetId"].endswith("/subnets/batch")


def test_batch_pool_follows_its_settings(plan):
    pool = one(plan, "azure-native:batch:Pool")
    assert pool.inputs["vmSize"] == "Standard_NC64as_T4_v3"
    assert pool.inputs["taskSlotsPerNode"] == 4
    assert pool.inputs["taskSchedulingPolicy"] == {"nodeFillType": "Spread"}
    vm = pool.inputs["deploymentConfiguration"]["virtualMachineConfiguration"]
    assert vm["imageReference"]["sku"] == "2404" and vm["nodeAgentSkuId"] == "batch.node.ubuntu 24.04"
    assert (
        "nvidia-smi" in pool.inputs["startTask"]["commandLine"] and "-lt 4 ]" in pool.inputs["startTask"]["commandLine"]
    )
    auto = pool.inputs["scaleSettings"]["autoScale"]
    settings = AutoscaleSettings(max_nodes=3, low_priority_share=0, evaluation_interval_minutes=15)
    assert auto == {"formula": autoscale_formula(settings, task_slots_per_node=4), "evaluationInterval": "PT15M"}
    # 9 pending tasks at 4 slots per node: 3 dedicated nodes; none when idle.
    busy = evaluate(auto["formula"], pending=Samples([9.0] * 20))
    assert (busy.number("$TargetLowPriorityNodes"), busy.number("$TargetDedicatedNodes")) == (0.0, 3.0)
    idle = evaluate(auto["formula"], pending=Samples([0.0] * 20))
    assert idle.number("$TargetDedicatedNodes") == 0.0


def test_container_apps_in_a_region_without_zones_is_not_zone_redundant(plan):
    environment = one(plan, "azure-native:app:ManagedEnvironment")
    assert environment.inputs["zoneRedundant"] is False
    assert environment.inputs["workloadProfiles"][1]["name"] == "a100"
    assert environment.inputs["vnetConfiguration"]["infrastructureSubnetId"].endswith("/subnets/aca")


def test_app_on_its_own_network_uses_the_given_registry_vault_and_queue(plan):
    app = one(plan, "azure-native:app:ContainerApp")
    [container] = app.inputs["template"]["containers"]
    assert container["image"] == "cracme.azurecr.io/models/scorer@sha256:" + "ab" * 32
    assert container["resources"] == {"cpu": 12.0, "memory": "110Gi"}
    assert {"name": "LOG_LEVEL", "value": "info"} in container["env"]
    [secret] = app.inputs["configuration"]["secrets"]
    assert secret["name"] == "api-key"
    assert secret["keyVaultUrl"] == "https://kv-acme.vault.azure.net/secrets/Api-Key"
    grant = one(plan, "azure-native:authorization:RoleAssignment", "lab-score-secret-api-key")
    assert grant.inputs["scope"] == f"{VAULT}/secrets/Api-Key"
    queue = one(plan, "azure-native:storage:Queue")
    assert queue.inputs == {
        **queue.inputs,
        "accountName": "stacme",
        "resourceGroupName": "rg-net",
        "queueName": "score-jobs",
    }
    # The network already has a queue endpoint (queue_private_endpoint=False): none is added.
    assert not plan.of_type("azure-native:network:PrivateEndpoint")


def test_outputs_give_the_pool_and_the_vnet_wide_app_name(plan):
    assert plan.stack_outputs["batchPoolName"] == "pool-acme-lab-gpu-wus"
    # VNet-wide ingress on the internal environment: <app>.<default domain>, no `.internal.`.
    assert plan.stack_outputs["scoreFqdn"].startswith("ca-acme-lab-score-wus.cae-")


def test_an_existing_secret_is_not_created_and_a_managed_image_is_not_ignored(plan):
    assert not plan.of_type("azure-native:keyvault:Secret")
    app = one(plan, "azure-native:app:ContainerApp")
    assert app.ignore_changes == []  # the program manages its image: a change in it rolls out
    ingress = app.inputs["configuration"]["ingress"]
    assert ingress["external"] is True
    assert ingress["ipSecurityRestrictions"] == [
        {
            "name": "scoring-vms",
            "description": "scoring-vms callers",
            "ipAddressRange": "10.8.4.0/24",
            "action": "Allow",
        }
    ]
