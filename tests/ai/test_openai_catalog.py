"""The Azure OpenAI catalogue as plain functions: known models, SKUs per region, PTU sizing."""

from __future__ import annotations

import pytest

from aiinfra.catalog.openai_models import (
    CATALOGUE,
    DEPLOYMENT_SKUS,
    UnknownOpenAiModelError,
    deployment_problems,
    lookup,
)


def test_every_model_lists_only_known_skus_and_has_regions():
    for model in CATALOGUE.values():
        assert set(model.regions) <= set(DEPLOYMENT_SKUS) and all(model.regions.values())
        assert set(model.provisioned) <= {s for s in model.regions if "Provisioned" in s}


def test_unknown_model_and_version_errors_list_the_catalogue():
    with pytest.raises(UnknownOpenAiModelError, match="knows: .*gpt-4o 2024-11-20.*text-embedding-3-large 1"):
        lookup("gpt-99", "1")
    with pytest.raises(UnknownOpenAiModelError, match="known versions of gpt-4o: 2024-11-20"):
        lookup("gpt-4o", "0513")


def test_region_and_capacity_rules():
    assert deployment_problems("gpt-4o", "2024-11-20", "GlobalStandard", 10, "westus3") == []
    assert deployment_problems("gpt-4o", "2024-11-20", "DataZoneStandard", 10, "japaneast")[0].startswith(
        "gpt-4o 2024-11-20 is not offered as DataZoneStandard in japaneast"
    )
    assert deployment_problems("gpt-4o", "2024-11-20", "ProvisionedManaged", 100, "West US 3") == []
    assert "steps of 50" in deployment_problems("gpt-4o", "2024-11-20", "ProvisionedManaged", 75, "westus3")[0]
