"""The estimate as text: the per-component table, totals, budgets, unpriced items, notes."""

from __future__ import annotations

from collections.abc import Sequence

from .estimate import CostEstimate, Totals, _money
from .pricing import Item, _monthly


def totals_cells(t: Totals) -> tuple[str, str, str, str]:
    """Idle $/month, idle GPU $/month, max $/hour and spot saving $/hour as the preview prints them."""
    idle = _money(t.idle_monthly, t.idle_approximate, not t.idle_complete)
    gpu = _money(t.idle_gpu_monthly, t.idle_gpu_approximate, not t.idle_gpu_complete)
    peak = _money(t.max_hourly, t.max_approximate, not t.max_complete)
    if t.max_unbounded:
        peak += " (unbounded)"
    saving = (
        _money(t.spot_saving_hourly, lower_bound=not t.saving_complete)
        if t.spot_saving_hourly or not t.saving_complete
        else "-"
    )
    return idle, gpu, peak, saving


def render_cost(estimate: CostEstimate, items: bool = True) -> str:
    """A compact table: per component idle $/month, idle GPU $/month, max-scale $/hour, spot saving $/hour."""
    header = ("", "idle $/month", "idle GPU $/month", "max $/hour", "spot saving $/hour")
    rows: list[tuple[str, ...]] = []
    for group in estimate.groups:
        rows.append((f"{group.name}" + (f" ({group.type})" if group.type else ""), *totals_cells(group.totals)))
        if items:
            for item in group.items:
                if item.idle_units or item.max_units != 0:
                    peak = (
                        _money(item.max_hourly, item.rate.approximate)
                        if item.max_units is not None or item.unknown
                        else "unbounded"
                    )
                    rows.append(
                        (
                            f"  {item.label}",
                            _money(_monthly(item.idle_hourly), item.rate.approximate),
                            "",
                            peak,
                            _money(item.saving_hourly) if item.dedicated_rate else "",
                        )
                    )
    rows.append((f"total ({estimate.stack})", *totals_cells(estimate.totals)))
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = (c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(cells))
        return ("  " + "  ".join(padded)).rstrip()

    out = [f"Cost estimate: {estimate.basis}", line(header), *map(line, rows)]
    out.append(
        "  idle: running with zero jobs, a month; max: one hour with every pool at its maximum; "
        "~ approximate figure; ≥ some items unpriced"
    )
    totals = estimate.totals
    for budget in estimate.budgets:
        if budget.monthly:
            at_least = {True: "", False: "≥ "}
            peak = (
                "unbounded"
                if totals.max_unbounded
                else f"{at_least[totals.max_complete]}{totals.max_monthly / budget.monthly:.0%}"
            )
            out.append(
                f"budget '{budget.name}': {_money(budget.monthly)}/month; idle is "
                f"{at_least[totals.idle_complete]}{totals.idle_monthly / budget.monthly:.0%} of it, "
                f"a month at max scale {peak}"
            )
    unpriced: dict[str, list[Item]] = {}
    for item, why in estimate.unpriced():
        unpriced.setdefault(why, []).append(item)
    for why, same in unpriced.items():
        if len(same) == 1:
            out.append(f"unpriced: {same[0].label}: {why}")
        else:
            out.append(f"unpriced ({len(same)}): {why}: {', '.join(i.resource.name for i in same)}")
    if items:
        out += [f"note: {note}" for note in estimate.notes()]
    if estimate.not_estimated:
        kinds = ", ".join(f"{t} x{n}" for t, n in estimate.not_estimated.items())
        out.append(f"not estimated (billed by use only): {kinds}")
    out += [f"warning: {w}" for w in estimate.warnings()]
    return "\n".join(out)
