"""The cost estimate of Azure OpenAI deployments (`azure-native:cognitiveservices:Deployment`), kept apart from the
rest of the estimate's rules: `pricing._Pricer.rules()` hooks `price_openai_deployment` in.

- Provisioned deployment types (`*ProvisionedManaged`) reserve PTUs billed per PTU-hour whether used or not: idle and
  max are the deployment's capacity times that rate.
- Pay-per-token types (Standard, GlobalStandard, DataZoneStandard) are usage-based: idle (no requests) costs
  nothing, and the item says so and shows the per-1K-token input/output rates with their source. Their max is bounded
  by the deployment's rate limit (capacity = thousands of tokens per minute): capacity x 60 x the higher of the two
  rates per 1K tokens — a real ceiling, never $0.

Prices come from the price table (rows with serviceName `Azure OpenAI`, keyed by model in armSkuName and deployment
type in skuName), so a fresher table replaces them without code changes.
"""

from __future__ import annotations

import dataclasses

from aiinfra.catalog.openai_models import PROVISIONED_SKUS

from ..plan import Registration
from .plan_index import _num, dig, text_of
from .prices import PriceRow, PriceTable, Quote
from .pricing import Item

SERVICE = "Azure OpenAI"


def _token_rows(prices: PriceTable, model: str, sku: str) -> dict[str, PriceRow]:
    """The per-1K-token input and output rows of `model` as `sku` (latest file wins)."""
    found: dict[str, PriceRow] = {}
    for row in prices.rows:
        if (
            row.service_name.lower() == SERVICE.lower()
            and row.arm_sku_name.lower() == model.lower()
            and row.sku_name.lower() == sku.lower()
            and row.hours_per_unit is None
        ):
            direction = "input" if "input" in row.meter_name.lower() else "output"
            if direction not in found or row.file_rank >= found[direction].file_rank:
                found[direction] = row
    return found


def price_openai_deployment(prices: PriceTable, r: Registration) -> list[Item]:
    sku = text_of(dig(r.inputs, "sku", "name")) or "Standard"
    capacity = _num(dig(r.inputs, "sku", "capacity"))
    model = text_of(dig(r.inputs, "properties", "model", "name")) or "?"
    version = text_of(dig(r.inputs, "properties", "model", "version")) or "?"
    name = text_of(r.inputs.get("deploymentName")) or r.name
    notes: list[str] = []
    if capacity is None:
        capacity = 1.0
        notes.append("sku.capacity not set: Azure's default is 1")
    if sku in PROVISIONED_SKUS:
        rate = prices.service(SERVICE, sku, None)
        label = f"Azure OpenAI deployment {name}: {model} {version}, {capacity:g} PTU {sku}"
        return [
            Item(
                r,
                label,
                rate,
                capacity,
                capacity,
                notes=notes + ["reserved throughput: billed per PTU-hour whether used or not"],
            )
        ]
    label = f"Azure OpenAI deployment {name}: {model} {version} {sku}, usage-based (per token)"
    rows = _token_rows(prices, model, sku)
    if "input" not in rows:
        problem = f"usage-based: no per-token price for {model} as {sku} in the price table"
        return [Item(r, label, Quote(problem=problem), 0.0, None, notes=notes)]
    given, taken = rows["input"], rows.get("output")
    per_1k = max(given.retail_price, taken.retail_price if taken else 0.0)
    out_text = f", ${taken.retail_price:g} per 1K output tokens" if taken and taken.retail_price else ""
    rates = f"${given.retail_price:g} per 1K input tokens{out_text}"
    # One unit of capacity = 1,000 tokens per minute: at most 60 x 1K tokens an hour, at the higher rate.
    ceiling = dataclasses.replace(
        given, retail_price=per_1k * 60, unit_of_measure="1 Hour", hours_per_unit=1.0, note=None
    )
    notes.append(
        f"usage-based: {rates} ({given.source}, read {given.read_on or 'not recorded'}); idle (no requests) "
        f"costs nothing; max is the rate limit, {capacity:g}K tokens/minute, all used at the higher rate"
    )
    return [Item(r, label, Quote(row=ceiling), 0.0, capacity, notes=notes)]
