"""Issue 12, open review findings: what real Azure does with the ML platform's resources, each with its source.

1. create-only workspace properties (hbiWorkspace, CMK, managed-network mode) are refused updates in the one table
   the diff reads; AmlCompute's create-only paths come from the same table;
2. an AML cluster's description does not change when it scales;
3. the workspace CMK is a versioned key URL (Azure ML documents no versionless form);
4. the Azure Cosmos DB principal: an object id from config by default, the Graph lookup only on request;
6. the workspace identity's blob data role is limited to the workspace's containers;
7. a CMK workspace's Microsoft-managed Cosmos DB / AI Search / storage appear as a "not estimated" cost item.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import fake_shared_ref, one

from aiinfra.catalog.create_only import fixed_paths, immutable, replaced_paths
from aiinfra.components import ComponentArgsError, NamingConvention, SharedServicesArgs
from aiinfra.components._aml import CREATE_ONLY_PROPERTIES
from aiinfra.components.deployer_identity import GRAPH_APP_ROLES
from aiinfra.components.interfaces import CustomerManagedKey
from aiinfra.components.secure_workspace import SecureWorkspaceArgs
from aiinfra.engine import run_program
from aiinfra.engine.cost import estimate
from aiinfra.engine.diff import REPLACE, UPDATE, diff_plans

WS = "azure-native:machinelearningservices:Workspace"
COMPUTE = "azure-native:machinelearningservices:Compute"
STACK_URN = "urn:pulumi:dev::acme::pulumi:pulumi:Stack::acme-dev"


def _document(inputs: dict[str, Any], type_token: str = WS, **options: Any) -> dict[str, Any]:
    return {
        "plan": {
            "stack": "dev",
            "project": "acme",
            "resources": [
                {
                    "urn": f"urn:pulumi:dev::acme::{type_token}::r",
                    "type": type_token,
                    "name": "r",
                    "parent": STACK_URN,
                    "custom": True,
                    "protect": False,
                    "inputs": inputs,
                    "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w",
                    "ignoreChanges": [],
                    **options,
                }
            ],
        }
    }


def _workspace(**props: Any) -> dict[str, Any]:
    return {"workspaceName": "mlw-research", "resourceGroupName": "rg", "location": "westus3", **props}


def _change(old: dict[str, Any], new: dict[str, Any], type_token: str = WS, **options: Any):
    [change] = diff_plans(_document(old, type_token, **options), _document(new, type_token, **options)).changes
    return change


# --- 1. create-only properties: one table --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path,old,new",
    [
        ("hbiWorkspace", {"hbiWorkspace": False}, {"hbiWorkspace": True}),
        ("encryption.status", {}, {"encryption": {"status": "Enabled"}}),
        (
            "encryption.keyVaultProperties.keyVaultArmId",
            {"encryption": {"status": "Enabled", "keyVaultProperties": {"keyVaultArmId": "/kv/a"}}},
            {"encryption": {"status": "Enabled", "keyVaultProperties": {"keyVaultArmId": "/kv/b"}}},
        ),
        ("enableDataIsolation", {"enableDataIsolation": True}, {"enableDataIsolation": False}),
    ],
)
def test_a_workspace_property_set_only_at_creation_is_a_refused_update_not_a_replacement(path, old, new):
    """Learn: hbi_workspace "only when you create a workspace"; the CMK is given at creation and can only move to
    another key of the same vault; data isolation "can only be configured when creating a workspace". A replacement is
    no way out (a soft-deleted workspace keeps its name: Learn, "Workspace soft deletion"), so the diff says refused."""
    change = _change(_workspace(**old), _workspace(**new))
    assert change.op == UPDATE and change.refused
    [prop] = [p for p in change.properties if p.path.startswith(path.split(".")[0])]
    assert prop.effect == "refused" and "Learn" in (prop.why or "")


def test_a_new_key_version_in_the_same_vault_is_an_update_in_place():
    old = {"encryption": {"status": "Enabled", "keyVaultProperties": {"keyVaultArmId": "/kv", "keyIdentifier": "k/1"}}}
    new = {"encryption": {"status": "Enabled", "keyVaultProperties": {"keyVaultArmId": "/kv", "keyIdentifier": "k/2"}}}
    change = _change(_workspace(**old), _workspace(**new))
    assert change.op == UPDATE and not change.refused


@pytest.mark.parametrize(
    "old,new,refused",
    [
        ("AllowInternetOutbound", "AllowOnlyApprovedOutbound", False),
        ("AllowOnlyApprovedOutbound", "AllowInternetOutbound", True),
        ("AllowInternetOutbound", "Disabled", True),
        ("Disabled", "AllowOnlyApprovedOutbound", False),
    ],
)
def test_managed_network_isolation_only_tightens(old, new, refused):
    """Learn, "Workspace managed virtual network isolation": no way back to a looser mode or to no managed network."""
    change = _change(
        _workspace(managedNetwork={"isolationMode": old}), _workspace(managedNetwork={"isolationMode": new})
    )
    assert bool(change.refused) is refused


def test_aml_cluster_fixed_paths_are_the_tables_and_only_replaceonchanges_replaces():
    """Review finding 6: the spec marks no AmlCompute property create-only (x-ms-mutability) and has a PUT example
    "Update a AML Compute", so azure-native does not replace a resized cluster by itself: it sends a PUT that Azure
    refuses or ignores (Azure/azure-rest-api-specs#18889: the old vmSize stayed). Only the resource's own
    replaceOnChanges (which our pools declare from the same table) makes it a replacement, and the diff reads that
    option before the table."""
    assert fixed_paths(COMPUTE) == CREATE_ONLY_PROPERTIES
    assert not replaced_paths(COMPUTE)
    assert "properties.properties.vmSize" in CREATE_ONLY_PROPERTIES
    assert all(not rule.replaces and "18889" in rule.source for rule in immutable(COMPUTE))
    cluster = {"computeName": "gpu", "workspaceName": "w", "resourceGroupName": "rg"}
    old = {**cluster, "properties": {"properties": {"vmSize": "Standard_NC4as_T4_v3"}}}
    new = {**cluster, "properties": {"properties": {"vmSize": "Standard_NC24ads_A100_v4"}}}
    plain = _change(old, new, COMPUTE)  # another team's cluster without replace_on_changes
    assert plain.op == UPDATE and [p.path for p in plain.refused] == ["properties.properties.vmSize"]
    assert "does not apply this change" in (plain.refused[0].why or "")
    ours = _change(old, new, COMPUTE, replaceOnChanges=list(CREATE_ONLY_PROPERTIES), deleteBeforeReplace=True)
    assert ours.op == REPLACE and not ours.refused
    assert "replaceOnChanges" in (ours.properties[0].why or "")


# --- 2. a cluster's description is stable when it scales ---------------------------------------------------------

POOL_PROGRAM = """\
import pulumi
from aiinfra.components import GpuComputePool, GpuComputePoolArgs, NamingConvention
from aiinfra.components.secure_workspace import SecureWorkspaceRef

ref = SecureWorkspaceRef(
    naming=NamingConvention(prefix="contoso", environment="dev", location="westus3"),
    resource_group_name="rg",
    workspace_name="mlw",
    workspace_id="/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/mlw",
    compute_identity_id="/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/c",
)
GpuComputePool("pool", GpuComputePoolArgs(workspace=ref, name="t4-pool", vm_size="Standard_NC4as_T4_v3",
                                          min_nodes=MIN, max_nodes=MAX))
"""


def _pool_description(tmp_path: Path, min_nodes: int, max_nodes: int) -> str:
    project = tmp_path / f"pool-{min_nodes}-{max_nodes}"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: pools\nruntime: python\n")
    (project / "Pulumi.dev.yaml").write_text("config: {}\n")
    (project / "__main__.py").write_text(POOL_PROGRAM.replace("MIN", str(min_nodes)).replace("MAX", str(max_nodes)))
    compute = one(run_program(project, "dev", in_process=True), COMPUTE)
    return compute.inputs["properties"]["description"]


def test_scaling_a_pool_leaves_its_description_alone(tmp_path: Path):
    """Compute_Update (REST spec) takes only the scale settings: scaling must not also change the description."""
    small, large = _pool_description(tmp_path, 0, 2), _pool_description(tmp_path, 1, 8)
    assert small == large == "1x NVIDIA T4 per node, LowPriority"


# --- 3. the workspace key is versioned -----------------------------------------------------------------------------


def _cmk(**overrides: Any) -> CustomerManagedKey:
    fields: dict[str, Any] = dict(
        key_vault_id="/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-cmk",
        key_vault_uri="https://kv-cmk.vault.azure.net/",
        key_name="cmk",
        key_id="https://kv-cmk.vault.azure.net/keys/cmk",
        identity_id="/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/c",
        identity_client_id="00000000-0000-0000-0000-000000000001",
        identity_principal_id="00000000-0000-0000-0000-000000000002",
    )
    fields.update(overrides)
    return CustomerManagedKey(**fields)


def test_a_cmk_workspace_needs_the_versioned_key_url():
    naming = NamingConvention(prefix="contoso", environment="dev", location="westus3")
    with pytest.raises(ComponentArgsError, match=r"shared\.cmk\.key_version_url is required") as info:
        SecureWorkspaceArgs(
            name="research",
            naming=naming,
            resource_group_name="rg",
            shared=fake_shared_ref(cmk=_cmk()),
            require_cmk=True,
        )
    assert "az keyvault key show" in str(info.value)
    SecureWorkspaceArgs(
        name="research",
        naming=naming,
        resource_group_name="rg",
        shared=fake_shared_ref(cmk=_cmk(key_version_url="https://kv-cmk.vault.azure.net/keys/cmk/0123abcd")),
        require_cmk=True,
    )


def test_the_workspace_encryption_names_the_keys_current_version(plan_of):
    plan = plan_of("prd")
    key = one(plan, "azure-native:keyvault:Key")
    for workspace in plan.of_type(WS):
        identifier = workspace.inputs["encryption"]["keyVaultProperties"]["keyIdentifier"]
        assert identifier == key.outputs["keyUriWithVersion"] != key.outputs["keyUri"]


# --- 4. the Azure Cosmos DB principal --------------------------------------------------------------------------------


def _shared_args(**settings: Any) -> SharedServicesArgs:
    naming = NamingConvention(prefix="contoso", environment="prd", location="westus3")
    return SharedServicesArgs(
        naming=naming, resource_group_name="rg", address_space="10.30.0.0/16", require_cmk=True, **settings
    )


def test_cmk_without_the_cosmos_db_principal_says_how_to_get_it():
    """The lookup needs Microsoft Graph Application.Read.All, which a deployer usually lacks: the object id is the
    default path, and its absence is a config error naming both fixes."""
    with pytest.raises(ComponentArgsError) as info:
        _shared_args()
    message = str(info.value)
    assert "cosmosDbPrincipalObjectId is required with requireCmk" in message
    assert "az ad sp show --id a232010e-820c-4083-83bb-3ace5fc29d0b --query id -o tsv" in message
    assert "cosmosDbPrincipalLookup: true" in message and "Application.Read.All" in message
    # Azure Government's Cosmos DB application is catalogued (57506a73-...), but its private DNS zones are not yet.
    gov = pytest.raises(ComponentArgsError, _shared_args, azure_cloud="AzureUSGovernment")
    assert "azureCloud AzureUSGovernment" in str(gov.value) and "private DNS zone" in str(gov.value)
    with pytest.raises(ComponentArgsError, match="remove one"):
        _shared_args(
            cosmos_db_principal_object_id="4c1f7a2e-9b3d-4e5f-8a6b-0d2c3e4f5a6b", cosmos_db_principal_lookup=True
        )
    _shared_args(cosmos_db_principal_lookup=True)
    _shared_args(cosmos_db_principal_object_id="4c1f7a2e-9b3d-4e5f-8a6b-0d2c3e4f5a6b")


def test_the_graph_permission_the_lookup_needs_can_be_given_to_the_deployer():
    """Microsoft Graph permissions reference: Application.Read.All (application) has this id in every tenant."""
    assert GRAPH_APP_ROLES["Application.Read.All"] == "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30"


def test_our_cmk_stacks_look_the_principal_up_and_write_no_object_id_down(repo, plan_of):
    """Issue 12: the object id differs per tenant, so a committed stack file must not carry one (a made-up GUID would
    grant the key to nobody, or to someone else); the pipeline identities get Graph read access from bootstrap/."""
    for env in ("test", "prd"):
        text = (repo / f"Pulumi.{env}.yaml").read_text()
        shared = yaml.safe_load(text)["config"]["aiinfra:platform"]["shared"]
        assert shared["cosmosDbPrincipalLookup"] is True and "cosmosDbPrincipalObjectId" not in shared
        grant = one(plan_of(env), "azure-native:authorization:RoleAssignment", "shared-cmk-cosmos-db")
        assert grant.inputs["principalType"] == "ServicePrincipal" and grant.inputs["principalId"]


# --- 7. the cost of a CMK workspace's Microsoft-managed resources --------------------------------------------------


def test_a_cmk_workspace_lists_its_managed_services_as_not_estimated(plan_of):
    """Learn, "Customer-managed keys for Azure Machine Learning": Azure creates Cosmos DB, AI Search and storage in a
    managed resource group and bills them to the subscription. No list price to quote: an unpriced item, so the
    totals are lower bounds."""
    prd = estimate(plan_of("prd"))
    managed = [(i, why) for i, why in prd.unpriced() if "Cosmos DB, AI Search and storage" in i.label]
    cmk_workspaces = [w for w in plan_of("prd").of_type(WS) if "encryption" in w.inputs]
    assert len(managed) == len(cmk_workspaces) >= 1
    assert all("not estimated" in why for _, why in managed)
    assert not prd.totals.idle_complete
    dev = estimate(plan_of("dev"))
    assert not [i for i in dev.items if "Cosmos DB, AI Search" in i.label]


PROGRAM_CMK_WORKSPACE = textwrap.dedent(
    """\
    import pulumi_azure_native.machinelearningservices as ml
    ml.Workspace("ws", workspace_name="mlw-other", resource_group_name="rg-other", location="eastus",
                 encryption={"status": "Enabled", "key_vault_properties": {"key_identifier": "https://kv.vault.azure.net/keys/k/1",
                                                                          "key_vault_arm_id": "/subscriptions/s/kv"}})
    """
)


def test_a_strangers_cmk_workspace_is_flagged_too(tmp_path: Path):
    (tmp_path / "Pulumi.yaml").write_text("name: other\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(PROGRAM_CMK_WORKSPACE)
    cost = estimate(run_program(tmp_path, "dev", in_process=True))
    [(item, why)] = cost.unpriced()
    assert "Cosmos DB, AI Search and storage of CMK ML workspace ws" in item.label and "not estimated" in why
    assert "managed resource group" in item.label and "virtual network" in why


def test_a_service_side_cmk_workspace_bills_only_ai_search(tmp_path: Path):
    """Review finding 8 (Learn, "Customer-managed keys for Azure Machine Learning", service-side encryption): the
    metadata goes to Microsoft's multitenant resources and only a dedicated AI Search instance is charged to the
    subscription through the workspace, so the item must not list Cosmos DB and storage as billed."""
    (tmp_path / "Pulumi.yaml").write_text("name: other\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    program = PROGRAM_CMK_WORKSPACE.replace(
        'location="eastus",', 'location="eastus", enable_service_side_cmk_encryption=True,'
    )
    assert program != PROGRAM_CMK_WORKSPACE
    (tmp_path / "__main__.py").write_text(program)
    cost = estimate(run_program(tmp_path, "dev", in_process=True))
    [(item, why)] = cost.unpriced()
    assert item.label.startswith("Azure AI Search of CMK ML workspace ws") and "Cosmos DB" not in item.label
    assert "billed through the workspace" in item.label and "not estimated" in why


def test_an_outbound_rule_to_another_resources_output_is_not_turned_into_text():
    """A PrivateEndpoint rule whose target is an Output (test/prd: the AI Services account) cannot be a datastore's
    account; it was formatted with str(), which Pulumi warns about ("Calling __str__ on an Output[T]")."""
    from aiinfra.components._datastore import DatastoreSettings, validate_datastores

    class NoText:
        def __str__(self) -> str:
            raise AssertionError("str() of an Output")

    account = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/stlake"
    store = DatastoreSettings(name="lake", kind="adlsGen2", storage_account_id=account, container="raw")
    rules = [(NoText(), "account"), (account, "dfs")]
    assert validate_datastores([store], approved_outbound_only=True, private_endpoint_rules=rules) == [store]


def test_a_stack_file_without_the_cosmos_db_principal_names_the_yaml_key(repo):
    from stacks.config import ConfigError, parse_platform_config

    platform = yaml.safe_load((repo / "Pulumi.prd.yaml").read_text())["config"]["aiinfra:platform"]
    del platform["shared"]["cosmosDbPrincipalLookup"]
    with pytest.raises(ConfigError, match=r"aiinfra:platform\.shared: cosmosDbPrincipalObjectId is required"):
        parse_platform_config(platform, "Pulumi.prd.yaml")
    platform["shared"]["cosmosDbPrincipalObjectId"] = "0d5b3c7e-2a41-4f86-9b1c-7e3d5a9f0c24"
    parse_platform_config(platform, "Pulumi.prd.yaml")
