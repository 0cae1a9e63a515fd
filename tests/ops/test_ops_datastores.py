"""Datastores: identity-based (no credentials), roles on exactly the container, and every config error."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from helpers import run_here

from aiinfra.components.interfaces import BUILTIN_ROLES
from stacks.config import ConfigError, parse_platform_config

REPO = Path(__file__).resolve().parents[2]
DATASTORE = "azure-native:machinelearningservices:Datastore"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
ACCOUNT = (
    "/subscriptions/3f2b6c1e-8d4a-4f7b-9c2e-5a1d7e9b0c34/resourceGroups/rg-data-dev/providers/"
    "Microsoft.Storage/storageAccounts/stcontosodatadev"
)


def platform(env: str) -> dict:
    return copy.deepcopy(yaml.safe_load((REPO / f"Pulumi.{env}.yaml").read_text())["config"]["aiinfra:platform"])


def test_dev_datastore_is_identity_based(plan_of):
    plan = plan_of("dev")
    (store,) = plan.of_type(DATASTORE)
    assert store.inputs["name"] == "raw_research"
    props = store.inputs["properties"]
    assert props["credentials"] == {"credentialsType": "None"}
    assert props["datastoreType"] == "AzureDataLakeGen2"
    assert props["accountName"] == "stcontosodatadev" and props["filesystem"] == "raw"
    assert props["subscriptionId"] == "3f2b6c1e-8d4a-4f7b-9c2e-5a1d7e9b0c34"
    assert props["resourceGroup"] == "rg-data-dev"
    assert props["serviceDataAccessAuthIdentity"] == "WorkspaceUserAssignedIdentity"
    workspace = next(
        r for r in plan.of_type("azure-native:machinelearningservices:Workspace") if r.name == "ml-research-workspace"
    )
    assert workspace.urn in store.dependencies


def test_roles_are_on_exactly_the_container_for_the_two_identities(plan_of):
    plan = plan_of("dev")
    (store,) = plan.of_type(DATASTORE)
    container = f"{ACCOUNT}/blobServices/default/containers/raw"
    grants = [r for r in plan.of_type(ROLE_ASSIGNMENT) if r.inputs["scope"] == container]
    identities = {r.name: r.outputs["principalId"] for r in plan.of_type(IDENTITY)}
    got = {(g.inputs["principalId"], g.inputs["roleDefinitionId"].rsplit("/", 1)[-1]) for g in grants}
    assert got == {
        (identities["ml-research-id"], BUILTIN_ROLES["Storage Blob Data Reader"]),
        (identities["ml-research-compute-id"], BUILTIN_ROLES["Storage Blob Data Reader"]),
    }
    assert all(g.inputs["principalType"] == "ServicePrincipal" for g in grants)
    assert all(g.urn in store.dependencies for g in grants), "the datastore is used only once its roles exist"
    # Nothing on the account itself, nothing for other accounts.
    assert not [r for r in plan.of_type(ROLE_ASSIGNMENT) if r.inputs["scope"] == ACCOUNT]


def test_prd_datastore_is_reached_through_its_private_endpoint_rule(plan_of):
    plan = plan_of("prd")
    (store,) = plan.of_type(DATASTORE)
    assert store.inputs["properties"]["filesystem"] == "curated"
    workspace = next(
        r for r in plan.of_type("azure-native:machinelearningservices:Workspace") if r.name == "ml-research-workspace"
    )
    rule = workspace.inputs["managedNetwork"]["outboundRules"]["datalake"]
    assert rule["destination"]["subresourceTarget"] == "dfs"
    assert rule["destination"]["serviceResourceId"].endswith("/storageAccounts/stcontosolakeprd")


def test_read_write_datastore_gives_the_compute_contributor(tmp_path):

    document = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())
    research = document["config"]["aiinfra:platform"]["workspaces"][0]
    research["datastores"][0].update(readOnly=False, kind="blob")
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(document))
    plan = run_here(REPO, "dev", path)
    (store,) = plan.of_type(DATASTORE)
    assert store.inputs["properties"]["datastoreType"] == "AzureBlob"
    assert store.inputs["properties"]["containerName"] == "raw"
    grant = next(r for r in plan.of_type(ROLE_ASSIGNMENT) if r.name == "ml-research-ds-raw_research-compute")
    assert grant.inputs["roleDefinitionId"].endswith(BUILTIN_ROLES["Storage Blob Data Contributor"])


@pytest.mark.parametrize(
    "env,index,entry,expected",
    [
        (
            "dev",
            0,
            {"storageAccountId": "stcontosodatadev"},
            "workspaces[0].datastores[0].storageAccountId: String should match pattern",
        ),
        ("dev", 0, {"container": "Raw_Data"}, "workspaces[0].datastores[0].container: String should match pattern"),
        ("dev", 0, {"container": "a--b"}, "workspaces[0].datastores[0].container: String should match pattern"),
        ("dev", 0, {"kind": "adlsGen1"}, "workspaces[0].datastores[0].kind: Input should be 'adlsGen2' or 'blob'"),
        ("dev", 0, {"name": "Raw-Research"}, "workspaces[0].datastores[0].name: String should match pattern"),
        ("dev", 0, {"accountKey": "secret"}, "workspaces[0].datastores[0].accountKey: unknown key"),
    ],
)
def test_config_errors_name_the_key(env, index, entry, expected):
    config = platform(env)
    config["workspaces"][index]["datastores"][0].update(entry)
    with pytest.raises(ConfigError) as error:
        parse_platform_config(config, f"Pulumi.{env}.yaml")
    assert f"aiinfra:platform.{expected}" in str(error.value)


def test_approved_outbound_workspace_needs_a_private_endpoint_rule_to_the_account():
    config = platform("prd")
    research = config["workspaces"][0]
    research["outboundRules"] = [r for r in research["outboundRules"] if r["name"] != "datalake"]
    with pytest.raises(ConfigError) as error:
        parse_platform_config(config, "Pulumi.prd.yaml")
    message = str(error.value)
    assert (
        "aiinfra:platform.workspaces[0]: datastores[0] (curated): the managed network allows only approved "
        "outbound" in message
    )
    assert "subresourceTarget dfs" in message
    # A blob datastore needs a blob endpoint: the dfs one does not do.
    config = platform("prd")
    config["workspaces"][0]["datastores"][0]["kind"] = "blob"
    with pytest.raises(ConfigError, match="subresourceTarget blob"):
        parse_platform_config(config, "Pulumi.prd.yaml")


def test_duplicate_datastore_names_are_an_error():
    config = platform("dev")
    stores = config["workspaces"][0]["datastores"]
    stores.append(dict(stores[0]))
    with pytest.raises(ConfigError, match=r"workspaces\[0\]: datastores: duplicate datastore name\(s\) raw_research"):
        parse_platform_config(config, "Pulumi.dev.yaml")


def test_defaults_are_a_read_only_adls_gen2_filesystem():
    from aiinfra.components._datastore import DatastoreSettings

    store = DatastoreSettings(name="raw", storage_account_id=ACCOUNT, container="raw")
    assert store.kind == "adlsGen2" and store.read_only is True and store.description == ""
    assert store.account_name == "stcontosodatadev"
    assert store.container_scope == f"{ACCOUNT}/blobServices/default/containers/raw"
