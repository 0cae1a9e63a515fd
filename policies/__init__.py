"""aiinfra's CrossGuard rules, grouped by concern. Imports nothing of aiinfra's components: the pack judges any
program's azure-native resources, ours or a stranger's.

`RULES` is the single list the pack, the docs table and the tests read.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Policy

from . import (
    ai,
    ai_openai,
    aks,
    compute_cost,
    deployability_aks,
    deployability_apps,
    deployability_ml,
    deployability_ml2,
    encryption,
    governance,
    identity,
    keys,
    ml,
    network,
    operations,
    stack,
)
from ._rule import Resource, Rule

PACK_NAME = "aiinfra"
PACK_DESCRIPTION = (
    "Guardrails for Azure AI/GPU infrastructure: private networking, customer-managed keys, "
    "Entra ID-only access, AKS/AML/Batch/Key Vault/OpenAI baselines and GPU cost controls."
)

RULES: list[Rule] = [
    *network.RULES,
    *encryption.RULES,
    *compute_cost.RULES,
    *identity.RULES,
    *governance.RULES,
    *operations.RULES,
    *stack.RULES,
    *aks.RULES,
    *ml.RULES,
    *keys.RULES,
    *ai.RULES,
    *deployability_apps.RULES,
    *ai_openai.RULES,
    *deployability_aks.RULES,
    *deployability_ml.RULES,
    *deployability_ml2.RULES,
]


def rule(name: str) -> Rule:
    for candidate in RULES:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no policy named '{name}'")


def policies() -> list[Policy]:
    return [r.policy() for r in RULES]


__all__ = ["PACK_DESCRIPTION", "PACK_NAME", "RULES", "EnforcementLevel", "Resource", "Rule", "policies", "rule"]
