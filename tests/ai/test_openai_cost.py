"""The estimate of Azure OpenAI deployments: PTUs per hour; pay-per-token usage-based (idle $0 with the rates and
their source), its max bounded by the rate limit, never $0."""

from __future__ import annotations

from aiinfra.engine.cost import estimate, load_price_table
from aiinfra.engine.monitor import Registration

DEPLOYMENT = "azure-native:cognitiveservices:Deployment"


def deployment(sku: str, capacity: int, model: str = "gpt-4o", version: str = "2024-11-20") -> Registration:
    return Registration(
        urn=f"urn:pulumi:t::p::{DEPLOYMENT}::d-{sku}",
        type=DEPLOYMENT,
        name=f"d-{sku}",
        parent=None,
        custom=True,
        provider=None,
        dependencies=[],
        property_dependencies={},
        protect=False,
        inputs={
            "accountName": "oai",
            "resourceGroupName": "rg",
            "deploymentName": "chat",
            "sku": {"name": sku, "capacity": capacity},
            "properties": {"model": {"format": "OpenAI", "name": model, "version": version}},
        },
    )


def only_item(r: Registration):
    [item] = estimate([r], load_price_table(), stack="t").items
    return item


def test_provisioned_throughput_is_billed_per_ptu_hour_idle_or_not():
    item = only_item(deployment("GlobalProvisionedManaged", 20))
    assert item.idle_hourly == item.max_hourly == 20 * 1.0
    assert "20 PTU GlobalProvisionedManaged" in item.label
    assert only_item(deployment("ProvisionedManaged", 50)).max_hourly == 50 * 2.0


def test_pay_per_token_is_usage_based_with_rates_and_a_rate_limit_ceiling():
    item = only_item(deployment("GlobalStandard", 10))
    assert "usage-based" in item.label
    assert item.idle_hourly == 0.0  # no requests, no tokens
    assert item.max_hourly == 10 * 60 * 0.01  # 10K tokens/minute at the output rate
    assert item.max_hourly is not None and item.max_hourly > 0 and item.problem is None
    [note] = [n for n in item.notes if n.startswith("usage-based")]
    assert "$0.0025 per 1K input tokens, $0.01 per 1K output tokens" in note
    assert "Azure OpenAI pricing page" in note and "read 2026-11-30" in note


def test_embeddings_have_an_input_rate_only():
    item = only_item(deployment("Standard", 50, "text-embedding-3-large", "1"))
    assert item.max_hourly is not None
    assert abs(item.max_hourly - 50 * 60 * 0.00013) < 1e-9
    assert "output" not in [n for n in item.notes if n.startswith("usage-based")][0]


def test_a_model_without_a_price_is_shown_unpriced_not_free():
    item = only_item(deployment("GlobalStandard", 10, "gpt-unknown", "1"))
    assert item.max_hourly is None and "no per-token price for gpt-unknown" in (item.problem or "")
