"""The Azure OpenAI models aiinfra deploys: versions, the deployment types (SKUs) each is offered as, and where.

One catalogue for the AiServices component (which refuses a model, version, SKU or region it does not list), the
cost estimate (which reads the model and SKU of a deployment) and the policy pack. It is a snapshot — extend it when
Microsoft adds a model or region, with the source.

Sources (read 2026-11-30):
- Microsoft Learn, "Azure OpenAI in Azure AI Foundry Models" — model summary table and region availability
  (https://learn.microsoft.com/azure/ai-foundry/openai/concepts/models), per deployment type;
- Microsoft Learn, "Deployment types" (https://learn.microsoft.com/azure/ai-foundry/openai/how-to/deployment-types):
  Standard (regional), GlobalStandard, DataZoneStandard, ProvisionedManaged (regional), GlobalProvisionedManaged,
  DataZoneProvisionedManaged; Standard-type capacity counts units of 1,000 tokens per minute;
- Microsoft Learn, "What is provisioned throughput?"
  (https://learn.microsoft.com/azure/ai-foundry/openai/concepts/provisioned-throughput): minimum PTUs per deployment
  and the increment a deployment grows by, per model and deployment type;
- Microsoft Learn, "Azure OpenAI model deprecations and retirements" (concepts/model-retirements): retired versions
  cannot be deployed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

DeploymentSku = Literal[
    "Standard",
    "GlobalStandard",
    "DataZoneStandard",
    "ProvisionedManaged",
    "GlobalProvisionedManaged",
    "DataZoneProvisionedManaged",
]
DEPLOYMENT_SKUS: tuple[str, ...] = (
    "Standard",
    "GlobalStandard",
    "DataZoneStandard",
    "ProvisionedManaged",
    "GlobalProvisionedManaged",
    "DataZoneProvisionedManaged",
)
PROVISIONED_SKUS: frozenset[str] = frozenset(s for s in DEPLOYMENT_SKUS if s.endswith("ProvisionedManaged"))

CATALOGUE_SOURCE = (
    "Microsoft Learn, 'Azure OpenAI in Azure AI Foundry Models' (model summary table and region "
    "availability) and 'What is provisioned throughput?', read 2026-11-30"
)

# Regions of the two data zones (Learn, "Deployment types": data zone deployments process data inside the zone).
_US = frozenset({"centralus", "eastus", "eastus2", "northcentralus", "southcentralus", "westus", "westus3"})
_EU = frozenset(
    {
        "francecentral",
        "germanywestcentral",
        "italynorth",
        "polandcentral",
        "spaincentral",
        "swedencentral",
        "westeurope",
    }
)
_GLOBAL = frozenset(
    {
        "australiaeast",
        "brazilsouth",
        "canadacentral",
        "canadaeast",
        "eastus",
        "eastus2",
        "francecentral",
        "germanywestcentral",
        "italynorth",
        "japaneast",
        "koreacentral",
        "northcentralus",
        "norwayeast",
        "polandcentral",
        "southafricanorth",
        "southcentralus",
        "southeastasia",
        "southindia",
        "spaincentral",
        "swedencentral",
        "switzerlandnorth",
        "uaenorth",
        "uksouth",
        "westeurope",
        "westus",
        "westus3",
    }
)
_PTU_REGIONAL = frozenset(
    {
        "australiaeast",
        "brazilsouth",
        "canadacentral",
        "canadaeast",
        "eastus",
        "eastus2",
        "francecentral",
        "germanywestcentral",
        "japaneast",
        "koreacentral",
        "northcentralus",
        "norwayeast",
        "polandcentral",
        "southafricanorth",
        "southcentralus",
        "southindia",
        "swedencentral",
        "switzerlandnorth",
        "uksouth",
        "westus",
        "westus3",
    }
)


@dataclass(frozen=True)
class Provisioned:
    """Sizing rules of a provisioned deployment: at least `minimum` PTUs, grown in steps of `increment`."""

    minimum: int
    increment: int


@dataclass(frozen=True)
class OpenAiModel:
    name: str
    version: str
    kind: Literal["chat", "embeddings"]
    regions: Mapping[str, frozenset[str]]
    """Deployment type (SKU) -> regions offering this model version as that type."""
    provisioned: Mapping[str, Provisioned] = field(default_factory=dict)
    """Provisioned deployment type -> its PTU sizing rules."""

    @property
    def key(self) -> str:
        return f"{self.name} {self.version}"


def _ptu(global_min: int, global_step: int, regional_min: int, regional_step: int) -> dict[str, Provisioned]:
    return {
        "GlobalProvisionedManaged": Provisioned(global_min, global_step),
        "DataZoneProvisionedManaged": Provisioned(global_min, global_step),
        "ProvisionedManaged": Provisioned(regional_min, regional_step),
    }


def _chat(name: str, version: str, standard: frozenset[str], ptu: dict[str, Provisioned]) -> OpenAiModel:
    return OpenAiModel(
        name,
        version,
        "chat",
        {
            "Standard": standard,
            "GlobalStandard": _GLOBAL,
            "DataZoneStandard": _US | _EU,
            "ProvisionedManaged": _PTU_REGIONAL,
            "GlobalProvisionedManaged": _GLOBAL,
            "DataZoneProvisionedManaged": _US | _EU,
        },
        ptu,
    )


def _embeddings(name: str, version: str, standard: frozenset[str]) -> OpenAiModel:
    # Embedding models are offered pay-per-token only (no provisioned deployment types).
    return OpenAiModel(name, version, "embeddings", {"Standard": standard, "GlobalStandard": _GLOBAL})


CATALOGUE: dict[str, OpenAiModel] = {
    m.key: m
    for m in (
        _chat("gpt-4.1", "2025-04-14", frozenset({"eastus2", "swedencentral"}), _ptu(15, 5, 50, 50)),
        _chat("gpt-4.1-mini", "2025-04-14", frozenset({"eastus2", "swedencentral"}), _ptu(15, 5, 25, 25)),
        _chat(
            "gpt-4o",
            "2024-11-20",
            frozenset({"eastus", "eastus2", "northcentralus", "southcentralus", "swedencentral", "westus", "westus3"}),
            _ptu(15, 5, 50, 50),
        ),
        _chat(
            "gpt-4o-mini",
            "2024-07-18",
            frozenset({"eastus", "northcentralus", "swedencentral", "westus3"}),
            _ptu(15, 5, 25, 25),
        ),
        _embeddings(
            "text-embedding-3-large",
            "1",
            frozenset(
                {
                    "australiaeast",
                    "canadaeast",
                    "eastus",
                    "eastus2",
                    "francecentral",
                    "japaneast",
                    "norwayeast",
                    "polandcentral",
                    "southindia",
                    "swedencentral",
                    "switzerlandnorth",
                    "uksouth",
                    "westeurope",
                    "westus",
                    "westus3",
                }
            ),
        ),
        _embeddings(
            "text-embedding-3-small",
            "1",
            frozenset(
                {
                    "australiaeast",
                    "canadaeast",
                    "eastus",
                    "eastus2",
                    "japaneast",
                    "switzerlandnorth",
                    "uksouth",
                    "westus",
                    "westus3",
                }
            ),
        ),
        _embeddings(
            "text-embedding-ada-002",
            "2",
            frozenset(
                {
                    "australiaeast",
                    "brazilsouth",
                    "canadaeast",
                    "eastus",
                    "eastus2",
                    "francecentral",
                    "japaneast",
                    "northcentralus",
                    "norwayeast",
                    "southcentralus",
                    "swedencentral",
                    "switzerlandnorth",
                    "uksouth",
                    "westeurope",
                    "westus",
                }
            ),
        ),
    )
}


class UnknownOpenAiModelError(ValueError):
    """A model or version the catalogue does not list."""


def known_models() -> str:
    """`name version` of every catalogued model, for error messages."""
    return ", ".join(sorted(CATALOGUE))


def lookup(name: str, version: str) -> OpenAiModel:
    """The catalogued model version; an error listing what the catalogue knows otherwise."""
    found = CATALOGUE.get(f"{name} {version}")
    if found is not None:
        return found
    versions = sorted(m.version for m in CATALOGUE.values() if m.name == name)
    if versions:
        raise UnknownOpenAiModelError(
            f"{name} version '{version}' is not in the catalogue; known versions of {name}: {', '.join(versions)}"
        )
    raise UnknownOpenAiModelError(
        f"unknown model '{name}'; the catalogue (aiinfra/catalog/openai_models.py) knows: {known_models()}"
    )


def deployment_problems(name: str, version: str, sku: str, capacity: int, region: str | None) -> list[str]:
    """Why a deployment of `name` `version` as `sku` with `capacity` cannot be created in `region` (empty if it can);
    a None region skips the region check."""
    try:
        model = lookup(name, version)
    except UnknownOpenAiModelError as exc:
        return [str(exc)]
    regions = model.regions.get(sku)
    if regions is None:
        offered = ", ".join(s for s in DEPLOYMENT_SKUS if s in model.regions)
        return [f"{model.key} is not offered as {sku}; it is offered as: {offered}"]
    problems = []
    region = region.lower().replace(" ", "") if region is not None else None
    if region is not None and region not in regions:
        problems.append(
            f"{model.key} is not offered as {sku} in {region}; regions offering it as {sku}: "
            f"{', '.join(sorted(regions))}"
        )
    rules = model.provisioned.get(sku)
    if rules is not None and (capacity < rules.minimum or (capacity - rules.minimum) % rules.increment):
        problems.append(
            f"{sku} capacity {capacity} PTU: {model.key} needs at least {rules.minimum} PTU, in steps of "
            f"{rules.increment} (e.g. {rules.minimum}, {rules.minimum + rules.increment})"
        )
    return problems
