"""Azure OpenAI: every model deployment is filtered by a custom content filter (RAI policy) that blocks harmful
prompts and completions.

Key auth (`local-auth-disabled`), public access (`public-network-access-disabled`), CMK (`cmk-cognitive-services`) and
private endpoints (`private-endpoint-required`) are judged for every Cognitive Services account by the general rules;
this module adds what is specific to OpenAI deployments. Sources: Microsoft Learn, "Content filtering" (harm
categories, severity levels, prompt vs completion filtering) and "How to configure content filters" (a deployment
without `raiPolicyName` gets Microsoft.DefaultV2; a custom policy is an account's `raiPolicies` child);
azure-rest-api-specs, Microsoft.CognitiveServices RaiPolicy (`mode`, `contentFilters[].source/blocking/enabled`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyResource, Severity

from aiinfra.catalog.openai_models import CATALOGUE, deployment_problems

from ._props import COGNITIVE_ACCOUNT, canonical_type, get, is_true, items, same, text
from ._rule import UNKNOWN, Rule, known

CONCERN = "governance"
DEPLOYABILITY = "deployability"
OPENAI_DEPLOYMENT = "azure-native:cognitiveservices:Deployment"
RAI_POLICY = "azure-native:cognitiveservices:RaiPolicy"
HARM_CATEGORIES = ("Hate", "Sexual", "Violence", "Selfharm")
SOURCES = ("Prompt", "Completion")
_SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2}
_NON_BLOCKING_MODES = ("deferred", "asynchronous_filter")


def _policy_problems(policy: PolicyResource, loosest: str) -> list[str]:
    """Why a custom RAI policy does not block harmful prompts and completions at `loosest` severity or stricter."""
    props = known(lambda: policy.props.get("properties"))
    if props is UNKNOWN:
        return []
    problems = []
    mode = get(props, "mode")
    if any(same(mode, m) for m in _NON_BLOCKING_MODES):
        problems.append(f"mode is {text(mode)}: completions stream out before they are filtered; use 'Default'")
    filters = [f for f in items(get(props, "contentFilters")) if isinstance(f, Mapping)]
    limit = _SEVERITY_RANK[loosest.lower()]
    for category in HARM_CATEGORIES:
        for source in SOURCES:
            entry = next((f for f in filters if same(f.get("name"), category) and same(f.get("source"), source)), None)
            if entry is None:
                problems.append(f"no {category} filter on {source.lower()}s")
                continue
            if not (is_true(entry.get("enabled")) and is_true(entry.get("blocking"))):
                problems.append(f"the {category} filter on {source.lower()}s is not enabled and blocking")
            threshold = str(entry.get("severityThreshold") or "").lower()
            if _SEVERITY_RANK.get(threshold, 99) > limit:
                problems.append(
                    f"the {category} filter on {source.lower()}s blocks at "
                    f"{text(entry.get('severityThreshold'))}, looser than {loosest}"
                )
    return problems


def _policy_for(deployment: PolicyResource, name: Any, policies: list[PolicyResource]) -> PolicyResource | None:
    """The stack's RAI policy the deployment names (by name and account), or the one its properties depend on."""
    if name is not UNKNOWN:
        account = known(lambda: deployment.props.get("accountName"))
        for policy in policies:
            if known(lambda p=policy: p.props.get("raiPolicyName")) == name:
                owner = known(lambda p=policy: p.props.get("accountName"))
                if account in (UNKNOWN, None) or owner in (UNKNOWN, None) or owner == account:
                    return policy
        return None
    wired = {r.urn for r in (deployment.property_dependencies or {}).get("properties", [])}
    return next((p for p in policies if p.urn in wired), None)


def check_content_filter(
    resources: list[PolicyResource], config: Mapping[str, Any], exempt: Callable[[PolicyResource], bool]
) -> Iterator[tuple[str, str | None]]:
    policies = [r for r in resources if canonical_type(r.resource_type) == RAI_POLICY]
    loosest = str(config.get("loosestSeverityThreshold") or "Medium")
    for deployment in resources:
        if canonical_type(deployment.resource_type) != OPENAI_DEPLOYMENT or exempt(deployment):
            continue
        name = known(lambda d=deployment: get(d.props.get("properties"), "raiPolicyName"))
        if name is None:
            yield (
                "properties.raiPolicyName is not set, so Azure applies its default content filter; point it at "
                "a custom RAI policy that blocks prompts and completions.",
                deployment.urn,
            )
            continue
        if name is not UNKNOWN and str(name).lower().startswith("microsoft."):
            yield (
                f"properties.raiPolicyName is the built-in '{name}'; point it at a custom RAI policy of the "
                "account whose thresholds you own.",
                deployment.urn,
            )
            continue
        policy = _policy_for(deployment, name, policies)
        if policy is None:
            if name is UNKNOWN or config.get("allowPoliciesOutsideStack"):
                continue
            yield (
                f"properties.raiPolicyName '{name}' is not a RAI policy in this stack, so its filters cannot be "
                "checked; create it with the deployment (cognitiveservices.RaiPolicy) or set "
                "allowPoliciesOutsideStack.",
                deployment.urn,
            )
            continue
        problems = _policy_problems(policy, loosest)
        if problems:
            yield (
                f"its content filter '{policy.name}' does not block harmful prompts and completions: "
                f"{'; '.join(problems)}.",
                deployment.urn,
            )


def _account_of(deployment: PolicyResource, accounts: list[PolicyResource]) -> PolicyResource | None:
    """The stack's account a deployment belongs to: by Azure name (and group), else through the program's wiring."""
    name = known(lambda: deployment.props.get("accountName"))
    group = known(lambda: deployment.props.get("resourceGroupName"))
    if name not in (UNKNOWN, None):
        for account in accounts:
            if known(lambda a=account: a.props.get("accountName")) == name and group in (
                UNKNOWN,
                None,
                known(lambda a=account: a.props.get("resourceGroupName")),
            ):
                return account
    wired = {r.urn for r in (deployment.property_dependencies or {}).get("accountName", [])}
    return next((a for a in accounts if a.urn in wired), None)


def _account_key(deployment: PolicyResource, accounts: list[PolicyResource]) -> str | None:
    account = _account_of(deployment, accounts)
    if account is not None:
        return account.urn
    name = known(lambda: deployment.props.get("accountName"))
    group = known(lambda: deployment.props.get("resourceGroupName"))
    return None if UNKNOWN in (name, group) or name is None else f"{group}/{name}"


def _depends_on(resource: PolicyResource, other: PolicyResource) -> bool:
    """Does `resource` wait for `other`, directly or through its dependencies or parent chain?"""
    seen: set[str] = set()
    todo = [resource]
    while todo:
        current = todo.pop()
        for dep in [
            *current.dependencies,
            *(r for deps in (current.property_dependencies or {}).values() for r in deps),
        ]:
            if dep.urn == other.urn:
                return True
            if dep.urn not in seen:
                seen.add(dep.urn)
                todo.append(dep)
    return False


def check_deployments_serialized(
    resources: list[PolicyResource], _config: Mapping[str, Any], exempt: Callable[[PolicyResource], bool]
) -> Iterator[tuple[str, str | None]]:
    accounts = [r for r in resources if canonical_type(r.resource_type) == COGNITIVE_ACCOUNT]
    by_account: dict[str, list[PolicyResource]] = {}
    for deployment in resources:
        if canonical_type(deployment.resource_type) == OPENAI_DEPLOYMENT:
            key = _account_key(deployment, accounts)
            if key is not None:
                by_account.setdefault(key, []).append(deployment)
    for deployments in by_account.values():
        for i, later in enumerate(deployments):
            if exempt(later):
                continue
            concurrent = [d.name for d in deployments[:i] if not (_depends_on(later, d) or _depends_on(d, later))]
            if concurrent:
                yield (
                    f"it is created at the same time as {', '.join(concurrent)} on the same account; Azure rejects "
                    "concurrent writes under one account (409 RequestConflict: another operation is being "
                    "performed on the parent resource): make each deployment depend on the previous one.",
                    later.urn,
                )


def _deployment_fields(deployment: PolicyResource) -> tuple[str, str, str, int] | None:
    """(model name, version, deployment type, capacity) of a deployment; None when a part is absent."""
    model = get(deployment.props.get("properties"), "model")
    sku = deployment.props.get("sku")
    if not isinstance(model, Mapping) or not isinstance(sku, Mapping):
        return None
    name, version, sku_name = model.get("name"), model.get("version"), sku.get("name")
    if not (isinstance(name, str) and isinstance(version, str) and isinstance(sku_name, str)):
        return None
    capacity = sku.get("capacity")
    return name, version, sku_name, int(capacity) if isinstance(capacity, (int, float)) else 1


def check_deployment_offered(
    resources: list[PolicyResource], _config: Mapping[str, Any], exempt: Callable[[PolicyResource], bool]
) -> Iterator[tuple[str, str | None]]:
    accounts = [r for r in resources if canonical_type(r.resource_type) == COGNITIVE_ACCOUNT]
    for deployment in resources:
        if canonical_type(deployment.resource_type) != OPENAI_DEPLOYMENT or exempt(deployment):
            continue
        fields = known(lambda d=deployment: _deployment_fields(d))
        if fields is UNKNOWN or fields is None:
            continue
        name, version, sku_name, capacity = fields
        if f"{name} {version}" not in CATALOGUE:
            continue  # a model the catalogue does not know: nothing to judge it by
        account = _account_of(deployment, accounts)
        location = known(lambda a=account: a.props.get("location")) if account is not None else None
        # Without the account's region (not in the stack, or unknown), judge what does not depend on it.
        problems = deployment_problems(
            name, version, sku_name, capacity, location if isinstance(location, str) else None
        )
        for problem in problems:
            yield f"{problem}.", deployment.urn


RULES = [
    Rule(
        name="openai-deployment-content-filter",
        concern=CONCERN,
        summary="Every Azure OpenAI model deployment must use a custom content filter (RAI policy, not a "
        "Microsoft.* built-in) that blocks hate, sexual, violence and self-harm content on both prompts and "
        "completions at the configured severity or stricter, filtering before anything is returned.",
        fix="Create a cognitiveservices.RaiPolicy on the account (mode 'Default', contentFilters for Hate, Sexual, "
        "Violence, Selfharm with source Prompt and Completion, enabled and blocking, severityThreshold Low or "
        "Medium) and set each Deployment's properties.raiPolicyName (rai_policy_name) to its name.",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.MANDATORY,
        sources=(
            "Microsoft Learn: Content filtering; How to configure content filters (Azure OpenAI)",
            "azure-rest-api-specs: Microsoft.CognitiveServices accounts/raiPolicies",
        ),
        config={
            "loosestSeverityThreshold": {
                "type": "string",
                "enum": ["Low", "Medium", "High"],
                "default": "Medium",
                "description": "The loosest severityThreshold accepted (Low blocks the most, High the least).",
            },
            "allowPoliciesOutsideStack": {
                "type": "boolean",
                "default": False,
                "description": "Accept a raiPolicyName that names a custom policy created outside this stack "
                "(its filters are then not checked).",
            },
        },
        stack_check=check_content_filter,
    ),
    Rule(
        name="openai-deployments-serialized",
        concern=DEPLOYABILITY,
        summary="Model deployments of one Cognitive Services / Azure OpenAI account must be created one after "
        "another: Azure rejects concurrent writes under one account with 409 RequestConflict.",
        fix="Make each Deployment depend on the previous one of the same account (ResourceOptions depends_on), as "
        "AVM does with @batchSize(1).",
        severity=Severity.MEDIUM,
        default_level=EnforcementLevel.ADVISORY,
        sources=(
            "AVM avm/res/cognitive-services/account (deployments with @batchSize(1))",
            "GitHub hashicorp/terraform-provider-azurerm#22607; Azure/azure-dev#9398",
        ),
        stack_check=check_deployments_serialized,
    ),
    Rule(
        name="openai-deployment-offered",
        concern=DEPLOYABILITY,
        summary="An Azure OpenAI deployment of a catalogued model must use a deployment type the model is offered "
        "as, in a region that offers it, and a provisioned size on the model's PTU minimum and increment.",
        fix="In Python: `sku=cognitiveservices.SkuArgs(name=..., capacity=...)` (ARM sku.name, sku.capacity). "
        "Pick a deployment type and region from aiinfra/catalog/openai_models.py (Learn: model summary table and "
        "region availability), or size provisioned deployments at the minimum plus whole increments.",
        severity=Severity.MEDIUM,
        default_level=EnforcementLevel.ADVISORY,
        sources=("Microsoft Learn: Azure OpenAI models - region availability; What is provisioned throughput?",),
        stack_check=check_deployment_offered,
    ),
]
