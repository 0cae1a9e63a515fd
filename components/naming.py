"""Azure physical names: one helper that knows each service's length and charset rules.

Names are deterministic (same convention + same parts -> same name, every run) and readable:
`<abbreviation>-<prefix>-<environment>-<workload>-<region>` where the service allows hyphens, and a
short hash suffix where the name must be globally unique (storage, Key Vault, ACR, Batch) or is kept by soft delete
(Azure ML workspaces).
Rules follow Microsoft's "Naming rules and restrictions for Azure resources" and the Cloud Adoption
Framework abbreviations.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from pydantic import Field, field_validator

from ._base import ArgsModel


@dataclass(frozen=True)
class NameRule:
    abbreviation: str
    min_length: int
    max_length: int
    hyphens: bool
    lowercase: bool
    globally_unique: bool
    underscores: bool = False
    kept_after_delete: bool = False
    """Soft delete keeps the name taken after deletion (an Azure ML workspace: 14 days in its resource group), so it
    gets the hash suffix like a globally unique name: a new `unique_seed` then gives a name that is free."""


RULES: dict[str, NameRule] = {
    "resource_group": NameRule("rg", 1, 90, True, False, False, underscores=True),
    "virtual_network": NameRule("vnet", 2, 64, True, False, False, underscores=True),
    "subnet": NameRule("snet", 1, 80, True, False, False, underscores=True),
    "network_security_group": NameRule("nsg", 1, 80, True, False, False, underscores=True),
    "private_endpoint": NameRule("pe", 2, 64, True, False, False, underscores=True),
    "key_vault": NameRule("kv", 3, 24, True, True, True),
    "key": NameRule("cmk", 1, 127, True, False, False),
    "storage_account": NameRule("st", 3, 24, False, True, True),
    "container_registry": NameRule("cr", 5, 50, False, True, True),
    "log_analytics": NameRule("log", 4, 63, True, False, False),
    "application_insights": NameRule("appi", 1, 255, True, False, False, underscores=True),
    "user_assigned_identity": NameRule("id", 3, 128, True, False, False, underscores=True),
    # Learn, "Workspace soft deletion": a soft-deleted workspace keeps its name for 14 days.
    "machine_learning_workspace": NameRule("mlw", 3, 33, True, False, False, underscores=True, kept_after_delete=True),
    "machine_learning_compute": NameRule("gpu", 3, 24, True, False, False),
    "kubernetes_cluster": NameRule("aks", 1, 63, True, False, False, underscores=True),
    "kubernetes_node_pool": NameRule("np", 1, 12, False, True, False),
    "disk_encryption_set": NameRule("des", 1, 80, True, False, False, underscores=True),
    "data_collection_rule": NameRule("dcr", 1, 64, True, False, False, underscores=True),
    "batch_account": NameRule("ba", 3, 24, False, True, True),
    "batch_pool": NameRule("pool", 1, 64, True, False, False, underscores=True),
    "container_apps_environment": NameRule("cae", 2, 60, True, True, False),
    "container_app": NameRule("ca", 2, 32, True, True, False),
    "budget": NameRule("budget", 1, 63, True, False, False, underscores=True),
    "monitor_private_link_scope": NameRule("ampls", 1, 255, True, False, False, underscores=True),
    "entra_application": NameRule("app", 1, 120, True, False, False, underscores=True),
    # Operations (issue 20): Azure Monitor action groups and alert rules (Learn, "Naming rules and restrictions
    # for Azure resources", Microsoft.Insights: actionGroups 1-260, metricAlerts / scheduledQueryRules 1-260).
    "action_group": NameRule("ag", 1, 260, True, False, False, underscores=True),
    "alert_rule": NameRule("alert", 1, 260, True, False, False, underscores=True),
    "policy_assignment": NameRule("pa", 1, 64, True, False, False),
    # Microsoft.CognitiveServices/accounts: 2-64 letters, digits, '-' (Learn, "Naming rules and restrictions for Azure
    # resources"); the name is also the custom subdomain (<name>.openai.azure.com), so lowercase and globally unique.
    "openai_account": NameRule("oai", 2, 64, True, True, True),
    "ai_services_account": NameRule("ais", 2, 64, True, True, True),
    # accounts/raiPolicies: letters, digits, '-', '_' (REST API spec, RaiPolicy name pattern).
    "rai_policy": NameRule("cf", 2, 64, True, False, False, underscores=True),
}

# Short region codes keep names inside the tight limits (KV 24, workspace 33).
REGION_CODES = {
    "eastus": "eus",
    "eastus2": "eus2",
    "westus": "wus",
    "westus2": "wus2",
    "westus3": "wus3",
    "centralus": "cus",
    "southcentralus": "scus",
    "northcentralus": "ncus",
    "westcentralus": "wcus",
    "northeurope": "neu",
    "westeurope": "weu",
    "swedencentral": "sdc",
    "uksouth": "uks",
    "francecentral": "frc",
    "germanywestcentral": "gwc",
    "switzerlandnorth": "szn",
    "norwayeast": "noe",
    "australiaeast": "aue",
    "japaneast": "jpe",
    "koreacentral": "krc",
    "southeastasia": "sea",
    "canadacentral": "cac",
    "brazilsouth": "brs",
    "centralindia": "inc",
    "italynorth": "itn",
    "polandcentral": "plc",
    "spaincentral": "spc",
    "uaenorth": "uan",
    "southafricanorth": "san",
}


class NamingError(ValueError):
    """A name cannot satisfy its service's rules."""


def region_code(location: str) -> str:
    return REGION_CODES.get(location.lower(), re.sub(r"[^a-z0-9]", "", location.lower())[:6])


class NamingConvention(ArgsModel):
    """How every Azure name in an environment is built."""

    prefix: str = Field(min_length=2, max_length=10, pattern=r"^[a-z][a-z0-9]*$")
    """Short organisation/product prefix, lowercase letters and digits (e.g. `aiinfra`, `contoso`)."""
    environment: str = Field(min_length=2, max_length=6, pattern=r"^[a-z][a-z0-9]*$")
    """Environment code (e.g. `dev`, `test`, `prd`)."""
    location: str = Field(min_length=3)
    """Azure region the environment lives in (e.g. `westus3`)."""
    unique_seed: str = ""
    """Input to the hash suffix of globally unique names (storage, Key Vault, ACR, Batch) and of names soft delete
    keeps (Azure ML workspaces). Set it to something unique to your subscription and stack (aiinfra's stacks use
    `<subscription id>|<project>|<stack>`), and change it to re-create an environment while soft delete still holds
    the old names (Key Vault: 90 days with purge protection)."""

    @field_validator("location")
    @classmethod
    def _lower_location(cls, value: str) -> str:
        return value.lower().replace(" ", "")

    def suffix(self, *parts: str, length: int = 5) -> str:
        """Short hash of the convention and parts: stable across runs, different across environments."""
        text = "|".join([self.prefix, self.environment, self.location, self.unique_seed, *parts])
        return hashlib.sha256(text.encode()).hexdigest()[:length]

    def name(self, service: str, *parts: str) -> str:
        """The Azure name of a `service` resource for the given workload parts (e.g. `name("key_vault")`)."""
        rule = RULES.get(service)
        if rule is None:
            raise NamingError(f"no naming rule for service '{service}'; known: {', '.join(sorted(RULES))}")
        segments = [rule.abbreviation, self.prefix, self.environment, *parts, region_code(self.location)]
        if rule.globally_unique or rule.kept_after_delete:
            segments.append(self.suffix(service, *parts))
        return fit(rule, segments, service)


def _clean(segment: str, rule: NameRule) -> str:
    allowed = "a-zA-Z0-9" + ("-" if rule.hyphens else "") + ("_" if rule.underscores else "")
    text = re.sub(f"[^{allowed}]", "", segment)
    return text.lower() if rule.lowercase else text


def fit(rule: NameRule, segments: list[str], service: str) -> str:
    """Join, sanitize and shorten segments to the rule; shorten the middle, keep the hash suffix."""
    joiner = "-" if rule.hyphens else ""
    cleaned = [c for c in (_clean(s, rule) for s in segments) if c]
    name = joiner.join(cleaned)
    if len(name) > rule.max_length:
        # Drop the region code first, then trim the longest workload segment; hash keeps it unique.
        tail = cleaned[-1:] if (rule.globally_unique or rule.kept_after_delete) else []
        body = cleaned[: len(cleaned) - len(tail)]
        if len(body) > 3:
            body = body[:-1]  # region code
        digest = hashlib.sha256("|".join(segments).encode()).hexdigest()[:4]
        while len(joiner.join(body + tail)) > rule.max_length and body:
            longest = max(range(len(body)), key=lambda i: len(body[i]))
            if len(body[longest]) <= 2:
                body.pop(longest)
            else:
                body[longest] = body[longest][:-1]
        if not tail:
            tail = [digest]
            while len(joiner.join(body + tail)) > rule.max_length and body:
                body[-1] = body[-1][:-1] or body.pop()
        name = joiner.join(b for b in body + tail if b)
    if rule.hyphens:
        name = re.sub("-{2,}", "-", name).strip("-")
    if not re.match(r"^[a-zA-Z]", name):
        name = rule.abbreviation[:1] + name
    validate(service, name)
    return name


def validate(service: str, name: str) -> str:
    """Raise NamingError if `name` breaks the service's rules; return it otherwise."""
    rule = RULES[service]
    if not rule.min_length <= len(name) <= rule.max_length:
        raise NamingError(f"{service} name '{name}' must be {rule.min_length}-{rule.max_length} characters")
    allowed = "a-z0-9" if rule.lowercase else "a-zA-Z0-9"
    allowed += ("\\-" if rule.hyphens else "") + ("_" if rule.underscores else "")
    if not re.fullmatch(f"[{allowed}]+", name):
        raise NamingError(f"{service} name '{name}' may only contain [{allowed.replace(chr(92), '')}]")
    if not name[0].isalpha():
        raise NamingError(f"{service} name '{name}' must start with a letter")
    if rule.hyphens and (name.endswith("-") or "--" in name):
        raise NamingError(f"{service} name '{name}' must not end with or repeat '-'")
    return name
