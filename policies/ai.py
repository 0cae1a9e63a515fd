"""Azure OpenAI / Cognitive Services accounts: outbound (data-exfiltration) control.

`properties.restrictOutboundNetworkAccess` is false when unset (API 2025-06-01), and when it is true only the FQDNs in
`properties.allowedFqdnList` are reachable, so an empty list blocks every outbound call the service makes
(Learn: Configure data loss prevention for Azure AI services).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from ._props import COGNITIVE_ACCOUNT, get, is_true, items, text
from ._rule import Resource, Rule


def check_outbound(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    restricted = get(resource.props, "properties", "restrictOutboundNetworkAccess")
    if not is_true(restricted):
        default = " (Azure's default: unrestricted)" if restricted is None else ""
        yield (
            f"properties.restrictOutboundNetworkAccess is {text(restricted)}{default}; set "
            "properties={'restrict_outbound_network_access': True, 'allowed_fqdn_list': [...]} so the account "
            "can only call the endpoints you list."
        )
        return
    fqdns = [f for f in items(get(resource.props, "properties", "allowedFqdnList")) if isinstance(f, str) and f]
    if not fqdns:
        yield (
            "properties.allowedFqdnList is empty while outbound access is restricted; list the FQDNs the account "
            "must reach (e.g. your storage account's blob endpoint) in allowed_fqdn_list."
        )


RULES = [
    Rule(
        name="cognitive-outbound-restricted",
        concern="network",
        summary="Azure OpenAI / Cognitive Services accounts must restrict outbound network access to a non-empty "
        "FQDN allow-list (data loss prevention).",
        fix="cognitiveservices.Account(properties={'restrict_outbound_network_access': True, 'allowed_fqdn_list': "
        "['<storage>.blob.core.windows.net', ...]}) (ARM: properties.restrictOutboundNetworkAccess, "
        "properties.allowedFqdnList).",
        severity=Severity.MEDIUM,
        default_level=EnforcementLevel.MANDATORY,
        sources=(
            "Checkov CKV_AZURE_247",
            "Learn: Configure data loss prevention for Azure AI services (learn.microsoft.com/azure/ai-services/"
            "cognitive-services-data-loss-prevention)",
        ),
        resource_types=(COGNITIVE_ACCOUNT,),
        check=check_outbound,
    ),
]
