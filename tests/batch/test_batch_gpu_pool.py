"""What a platform engineer relies on in BatchGpuPool, per environment, from the recorded plan; and its args' errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from formula_eval import Samples, evaluate
from helpers import fake_shared_ref, group_ids, one, private_endpoints_to, waits_for_rbac, zone_names_of

from aiinfra.components._base import ComponentArgsError
from aiinfra.components.batch_autoscale import AutoscaleSettings, autoscale_formula
from aiinfra.components.batch_gpu_pool import BatchGpuPoolArgs, BatchGpuPoolSettings, start_task_command
from aiinfra.components.interfaces import BUILTIN_ROLES
from stacks.config import ConfigError, parse_platform_config

ACCOUNT = "azure-native:batch:BatchAccount"
POOL = "azure-native:batch:Pool"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
ROLE = "azure-native:authorization:RoleAssignment"
REPO = Path(__file__).resolve().parents[2]


def config_of(env: str) -> dict:
    return yaml.safe_load((REPO / f"Pulumi.{env}.yaml").read_text())["config"]["aiinfra:platform"]


def grants_to(plan, principal_of: str, role: str) -> list:
    """Role assignments of built-in `role` to the identity registered as `principal_of`."""
    identity = one(plan, IDENTITY, principal_of)
    return [
        r
        for r in plan.of_type(ROLE)
        if r.inputs["principalId"] == identity.outputs["principalId"]
        and r.inputs["roleDefinitionId"].endswith(BUILTIN_ROLES[role])
    ]


def test_account_is_private_aad_only_and_reached_through_both_private_endpoints(plan):
    account = one(plan, ACCOUNT)
    i = account.inputs
    assert i["publicNetworkAccess"] == "Disabled"
    assert i["allowedAuthenticationModes"] == ["AAD"]
    assert i["poolAllocationMode"] == "BatchService"
    endpoints = private_endpoints_to(plan, account)
    assert sorted(g for e in endpoints for g in group_ids(e)) == ["batchAccount", "nodeManagement"]
    for endpoint in endpoints:
        assert zone_names_of(plan, endpoint) == {"privatelink.batch.azure.com"}


def test_auto_storage_is_the_shared_storage_reached_with_managed_identities(plan):
    account = one(plan, ACCOUNT)
    storage = one(plan, "azure-native:storage:StorageAccount")
    auto = account.inputs["autoStorage"]
    assert auto["storageAccountId"] == storage.id
    assert auto["authenticationMode"] == "BatchAccountManagedIdentity"
    node_identity = one(plan, IDENTITY, "batch-node-id")
    assert auto["nodeIdentityReference"]["resourceId"] == node_identity.id
    account_identity = one(plan, IDENTITY, "batch-account-id")
    assert account.inputs["identity"] == {"type": "UserAssigned", "userAssignedIdentities": [account_identity.id]}
    # The account reads and writes blobs as itself, and its grant exists before the account.
    [grant] = grants_to(plan, "batch-account-id", "Storage Blob Data Contributor")
    assert grant.inputs["scope"] == storage.id and grant.urn in account.dependencies
    assert waits_for_rbac(plan, account, grant.urn)


def test_customer_managed_key_when_the_environment_asks(plan, env):
    account = one(plan, ACCOUNT)
    encryption = account.inputs.get("encryption")
    if not config_of(env)["shared"].get("requireCmk"):
        assert encryption is None
        assert not grants_to(plan, "batch-account-id", "Key Vault Crypto Service Encryption User")
        return
    key = one(plan, "azure-native:keyvault:Key")
    assert encryption is not None
    assert encryption["keySource"] == "Microsoft.KeyVault"
    # Versionless: Batch follows the key's rotation.
    assert encryption["keyVaultProperties"]["keyIdentifier"] == key.outputs["keyUri"]
    [grant] = grants_to(plan, "batch-account-id", "Key Vault Crypto Service Encryption User")
    vault = one(plan, "azure-native:keyvault:Vault", "shared-kv-cmk")  # the CMK's own vault
    assert grant.inputs["scope"] == f"{vault.id}/keys/{key.inputs['keyName']}"
    assert grant.urn in account.dependencies, "the key permission must exist before the account is created"
    # Batch reads the key as the account identity at creation: wait until the grant has taken effect.
    assert waits_for_rbac(plan, account, grant.urn)


def test_lock_and_diagnostics(plan, env):
    account = one(plan, ACCOUNT)
    locked = bool(config_of(env).get("lockStatefulResources"))
    assert account.protect is locked
    locks = [
        r for r in plan.of_type("azure-native:authorization:ManagementLockByScope") if r.inputs["scope"] == account.id
    ]
    assert len(locks) == (1 if locked else 0)
    [diagnostics] = [
        d for d in plan.of_type("azure-native:monitor:DiagnosticSetting") if d.inputs["resourceUri"] == account.id
    ]
    assert diagnostics.inputs["workspaceId"] == one(plan, "azure-native:operationalinsights:Workspace").id
    assert diagnostics.inputs["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]


def test_pool_nodes_have_no_public_ip_and_use_simplified_communication_in_the_batch_subnet(plan):
    pool = one(plan, POOL)
    network = pool.inputs["networkConfiguration"]
    assert network["publicIPAddressConfiguration"] == {"provision": "NoPublicIPAddresses"}
    assert network["subnetId"] == one(plan, "azure-native:network:Subnet", "shared-snet-batch").id
    assert pool.inputs["targetNodeCommunicationMode"] == "Simplified"
    # Nodes reach the account through the nodeManagement endpoint, which exists before the pool.
    endpoints = {e.name for e in private_endpoints_to(plan, one(plan, ACCOUNT))}
    assert endpoints <= {d.split("::")[-1] for d in pool.dependencies}


def test_pool_runs_a_catalogue_gpu_size_on_ubuntu_2404_with_the_matching_node_agent(plan, env):
    # The 22.04 node agent retires on 2027-06-30 (Azure/Batch#200): 24.04 is the default.
    pool = one(plan, POOL)
    assert pool.inputs["vmSize"] == config_of(env)["batch"]["vmSize"]
    vm = pool.inputs["deploymentConfiguration"]["virtualMachineConfiguration"]
    assert vm["imageReference"] == {
        "publisher": "microsoft-dsvm",
        "offer": "ubuntu-hpc",
        "sku": "2404",
        "version": "latest",
    }
    assert vm["nodeAgentSkuId"] == "batch.node.ubuntu 24.04"


def test_node_temporary_disk_is_encrypted_and_encryption_at_host_is_opt_in(plan):
    vm = one(plan, POOL).inputs["deploymentConfiguration"]["virtualMachineConfiguration"]
    # Linux pools accept TemporaryDisk only (the API's DiskEncryptionConfiguration); the OS disk is a managed disk.
    assert vm["diskEncryptionConfiguration"] == {"targets": ["TemporaryDisk"]}
    assert "securityProfile" not in vm  # needs a subscription feature and a size that supports it
    settings = BatchGpuPoolSettings(encryption_at_host=True)
    assert settings.encryption_at_host


def test_node_identity_reaches_only_the_batch_containers_not_the_whole_account(plan):
    storage = one(plan, "azure-native:storage:StorageAccount")
    pool = one(plan, POOL)
    [container] = [c for c in plan.of_type("azure-native:storage:BlobContainer") if c.name == "batch-container-batch"]
    assert container.inputs["containerName"] == "batch" and container.inputs["publicAccess"] == "None"
    grants = grants_to(plan, "batch-node-id", "Storage Blob Data Contributor")
    assert [g.inputs["scope"] for g in grants] == [container.id]
    assert all(g.inputs["scope"] != storage.id for g in grants)
    assert all(g.urn in pool.dependencies for g in grants)


@pytest.mark.parametrize(
    "names, fragment",
    [
        (["Batch"], "is not a blob container name"),
        (["a--b"], "is not a blob container name"),
        (["out", "out"], "must be unique"),
        ([], "at least 1"),
    ],
)
def test_storage_container_names_are_checked(names, fragment):
    with pytest.raises(ComponentArgsError, match=fragment):
        BatchGpuPoolSettings(storage_containers=names)


def test_containers_come_from_the_shared_registry_with_the_node_identity_and_no_password(plan):
    pool = one(plan, POOL)
    node_identity = one(plan, IDENTITY, "batch-node-id")
    registry = one(plan, "azure-native:containerregistry:Registry")
    containers = pool.inputs["deploymentConfiguration"]["virtualMachineConfiguration"]["containerConfiguration"]
    assert containers["type"] == "DockerCompatible"
    assert containers["containerRegistries"] == [
        {"registryServer": registry.outputs["loginServer"], "identityReference": {"resourceId": node_identity.id}}
    ]
    for image in containers.get("containerImageNames", []):
        assert image.startswith(registry.outputs["loginServer"] + "/")
    assert pool.inputs["identity"] == {"type": "UserAssigned", "userAssignedIdentities": [node_identity.id]}
    [pull] = grants_to(plan, "batch-node-id", "AcrPull")
    assert pull.inputs["scope"] == registry.id and pull.urn in pool.dependencies


def test_start_task_verifies_the_gpu_as_an_elevated_pool_user_and_gates_the_node(plan):
    start = one(plan, POOL).inputs["startTask"]
    assert "nvidia-smi" in start["commandLine"]
    assert start["userIdentity"] == {"autoUser": {"scope": "Pool", "elevationLevel": "Admin"}}
    assert start["waitForSuccess"] is True


def test_start_task_expects_every_gpu_of_the_size():
    assert 'if [ "$gpus" -lt 4 ]' in start_task_command(4)
    assert start_task_command(1).startswith("/bin/bash -c 'set -euo pipefail;")


def test_task_slots_and_scheduling_policy(plan, env):
    pool = one(plan, POOL)
    batch = config_of(env)["batch"]
    assert pool.inputs["taskSlotsPerNode"] == batch.get("taskSlotsPerNode", 1)
    assert pool.inputs["taskSchedulingPolicy"] == {"nodeFillType": batch.get("taskScheduling", "Pack")}


def test_pool_autoscales_from_its_queue_to_zero_with_the_generated_formula(plan, env):
    auto = one(plan, POOL).inputs["scaleSettings"]["autoScale"]
    settings = BatchGpuPoolSettings.model_validate(config_of(env)["batch"])
    assert auto["formula"] == autoscale_formula(settings.autoscale, task_slots_per_node=settings.task_slots_per_node)
    assert auto["evaluationInterval"] == f"PT{settings.autoscale.evaluation_interval_minutes}M"
    assert settings.autoscale.evaluation_interval_minutes >= 5
    idle = evaluate(auto["formula"], pending=Samples([0.0] * 20))
    assert idle.number("$TargetLowPriorityNodes") == idle.number("$TargetDedicatedNodes") == 0.0
    busy = evaluate(auto["formula"], pending=Samples([1000.0] * 20))
    assert busy.number("$TargetLowPriorityNodes") + busy.number("$TargetDedicatedNodes") == settings.autoscale.max_nodes
    assert "fixedScale" not in one(plan, POOL).inputs["scaleSettings"]


def test_dev_runs_low_priority_nodes_only_and_stays_small(plan_of):
    auto = one(plan_of("dev"), POOL).inputs["scaleSettings"]["autoScale"]
    assert "$TargetDedicatedNodes = 0;" in auto["formula"]
    busy = evaluate(auto["formula"], pending=Samples([1000.0] * 20))
    assert busy.number("$TargetDedicatedNodes") == 0.0 and busy.number("$TargetLowPriorityNodes") <= 2


# --- args: bad input fails naming the field, before anything is registered -------------------------------------


def args(**overrides: Any) -> BatchGpuPoolArgs:
    shared = fake_shared_ref()
    fields: dict[str, Any] = dict(naming=shared.naming, resource_group_name="rg", shared=shared)
    fields.update(overrides)
    return BatchGpuPoolArgs(**fields)


def test_args_accept_a_hand_built_shared_services_ref():
    built = args(vm_size="standard_nc8as_t4_v3")
    assert built.vm_size == "Standard_NC8as_T4_v3"  # normalised to Azure's spelling


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        ({"vm_size": "Standard_NC6s_v3"}, "vm_size: 'Standard_NC6s_v3' was retired by Azure on 2025-09-30"),
        ({"vm_size": "Standard_D4s_v5"}, "vm_size: 'Standard_D4s_v5' is not a supported GPU VM size"),
        ({"task_slots_per_node": 17}, "taskSlotsPerNode 17 is more than Standard_NC4as_T4_v3 allows (16"),
        ({"task_scheduling": "Random"}, "task_scheduling: Input should be 'Pack' or 'Spread'"),
        ({"image": "ubuntu-2004"}, "image: Input should be 'ubuntu-hpc-2204' or 'ubuntu-hpc-2404'"),
        ({"container_images": ["docker.io/library/python:3.12"]}, "names a registry ('docker.io')"),
        (
            {"autoscale": {"evaluationIntervalMinutes": 1}},
            "autoscale.evaluationIntervalMinutes: Input should be greater than or equal to 5",
        ),
        ({"shared": fake_shared_ref(batch_subnet_id=None)}, "shared.batch_subnet_id is required"),
    ],
)
def test_invalid_args_fail_naming_the_field(overrides, fragment):
    with pytest.raises(ComponentArgsError, match="BatchGpuPoolArgs: invalid args") as error:
        args(**overrides)
    assert fragment in str(error.value)


def test_missing_batch_dns_zone_fails_clearly():
    with pytest.raises(
        ComponentArgsError, match="no private DNS zone privatelink.batch.azure.com for 'nodeManagement'"
    ):
        fake_shared_ref(private_dns_zone_ids={}).dns_zone_ids_for("nodeManagement")


def test_stack_config_errors_name_the_yaml_path():
    raw = config_of("dev")
    raw["batch"] = {**raw["batch"], "autoscale": {"maxNodes": 2, "lowPriorityShare": 2}}
    with pytest.raises(ConfigError) as error:
        parse_platform_config(raw, "Pulumi.dev.yaml")
    assert "Pulumi.dev.yaml" in str(error.value)
    assert "aiinfra:platform.batch.autoscale.lowPriorityShare: Input should be less than or equal to 1" in str(
        error.value
    )


def test_autoscale_settings_defaults_are_cheap():
    settings = AutoscaleSettings()
    assert settings.low_priority_share == 1.0 and settings.max_nodes <= 2 and settings.evaluation_interval == "PT5M"


def test_low_priority_nodes_are_estimated_as_spot(plan):
    # Batch-managed accounts serve low-priority as Spot (Azure/Batch#196): the estimate names and prices them so.
    from aiinfra.engine.cost import estimate

    pool = one(plan, POOL)
    items = [i for i in estimate(plan).items if i.resource.urn == pool.urn]
    spot = [i for i in items if i.label.endswith(" spot")]
    assert spot and not [i for i in items if "low-priority" in i.label]
    assert spot[0].rate.row is not None and spot[0].rate.row.priority in ("spot", "low-priority")
    assert "spot" in f"{spot[0].rate.row.sku_name} {spot[0].rate.row.meter_name}".lower()
