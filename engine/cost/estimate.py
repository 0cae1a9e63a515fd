"""The estimate: items grouped per component, totals, budgets, and what the figures assume."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..plan import Plan, Registration
from .plan_index import PlanIndex, _num, text_of
from .prices import HOURS_PER_MONTH, PRICES_DIR, PriceTable, load_price_table
from .pricing import _NO_CHARGE, Item, _Pricer, _round, _standing


class Totals:
    """Sums over items. `*_complete` False: some item is unpriced and the figure is a lower bound."""

    idle_monthly: float = 0.0
    idle_gpu_monthly: float = 0.0
    max_hourly: float = 0.0
    spot_saving_hourly: float = 0.0
    idle_complete: bool = True
    idle_gpu_complete: bool = True
    max_complete: bool = True
    saving_complete: bool = True
    max_unbounded: bool = False
    idle_approximate: bool = False
    idle_gpu_approximate: bool = False
    max_approximate: bool = False

    def add(self, item: Item) -> None:
        idle, peak = item.idle_hourly, item.max_hourly
        approximate = item.rate.approximate
        if idle is None:
            self.idle_complete = False
            self.idle_gpu_complete &= not item.gpu
        else:
            self.idle_monthly += idle * HOURS_PER_MONTH
            self.idle_gpu_monthly += idle * HOURS_PER_MONTH if item.gpu else 0.0
            self.idle_approximate |= approximate and idle > 0
            self.idle_gpu_approximate |= approximate and idle > 0 and item.gpu
        if peak is None:
            self.max_complete = False
            self.max_unbounded |= item.max_units is None and not item.unknown
        else:
            self.max_hourly += peak
            self.max_approximate |= approximate and peak > 0
        saving = item.saving_hourly
        self.spot_saving_hourly += saving or 0.0
        self.saving_complete &= saving is not None or not item.max_units

    @property
    def max_monthly(self) -> float:
        return self.max_hourly * HOURS_PER_MONTH

    @classmethod
    def of(cls, items: Iterable[Item]) -> Totals:
        totals = cls()
        for item in items:
            totals.add(item)
        return totals

    def as_json(self) -> dict[str, Any]:
        return {
            "idleMonthly": round(self.idle_monthly, 2),
            "idleGpuMonthly": round(self.idle_gpu_monthly, 2),
            "maxHourly": round(self.max_hourly, 4),
            "maxMonthly": round(self.max_monthly, 2),
            "spotSavingHourly": round(self.spot_saving_hourly, 4),
            "idleComplete": self.idle_complete,
            "idleGpuComplete": self.idle_gpu_complete,
            "maxComplete": self.max_complete,
            "spotSavingComplete": self.saving_complete,
            "maxUnbounded": self.max_unbounded,
            "idleApproximate": self.idle_approximate,
            "maxApproximate": self.max_approximate,
        }


@dataclass
class Group:
    """One top-level component (or the resources outside any component) and its priced items."""

    urn: str | None
    name: str
    type: str
    items: list[Item] = field(default_factory=list)

    @property
    def totals(self) -> Totals:
        return Totals.of(self.items)

    def as_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "name": self.name,
            "type": self.type,
            **self.totals.as_json(),
            "items": [i.as_json() for i in self.items],
        }


@dataclass
class Budget:
    name: str
    amount: float | None
    time_grain: str
    scope: str | None

    @property
    def monthly(self) -> float | None:
        per = {
            "monthly": 1,
            "billingmonth": 1,
            "quarterly": 3,
            "billingquarter": 3,
            "annually": 12,
            "billingannual": 12,
        }
        months = per.get(self.time_grain.lower())
        return None if self.amount is None or months is None else self.amount / months


@dataclass
class CostEstimate:
    stack: str
    prices: PriceTable
    groups: list[Group]
    budgets: list[Budget]
    not_estimated: dict[str, int]

    @property
    def items(self) -> list[Item]:
        return [i for g in self.groups for i in g.items]

    @property
    def totals(self) -> Totals:
        return Totals.of(self.items)

    @property
    def basis(self) -> str:
        files = ", ".join(_display_path(p) for p in self.prices.files)
        return (
            f"list prices, {self.prices.currency}, pay-as-you-go, Linux, {HOURS_PER_MONTH} h/month; "
            f"from {files} (read {', '.join(self.prices.read_on()) or 'not recorded'}); may be stale"
        )

    def unpriced(self) -> list[tuple[Item, str]]:
        return [(i, i.problem) for i in self.items if i.problem]

    def notes(self) -> list[str]:
        """What a figure assumes: the price rows' notes (per GB extra ...) and the items' (defaults, formulas)."""
        out: list[str] = []
        for item in self.items:
            if not (item.idle_units or item.max_units != 0):
                continue
            row = item.rate.row
            if row is not None and row.note:
                out.append(f"{row.service_name} {row.sku_name}: {row.note}")
            out += [f"{item.label}: {note}" for note in item.notes]
        return list(dict.fromkeys(out))

    def warnings(self) -> list[str]:
        totals = self.totals
        out: list[str] = []
        if not self.budgets:
            out.append("no azure-native:consumption:Budget in the plan: nothing to compare the estimate with")
        for budget in self.budgets:
            monthly = budget.monthly
            if monthly is None:
                out.append(f"budget '{budget.name}': amount or time grain unknown ({budget.time_grain}), not compared")
                continue
            if totals.max_unbounded:
                out.append(
                    f"budget '{budget.name}' ({_money(monthly)}/month): some pool has no maximum, so max scale "
                    "cannot be compared with it"
                )
            elif totals.max_monthly > monthly:
                at_least = "" if totals.max_complete else "at least "
                out.append(
                    f"budget '{budget.name}' ({_money(monthly)}/month) would be exceeded by a month at max "
                    f"scale: {at_least}{_money(totals.max_monthly)}"
                )
            if totals.idle_monthly > monthly:
                out.append(
                    f"budget '{budget.name}' ({_money(monthly)}/month) is exceeded by the idle cost alone: "
                    f"{_money(totals.idle_monthly)}/month"
                )
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "basis": self.basis,
            "currency": self.prices.currency,
            "hoursPerMonth": HOURS_PER_MONTH,
            "priceFiles": [_display_path(p) for p in self.prices.files],
            "pricesReadOn": self.prices.read_on(),
            "totals": self.totals.as_json(),
            "components": [g.as_json() for g in self.groups],
            "budgets": [
                {
                    "name": b.name,
                    "amount": b.amount,
                    "timeGrain": b.time_grain,
                    "scope": b.scope,
                    "monthly": _round(b.monthly, 2),
                }
                for b in self.budgets
            ],
            "unpriced": [{"urn": i.resource.urn, "label": i.label, "reason": why} for i, why in self.unpriced()],
            "notEstimated": self.not_estimated,
            "notes": self.notes(),
            "warnings": self.warnings(),
        }


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PRICES_DIR.parent.parent))
    except ValueError:
        return str(path)


def estimate(
    plan: Plan | Sequence[Registration], prices: PriceTable | None = None, stack: str | None = None
) -> CostEstimate:
    """Price a recorded plan (a `Plan`, or its registrations) with `prices` (default: `load_price_table()`)."""
    resources = plan.resources if isinstance(plan, Plan) else list(plan)
    stack = stack or (plan.stack if isinstance(plan, Plan) else "")
    prices = prices if prices is not None else load_price_table()
    index = PlanIndex(resources, plan.default_providers if isinstance(plan, Plan) else None)
    pricer = _Pricer(index, prices)
    rules = pricer.rules()

    groups: dict[str, Group] = {}
    outside = Group(urn=None, name="(outside components)", type="")
    not_estimated: dict[str, int] = {}
    budgets: list[Budget] = []
    for r in sorted(resources, key=lambda r: r.urn):
        if not r.custom or not r.type.startswith("azure-native:"):
            continue
        short = r.type.removeprefix("azure-native:")
        if r.type == "azure-native:consumption:Budget":
            budgets.append(
                Budget(
                    name=text_of(r.inputs.get("budgetName")) or r.name,
                    amount=_num(r.inputs.get("amount")),
                    time_grain=text_of(r.inputs.get("timeGrain")) or "Monthly",
                    scope=text_of(r.inputs.get("scope")),
                )
            )
        rule = rules.get(r.type)
        if rule is None and _standing(r, short):
            rule = pricer.always_on
        if rule is None:
            if short not in _NO_CHARGE:
                not_estimated[short] = not_estimated.get(short, 0) + 1
            continue
        items = rule(r)
        if not items:
            continue
        top = index.top_level(r)
        group = outside if top is None else groups.setdefault(top.urn, Group(urn=top.urn, name=top.name, type=top.type))
        group.items.extend(items)
    for group in [*groups.values(), outside]:
        group.items.sort(key=lambda i: (i.label, i.resource.urn))
    ordered = sorted(groups.values(), key=lambda g: (g.name, g.type)) + ([outside] if outside.items else [])
    return CostEstimate(
        stack=stack, prices=prices, groups=ordered, budgets=budgets, not_estimated=dict(sorted(not_estimated.items()))
    )


def _money(value: float | None, approximate: bool = False, lower_bound: bool = False) -> str:
    if value is None:
        return "unpriced"
    digits = 4 if 0 < abs(value) < 1 else 2
    text = f"${value:,.{digits}f}"
    return ("≥ " if lower_bound else "") + ("~" if approximate and value else "") + text
