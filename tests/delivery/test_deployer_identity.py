"""The deployer identities: what a security reviewer checks before letting a pipeline deploy an environment."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from helpers import run_here

from aiinfra.components._base import ComponentArgsError
from aiinfra.components.deployer_identity import (
    FORBIDDEN_ACTIONS,
    GITHUB_ISSUER,
    GRAPH_APP_ROLES,
    MICROSOFT_GRAPH_APP_ID,
    PRIVILEGED_ROLES,
    TOKEN_EXCHANGE_AUDIENCE,
    DeployerIdentityArgs,
    DeployerIdentitySettings,
    GitHubFederation,
    assignable_roles,
    role_assignment_condition,
)
from aiinfra.components.interfaces import BUILTIN_ROLES
from aiinfra.components.naming import NamingConvention
from aiinfra.components.secure_workspace import DATA_SCIENTIST_ACTIONS, DATA_SCIENTIST_NOT_ACTIONS
from aiinfra.engine import Plan, ProgramError
from stacks.config import ConfigError, parse_platform_config

REPO = Path(__file__).resolve().parents[2]
BOOTSTRAP = REPO / "bootstrap"
APP = "azuread:index/application:Application"
SP = "azuread:index/servicePrincipal:ServicePrincipal"
FIC = "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
ROLE_DEFINITION = "azure-native:authorization:RoleDefinition"
LOCK = "azure-native:authorization:ManagementLockByScope"
APP_ROLE_ASSIGNMENT = "azuread:index/appRoleAssignment:AppRoleAssignment"
GROUP = "azure-native:resources:ResourceGroup"
ENVIRONMENTS = ("dev", "test", "prd")

_plans: dict[str, Plan] = {}


def bootstrap_plan(env: str) -> Plan:
    if env not in _plans:
        _plans[env] = run_here(BOOTSTRAP, env)
    return _plans[env]


def role_guid(assignment) -> str:
    return assignment.inputs["roleDefinitionId"].rsplit("/", 1)[-1]


def assignments_of(plan: Plan, service_principal) -> list:
    object_id = service_principal.outputs["objectId"]
    return [r for r in plan.of_type(ROLE_ASSIGNMENT) if r.inputs["principalId"] == object_id]


def by_purpose(plan: Plan, kind: str, purpose: str):
    found = [r for r in plan.of_type(kind) if f"-{purpose}-" in r.name]
    assert len(found) == 1, [r.name for r in found]
    return found[0]


@pytest.fixture(params=ENVIRONMENTS)
def plan(request) -> Plan:
    return bootstrap_plan(request.param)


def test_bootstrap_project_is_a_valid_pulumi_project():
    project = yaml.safe_load((BOOTSTRAP / "Pulumi.yaml").read_text())
    schema = json.loads((REPO / "tests" / "data" / "pulumi-project.schema.json").read_text())
    jsonschema.validate(project, schema)
    assert project["runtime"]["name"] == "python"
    assert (BOOTSTRAP / "__main__.py").is_file()


def test_federated_credentials_trust_exactly_the_pipeline_subjects():
    plan = bootstrap_plan("dev")
    config = yaml.safe_load((BOOTSTRAP / "Pulumi.dev.yaml").read_text())["config"]["aiinfra-bootstrap:deployer"]
    repo = config["github"]["repository"]
    pipelines = config["azurePipelines"]
    deploy_app, preview_app = by_purpose(plan, APP, "deploy"), by_purpose(plan, APP, "preview")
    trusted = {
        (app.name, f.inputs["issuer"], f.inputs["subject"])
        for app in (deploy_app, preview_app)
        for f in plan.of_type(FIC)
        if f.inputs["applicationId"] == app.id
    }
    assert trusted == {
        (deploy_app.name, GITHUB_ISSUER, f"repo:{repo}:environment:dev"),
        (deploy_app.name, pipelines["issuer"], pipelines["deploySubject"]),
        (preview_app.name, GITHUB_ISSUER, f"repo:{repo}:pull_request"),
        (preview_app.name, pipelines["issuer"], pipelines["previewSubject"]),
    }
    for credential in plan.of_type(FIC):
        assert credential.inputs["audiences"] == [TOKEN_EXCHANGE_AUDIENCE]
        assert credential.inputs["applicationId"].startswith("/applications/")


def test_prd_deploy_token_only_for_the_prd_github_environment():
    plan = bootstrap_plan("prd")
    deploy_app = by_purpose(plan, APP, "deploy")
    subjects = [
        f.inputs["subject"]
        for f in plan.of_type(FIC)
        if f.inputs["applicationId"] == deploy_app.id and f.inputs["issuer"] == GITHUB_ISSUER
    ]
    assert subjects == ["repo:contoso/ml-platform:environment:prd"]


def test_no_password_or_certificate_anywhere(plan):
    kinds = {r.type for r in plan.resources}
    assert not {k for k in kinds if re.search(r"(Password|Certificate)", k)}, kinds
    for app in plan.of_type(APP):
        assert not {"password", "passwords", "keyCredentials"} & set(app.inputs)
    text = json.dumps([r.inputs for r in plan.resources]).lower()
    assert "secret" not in text and "password" not in text


def test_service_principals_belong_to_their_applications(plan):
    for purpose in ("deploy", "preview"):
        app, sp = by_purpose(plan, APP, purpose), by_purpose(plan, SP, purpose)
        assert sp.inputs["clientId"] == app.outputs["clientId"]
        assert plan.stack_outputs[f"{purpose}ClientId"] == app.outputs["clientId"]
        # The principal running bootstrap owns both, so it can rotate credentials without a directory admin.
        assert len(app.inputs["owners"]) >= 1 and app.inputs["owners"] == sp.inputs["owners"]
        assert app.inputs["signInAudience"] == "AzureADMyOrg"


def access_role(plan: Plan):
    (role,) = [r for r in plan.of_type(ROLE_DEFINITION) if r.name.startswith("deployer-")]
    return role


def data_scientist_role(plan: Plan):
    (role,) = [r for r in plan.of_type(ROLE_DEFINITION) if r.name == "data-scientist-role"]
    return role


def test_roles_are_scoped_to_the_environment_group_and_least_privilege(plan):
    group = plan.of_type(GROUP)[0]
    deploy, preview = by_purpose(plan, SP, "deploy"), by_purpose(plan, SP, "preview")
    on_group = lambda sp: sorted(role_guid(a) for a in assignments_of(plan, sp) if a.inputs["scope"] == group.id)  # noqa: E731
    assert on_group(deploy) == sorted([BUILTIN_ROLES["Contributor"], access_role(plan).inputs["roleDefinitionId"]])
    assert on_group(preview) == [BUILTIN_ROLES["Reader"]]
    for assignment in plan.of_type(ROLE_ASSIGNMENT):
        assert assignment.inputs["principalType"] == "ServicePrincipal"
        scope = assignment.inputs["scope"]
        assert scope == group.id or "/providers/" in scope, f"{assignment.name} is scoped above a resource: {scope}"
        if "-datastore-" in assignment.name:
            # Issue 20: granting the two Storage Blob Data roles on one datastore container, nothing else
            # (tests/ops/test_ops_guardrails.py checks the condition).
            assert scope.endswith(tuple(f"/containers/{c}" for c in ("raw", "curated")))
            assert "ForAnyOfAnyValues:GuidEquals" in assignment.inputs["condition"]
            continue
        assert role_guid(assignment) not in PRIVILEGED_ROLES.values()


def test_access_role_adds_only_the_authorization_actions_the_platform_uses(plan):
    group = plan.of_type(GROUP)[0]
    role = access_role(plan)
    assert role.inputs["scope"] == group.id and role.inputs["assignableScopes"] == [group.id]
    (permission,) = role.inputs["permissions"]
    actions = set(permission["actions"])
    assert all(a.startswith("Microsoft.Authorization/") for a in actions)
    assert not {"Microsoft.Authorization/*", "*", "Microsoft.Authorization/elevateAccess/Action"} & actions
    assert not permission.get("dataActions")
    assert {
        "Microsoft.Authorization/roleAssignments/write",
        "Microsoft.Authorization/roleAssignments/delete",
    } <= actions
    has_locks = "Microsoft.Authorization/locks/write" in actions
    assert has_locks == (plan.stack == "prd"), "locks only where the platform locks resources"


def test_role_assignment_administration_allows_only_the_platforms_roles(plan):
    """An allow-list (Learn, "Delegate Azure role assignment management to others with conditions", constrain
    roles): a deny-list of the privileged roles lets a deployer assign itself another built-in role that carries
    roleAssignments/write (e.g. "Azure IoT Operations Onboarding", 7b7c71ed-...) and then Owner."""
    role = access_role(plan)
    (assignment,) = [a for a in plan.of_type(ROLE_ASSIGNMENT) if role_guid(a) == role.inputs["roleDefinitionId"]]
    condition = assignment.inputs["condition"]
    assert assignment.inputs["conditionVersion"] == "2.0"
    allowed = set(re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", condition))
    assert not allowed & {*PRIVILEGED_ROLES.values(), role.inputs["roleDefinitionId"]}
    assert "7b7c71ed-33fa-4ed2-a91a-e56d5da260b5" not in allowed
    assert {BUILTIN_ROLES["AcrPull"], BUILTIN_ROLES["Key Vault Crypto Service Encryption User"]} <= allowed
    assert allowed == set(assignable_roles(sorted(allowed - set(BUILTIN_ROLES.values()))))
    # Granting and revoking are both constrained, to the same list.
    assert condition.count("ForAnyOfAnyValues:GuidEquals") == 2 and "GuidNotEquals" not in condition
    assert "roleAssignments/write" in condition and "roleAssignments/delete" in condition
    # The assignment refers to the custom role by its subscription-level id, once it exists.
    assert assignment.inputs["roleDefinitionId"].startswith("/subscriptions/")
    assert role.urn in assignment.dependencies


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_deployer_can_do_what_its_platform_stack_does_and_no_more(env, plan_of):
    """Checked against the platform's own plan: a new kind of resource there fails here until bootstrap grants it."""
    platform, plan = plan_of(env), bootstrap_plan(env)
    (permission,) = access_role(plan).inputs["permissions"]
    actions = set(permission["actions"])
    needs = {
        "Microsoft.Authorization/roleAssignments/write": bool(platform.of_type(ROLE_ASSIGNMENT)),
        "Microsoft.Authorization/locks/write": bool(platform.of_type(LOCK)),
    }
    # The platform defines no role: bootstrap does (the deployer may not write role definitions).
    assert not platform.of_type(ROLE_DEFINITION)
    assert {a for a, needed in needs.items() if needed} == {a for a in needs if a in actions}
    graph = {a.inputs["appRoleId"] for a in plan.of_type(APP_ROLE_ASSIGNMENT)}
    creates_groups = bool(platform.of_type("azuread:index/group:Group"))
    shared = yaml.safe_load((REPO / f"Pulumi.{env}.yaml").read_text())["config"]["aiinfra:platform"]["shared"]
    looks_up = bool(shared.get("cosmosDbPrincipalLookup"))
    assert graph == (
        ({GRAPH_APP_ROLES["Group.Create"]} if creates_groups else set())
        | ({GRAPH_APP_ROLES["Application.Read.All"]} if looks_up else set())
    )
    deploy, preview = (by_purpose(plan, SP, who).outputs["objectId"] for who in ("deploy", "preview"))
    for assignment in plan.of_type(APP_ROLE_ASSIGNMENT):
        # Write permissions for the deploy identity only; the lookup runs in previews too.
        read_only = assignment.inputs["appRoleId"] == GRAPH_APP_ROLES["Application.Read.All"]
        assert assignment.inputs["principalObjectId"] in ({deploy, preview} if read_only else {deploy})
    holders = {a.inputs["principalObjectId"] for a in plan.of_type(APP_ROLE_ASSIGNMENT)}
    assert not looks_up or preview in holders
    for sp in plan.of_type(SP):
        if sp.inputs["clientId"] == MICROSOFT_GRAPH_APP_ID:
            assert sp.inputs["useExisting"] is True


def test_state_and_secrets_grants_are_on_those_resources_only(plan):
    config = yaml.safe_load((BOOTSTRAP / f"Pulumi.{plan.stack}.yaml").read_text())["config"][
        "aiinfra-bootstrap:deployer"
    ]
    deploy, preview = by_purpose(plan, SP, "deploy"), by_purpose(plan, SP, "preview")
    grants = lambda sp: {(a.inputs["scope"], role_guid(a)) for a in assignments_of(plan, sp)}  # noqa: E731
    assert (config["stateContainerId"], BUILTIN_ROLES["Storage Blob Data Contributor"]) in grants(deploy)
    assert (config["stateContainerId"], BUILTIN_ROLES["Storage Blob Data Reader"]) in grants(preview)
    assert (config["stateContainerId"], BUILTIN_ROLES["Storage Blob Data Contributor"]) not in grants(preview)
    for sp in (deploy, preview):
        assert (config["secretsKeyId"], BUILTIN_ROLES["Key Vault Crypto User"]) in grants(sp)


def test_resource_group_matches_the_platform_stack_and_is_protected(plan):
    group = plan.of_type(GROUP)[0]
    platform = yaml.safe_load((REPO / f"Pulumi.{plan.stack}.yaml").read_text())["config"]["aiinfra:platform"]
    assert group.protect is True
    assert group.inputs["location"] == platform["location"]
    assert group.inputs["resourceGroupName"] == f"rg-{platform.get('prefix', 'aiinfra')}-{plan.stack}-wus3"
    assert {"owner", "costCenter", "environment"} <= set(group.inputs["tags"])
    assert plan.stack_outputs["githubEnvironmentVariables"]["AZURE_CLIENT_ID"] == plan.stack_outputs["deployClientId"]
    assert (
        plan.stack_outputs["githubRepositoryVariables"][f"AZURE_PREVIEW_CLIENT_ID_{plan.stack.upper()}"]
        == plan.stack_outputs["previewClientId"]
    )


def _settings(**overrides) -> dict:
    return {"github": {"repository": "contoso/ml-platform"}, **overrides}


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"github": None}, "set github and/or azurePipelines"),
        ({"graph_app_roles": ["Directory.ReadWrite.All"]}, "graph_app_roles"),
        ({"github": {"repository": "ml-platform"}}, "github.repository"),
        (
            {"azure_pipelines": {"issuer": "vstoken.dev.azure.com/x", "deploy_subject": "sc://a/b/c"}},
            "not an https URL",
        ),
        ({"state_container_id": "pulumi-state"}, "is not an Azure resource id"),
        ({"manage_role_definitions": True}, "a pipeline identity may not write role definitions"),
    ],
)
def test_bad_settings_fail_naming_the_field(overrides, message):
    with pytest.raises(ComponentArgsError) as error:
        DeployerIdentityArgs(
            naming=NamingConvention(prefix="aiinfra", environment="dev", location="westus3"),
            resource_group_id="/subscriptions/x/resourceGroups/rg",
            **_settings(**overrides),
        )
    assert message in str(error.value)


def test_bad_bootstrap_config_names_the_yaml_path(tmp_path):
    project = tmp_path / "bootstrap"
    project.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        (project / name).write_text((BOOTSTRAP / name).read_text())
    (project / "Pulumi.dev.yaml").write_text(
        "config:\n  aiinfra-bootstrap:deployer:\n    github: {repository: contoso/ml}\n    graphAppRoles: [Directory.ReadWrite.All]\n"
    )
    (tmp_path / "Pulumi.dev.yaml").write_text((REPO / "Pulumi.dev.yaml").read_text())
    # The copied program finds the library through the installed package (the repo is on sys.path here).
    with pytest.raises(ProgramError) as error:
        run_here(project, "dev")
    assert "aiinfra-bootstrap:deployer.graphAppRoles[0]: Input should be 'Group.Create'" in str(error.value)


def test_condition_is_deterministic_and_deduplicated():
    a = role_assignment_condition(["b", "a", "a"])
    assert a == role_assignment_condition(["a", "b"])
    assert a.count("GuidEquals {a, b}") == 2


def test_settings_model_is_what_the_bootstrap_config_holds():
    for env in ENVIRONMENTS:
        raw = yaml.safe_load((BOOTSTRAP / f"Pulumi.{env}.yaml").read_text())["config"]["aiinfra-bootstrap:deployer"]
        settings = DeployerIdentitySettings.model_validate(raw)
        assert settings.github is not None and settings.github.environment == env


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_platform_deploys_into_the_group_bootstrap_creates(env, plan_of):
    platform, group = plan_of(env), bootstrap_plan(env).of_type(GROUP)[0]
    assert not platform.of_type(GROUP), "the platform stack must not create (or ever delete) the bootstrap group"
    used = {r.inputs["resourceGroupName"] for r in platform.resources if "resourceGroupName" in r.inputs}
    assert used == {group.inputs["resourceGroupName"]}
    assert platform.stack_outputs["resourceGroupName"] == group.inputs["resourceGroupName"]


def test_without_bootstrap_the_platform_creates_its_group(tmp_path):
    stack = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())
    stack["config"]["aiinfra:platform"]["createResourceGroup"] = True
    stack["config"]["aiinfra:platform"].pop("workspaces", None)  # a smaller plan is enough here
    for key in ("batch", "containerApps", "aks"):
        stack["config"]["aiinfra:platform"].pop(key, None)
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump(stack))
    plan = run_here(REPO, "dev", stack_file=tmp_path / "Pulumi.dev.yaml")
    (group,) = plan.of_type(GROUP)
    account = next(r for r in plan.resources if r.type == "azure-native:storage:StorageAccount")
    assert group.urn in account.dependencies
    assert group.inputs["tags"]["environment"] == "dev"


# --- no pipeline role can write role definitions; bootstrap defines the platform's custom roles ------------------


def _grants_role_definition_writes(actions: list[str]) -> list[str]:
    """The actions that allow writing role definitions (Azure RBAC matches `*` against any text)."""
    target = "microsoft.authorization/roledefinitions/write"
    return [a for a in actions if re.fullmatch(re.escape(a.lower()).replace(r"\*", ".*"), target)]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_pipeline_role_can_write_role_definitions(env, plan_of):
    plan = bootstrap_plan(env)
    defined = {r.inputs["roleDefinitionId"]: r for r in plan.of_type(ROLE_DEFINITION)}
    for purpose in ("deploy", "preview"):
        for assignment in assignments_of(plan, by_purpose(plan, SP, purpose)):
            guid = role_guid(assignment)
            if guid in defined:
                (permission,) = defined[guid].inputs["permissions"]
                assert not _grants_role_definition_writes(permission["actions"]), (purpose, permission["actions"])
            elif "-datastore-" in assignment.name:
                # Issue 20: on a datastore's container, RBAC Administrator (role assignments only, no role
                # definitions) limited by its condition to the two Storage Blob Data roles.
                assert guid == BUILTIN_ROLES["Role Based Access Control Administrator"]
                assert "ForAnyOfAnyValues:GuidEquals" in assignment.inputs["condition"]
            else:  # built-in: the ones the pipelines get may not define roles either
                assert guid in {
                    BUILTIN_ROLES[r]
                    for r in (
                        "Contributor",
                        "Reader",
                        "Storage Blob Data Contributor",
                        "Storage Blob Data Reader",
                        "Key Vault Crypto User",
                    )
                }, guid
    # Contributor's NotActions exclude Microsoft.Authorization/*/Write (Learn, built-in roles): it cannot either.
    assert not _grants_role_definition_writes(["Microsoft.Authorization/*/read"])
    assert _grants_role_definition_writes(["Microsoft.Authorization/*"])


def test_the_condition_still_keeps_the_privileged_roles_and_itself_away(plan):
    role = access_role(plan)
    (assignment,) = [a for a in plan.of_type(ROLE_ASSIGNMENT) if role_guid(a) == role.inputs["roleDefinitionId"]]
    for guid in (*PRIVILEGED_ROLES.values(), role.inputs["roleDefinitionId"]):
        assert guid not in assignment.inputs["condition"]  # an allow-list: absent means never assignable
    (permission,) = role.inputs["permissions"]
    assert not set(permission["actions"]) & set(FORBIDDEN_ACTIONS)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_bootstrap_defines_the_data_scientist_role_the_platform_assigns(env, plan_of):
    plan, platform = bootstrap_plan(env), plan_of(env)
    group = plan.of_type(GROUP)[0]
    role = data_scientist_role(plan)
    assert role.inputs["scope"] == group.id and role.inputs["assignableScopes"] == [group.id]
    (permission,) = role.inputs["permissions"]
    assert permission["actions"] == list(DATA_SCIENTIST_ACTIONS)
    assert permission["notActions"] == list(DATA_SCIENTIST_NOT_ACTIONS)
    # The handover: bootstrap exports the GUID, the platform stack file names it, each workspace assigns it.
    stack = yaml.safe_load((REPO / f"Pulumi.{env}.yaml").read_text())["config"]["aiinfra:platform"]
    guid = role.inputs["roleDefinitionId"]
    assert plan.stack_outputs["dataScientistRoleId"] == guid == stack["dataScientistRoleId"]
    workspaces = platform.of_type("azure-native:machinelearningservices:Workspace")
    assigned = [a for a in platform.of_type(ROLE_ASSIGNMENT) if role_guid(a) == guid]
    assert len(assigned) == len(workspaces) >= 1
    assert {a.inputs["scope"] for a in assigned} == {w.id for w in workspaces}
    assert all(a.inputs["principalType"] == "Group" for a in assigned)


def test_platform_without_the_role_id_is_a_clear_config_error():
    raw = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())["config"]["aiinfra:platform"]
    guid = raw.pop("dataScientistRoleId")
    with pytest.raises(
        ConfigError, match="dataScientistRoleId: the workspaces assign the data-scientist role"
    ) as error:
        parse_platform_config(raw, "Pulumi.dev.yaml")
    assert f"set it to {guid}" in str(error.value)  # nameable before bootstrap runs (bootstrap reads this file)


def test_bootstrap_refuses_a_platform_role_id_that_is_not_its_role(tmp_path):
    project = tmp_path / "bootstrap"
    project.mkdir()
    for name in ("Pulumi.yaml", "__main__.py", "Pulumi.dev.yaml"):
        (project / name).write_text((BOOTSTRAP / name).read_text())
    stack = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())
    stack["config"]["aiinfra:platform"]["dataScientistRoleId"] = "00000000-0000-0000-0000-000000000001"
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump(stack))
    with pytest.raises(ProgramError, match="dataScientistRoleId is 00000000-0000-0000-0000-000000000001"):
        run_here(project, "dev")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_bootstraps_custom_roles_are_assignable_by_the_deployer(env):
    """The platform stack assigns bootstrap's data-scientist role, so the allow-list names it."""
    plan = bootstrap_plan(env)
    defined = {r.inputs["roleDefinitionId"] for r in plan.of_type(ROLE_DEFINITION) if r.name == "data-scientist-role"}
    role = access_role(plan)
    (assignment,) = [a for a in plan.of_type(ROLE_ASSIGNMENT) if role_guid(a) == role.inputs["roleDefinitionId"]]
    assert defined and defined <= set(re.findall(r"[0-9a-f-]{36}", assignment.inputs["condition"]))


def test_a_privileged_role_cannot_be_made_assignable():
    with pytest.raises(ComponentArgsError, match="privileged role"):
        DeployerIdentitySettings(
            github=GitHubFederation(repository="acme/infra"), assignable_role_ids=[PRIVILEGED_ROLES["Owner"]]
        )
