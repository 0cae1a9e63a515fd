"""Offline cost estimate of a recorded plan: idle $/month, max-scale $/hour and the spot saving, per component.

It reads only what any azure-native program registers (resource types and their wire-format inputs), never our
components, and prices it from a table of Azure Retail Prices API items (`engine/prices/*.json`, or an export passed
with `--prices FILE` / `AIINFRA_PRICES`). A SKU, region or tier the table does not have is reported as unpriced,
never guessed; a retired VM size is refused even if a table still lists it. A resource with an always-on charge the
table cannot price makes every total it belongs to a lower bound (`≥`).

Terms:
- idle: what runs with zero jobs, for a month of 730 hours (min nodes, system pools, private endpoints, AKS tier,
  the firewall a managed network creates, the registry tier ...);
- max: one hour with every pool at its maximum, fixed items included; x 730 it is the month the budget is compared with;
- spot saving: at max scale, what the spot / low-priority pools save per hour against the same pools dedicated.

One module per concern: `prices` (the price table), `plan_index` (reading a plan), `pricing` (one rule per type),
`estimate` (totals, groups, budgets), `render` (text), `cli` (a saved plan).
"""

from .cli import main, plan_from_json
from .estimate import Budget, CostEstimate, Group, Totals, estimate
from .plan_index import PlanIndex, azure_name, dig, text_of
from .prices import (
    DEFAULT_PRICE_FILES,
    HOURS_PER_MONTH,
    PRICES_DIR,
    PRICES_ENV,
    PriceRow,
    PriceTable,
    PriceTableError,
    Quote,
    load_price_table,
)
from .pricing import Item
from .render import render_cost, totals_cells

__all__ = [
    "DEFAULT_PRICE_FILES",
    "HOURS_PER_MONTH",
    "PRICES_DIR",
    "PRICES_ENV",
    "Budget",
    "CostEstimate",
    "Group",
    "Item",
    "PlanIndex",
    "PriceRow",
    "PriceTable",
    "PriceTableError",
    "Quote",
    "Totals",
    "azure_name",
    "dig",
    "estimate",
    "load_price_table",
    "main",
    "plan_from_json",
    "render_cost",
    "text_of",
    "totals_cells",
]
