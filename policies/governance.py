"""Governance: every cost-bearing resource carries the tags cost reports and owners are found by."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from ._props import (AKS_AGENT_POOL, AKS_CLUSTER, BATCH_ACCOUNT, COGNITIVE_ACCOUNT, CONTAINER_APP, CONTAINER_APPS_ENV,
                     CONTAINER_REGISTRY, KEY_VAULT, ML_COMPUTE, ML_WORKSPACE, STORAGE_ACCOUNT, mapping)
from ._rule import Resource, Rule

CONCERN = "governance"

TAGGED_TYPES: tuple[str, ...] = (
    "azure-native:resources:ResourceGroup",
    ML_WORKSPACE, ML_COMPUTE, STORAGE_ACCOUNT, KEY_VAULT, CONTAINER_REGISTRY, AKS_CLUSTER, AKS_AGENT_POOL,
    BATCH_ACCOUNT, CONTAINER_APPS_ENV, CONTAINER_APP, COGNITIVE_ACCOUNT,
    "azure-native:network:VirtualNetwork",
    "azure-native:operationalinsights:Workspace",
)


def check_required_tags(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    tags = mapping(resource.props.get("tags"))
    present = {str(key).lower() for key, value in tags.items() if isinstance(value, str) and value.strip()}
    missing = [str(tag) for tag in config["requiredTags"] if str(tag).lower() not in present]
    if missing:
        yield f"missing or empty tag(s): {', '.join(missing)}."


RULES = [
    Rule(
        name="required-tags",
        concern=CONCERN,
        summary="Cost-bearing resources must carry the requiredTags (tag names compare case-insensitively, as in "
                "Azure), so spend can be attributed.",
        fix="Add the missing tags with non-empty values (pass one tags dict to every resource of the environment).",
        severity=Severity.LOW,
        default_level=EnforcementLevel.ADVISORY,
        sources=("Azure Policy: Require a tag on resources",),
        resource_types=TAGGED_TYPES,
        config={"requiredTags": {"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": True,
                                 "default": ["environment", "owner", "costCenter"],
                                 "description": "Tag names every tagged resource must carry."}},
        check=check_required_tags,
    ),
]
