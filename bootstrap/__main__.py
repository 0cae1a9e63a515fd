"""Bootstrap one environment for CI/CD, once, run by an administrator: the environment's resource group,
the deployer identities its pipelines log in with (see components/deployer_identity.py), and the custom roles the
platform assigns (the data-scientist role of its ML workspaces).

Custom roles are defined here, not by the platform stack: a pipeline identity allowed to write role definitions could
define a role that assigns roles and escape the condition on its role assignments. The handover is the role's GUID:
bootstrap exports `dataScientistRoleId`, the platform stack file sets `dataScientistRoleId` to it, and the stack only
assigns the role (on each workspace; the role is assignable in the group).

The group's name, region and tags come from the platform stack file of the same name (`../Pulumi.<stack>.yaml`),
so the group created here is exactly the one the platform stack deploys into. The platform stack does not
create it (`createResourceGroup: false`): the deployer's roles are scoped to it, so it must exist first, and
it outlives any `pulumi destroy` of the platform.
"""

import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import pulumi  # noqa: E402
from pulumi_azure_native import authorization, features, resources  # noqa: E402

from aiinfra.components._datastore import delegate_datastore_access  # noqa: E402
from aiinfra.components.deployer_identity import (  # noqa: E402
    DeployerIdentity,
    DeployerIdentityArgs,
    DeployerIdentitySettings,
    custom_role,
    platform_role_guid,
)
from aiinfra.components.platform_monitoring import CostAnomalyAlert, CostAnomalyAlertArgs  # noqa: E402
from aiinfra.components.policy_guardrails import PolicyGuardrails, PolicyGuardrailsArgs  # noqa: E402
from aiinfra.components.secure_workspace import DATA_SCIENTIST_ACTIONS, DATA_SCIENTIST_NOT_ACTIONS  # noqa: E402
from stacks.config import CONFIG_KEY, CONFIG_NAMESPACE, ConfigError, load_config_object, parse_platform_config  # noqa: E402

stack = pulumi.get_stack()
platform_file = REPO / f"Pulumi.{stack}.yaml"
if not platform_file.is_file():
    raise ConfigError(
        f"{platform_file.name}: no platform stack file for '{stack}'; the bootstrap stack takes its "
        "resource group's name, region and tags from it, so name the bootstrap stack like the platform's"
    )
platform_config = (yaml.safe_load(platform_file.read_text()) or {}).get("config") or {}
platform = parse_platform_config(platform_config.get(f"{CONFIG_NAMESPACE}:{CONFIG_KEY}"), platform_file.name)
settings = load_config_object(DeployerIdentitySettings, "aiinfra-bootstrap", "deployer")

naming = platform.naming
group = resources.ResourceGroup(
    "rg",
    resource_group_name=naming.name("resource_group"),
    location=platform.location,
    tags=platform.all_tags,
    # Deleting the group deletes the environment: only on purpose, never as a side effect of a change here.
    opts=pulumi.ResourceOptions(protect=True),
)
# The data-scientist role of the platform's ML workspaces: runs jobs on existing compute, cannot create, change or
# delete compute or a workspace (secure_workspace.py holds the actions). Defined in the group and assignable there, so
# the platform stack can assign it on each workspace it creates later.
data_scientist_role_id = None
if platform.workspaces:
    guid = platform_role_guid(naming, "data-scientist")
    custom_role(
        "data-scientist-role",
        guid=guid,
        group_id=group.id,
        role_name=f"{naming.name('resource_group')} data scientist",
        description="Runs jobs and uses the existing compute of the environment's Azure ML workspaces; cannot create, "
        "change or delete compute, nor change or delete a workspace. Created by bootstrap/.",
        actions=list(DATA_SCIENTIST_ACTIONS),
        not_actions=list(DATA_SCIENTIST_NOT_ACTIONS),
    )
    data_scientist_role_id = guid  # known before the role exists: the GUID is ours
    if platform.data_scientist_role_id is not None and platform.data_scientist_role_id.lower() != guid:
        raise ConfigError(
            f"{platform_file.name}: aiinfra:platform.dataScientistRoleId is "
            f"{platform.data_scientist_role_id}, but bootstrap defines the role as {guid}; set it to "
            f"{guid} (`pulumi stack output dataScientistRoleId`)"
        )
# The deployer may assign the built-in roles the components grant and bootstrap's own custom roles: an allow-list.
custom_role_ids = [data_scientist_role_id] if data_scientist_role_id else []
deployer = DeployerIdentity(
    "deployer",
    DeployerIdentityArgs(
        naming=naming,
        resource_group_id=group.id,
        **{**dict(settings), "assignable_role_ids": [*settings.assignable_role_ids, *custom_role_ids]},
    ),
)

# Encryption at host (every AKS pool by default; a Batch pool with batch.encryptionAtHost) needs the subscription
# feature Microsoft.Compute/EncryptionAtHost (Microsoft Learn, "Use the Azure CLI to enable end-to-end encryption using
# encryption at host", Prerequisites): registered here, by an administrator, because the pipeline deployer may not
# register features. Registration is asynchronous (state Registering -> Registered, often minutes; the export below):
# the platform's `pulumi up` fails on the first pool until it is Registered. Then re-register the provider once,
# `az provider register -n Microsoft.Compute`, which propagates a registered feature to it (Learn, "Set up preview
# features in Azure subscription": after a feature is registered, run `az provider register` to propagate the change;
# `az feature register` prints the same). azure-native has no resource for a provider registration, so that step is
# the administrator's (README, "Register the resource providers"). Kept on destroy: other workloads of the subscription
# may rely on it.
if any(compute is not None and compute.encryption_at_host for compute in (platform.aks, platform.batch)):
    encryption_at_host = features.SubscriptionFeatureRegistration(
        "encryption-at-host",
        provider_namespace="Microsoft.Compute",
        feature_name="EncryptionAtHost",
        properties=features.SubscriptionFeatureRegistrationPropertiesArgs(),
        opts=pulumi.ResourceOptions(retain_on_delete=True),
    )
    pulumi.export(
        "encryptionAtHostFeatureState",
        encryption_at_host.properties.apply(lambda p: (p.state if p else None) or "Registering"),
    )

subscription_id = authorization.get_client_config_output().subscription_id
# Operations (issue 20): what only the administrator may create. Policy assignments on the group (the deployer can
# neither assign nor exempt policy) and the cost anomaly alert (a subscription-scope scheduled action).
if platform.policy_guardrails is not None:
    PolicyGuardrails(
        "guardrails",
        PolicyGuardrailsArgs(
            naming=naming, resource_group_id=group.id, assignments=platform.policy_guardrails.assignments
        ),
    )
# The deployer may grant the data roles on each datastore's container (outside its group), and only those.
delegate_datastore_access(
    deployer,
    "deployer",
    naming=naming,
    principal_id=deployer.deploy_principal_id,
    stores=[(w.name, d) for w in platform.workspaces for d in w.datastores],
)
if platform.monitoring is not None and platform.monitoring.cost_anomaly_alert:
    CostAnomalyAlert(
        "cost-anomaly",
        CostAnomalyAlertArgs(naming=naming, subscription_id=subscription_id, emails=platform.monitoring.emails),
    )
key = platform.environment.upper()
pulumi.export("resourceGroupName", group.name)
pulumi.export("resourceGroupId", group.id)
pulumi.export("deployClientId", deployer.deploy_client_id)
pulumi.export("previewClientId", deployer.preview_client_id)
pulumi.export("tenantId", deployer.tenant_id)
pulumi.export("subscriptionId", subscription_id)
# What the platform stack file sets as aiinfra:platform.dataScientistRoleId (None: the platform has no workspaces).
pulumi.export("dataScientistRoleId", data_scientist_role_id)
# What .github/workflows/infra.yml reads: variables of the GitHub environment, and of the repository.
pulumi.export(
    "githubEnvironmentVariables",
    {
        "AZURE_CLIENT_ID": deployer.deploy_client_id,
        "AZURE_TENANT_ID": deployer.tenant_id,
        "AZURE_SUBSCRIPTION_ID": subscription_id,
    },
)
pulumi.export(
    "githubRepositoryVariables",
    {
        f"AZURE_PREVIEW_CLIENT_ID_{key}": deployer.preview_client_id,
        f"AZURE_SUBSCRIPTION_ID_{key}": subscription_id,
        "AZURE_TENANT_ID": deployer.tenant_id,
    },
)
