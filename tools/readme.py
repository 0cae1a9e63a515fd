"""Regenerate README.md's generated sections from the code: `python -m tools.readme [--check]` (`make readme`).

Each section sits between `<!-- generated:NAME:start -->` and `<!-- generated:NAME:end -->` and is rebuilt from the
offline plans of dev, test and prd: what each environment costs (as the preview prints it), what dev costs idle,
the prd architecture diagram, and the policy table. A test fails when the committed README differs, so the README
cannot drift from the stacks, the price table or the policy pack.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from aiinfra.engine import Plan, run_program
from aiinfra.engine.cost import CostEstimate, PriceRow, PriceTable, estimate, load_price_table, totals_cells
from aiinfra.engine.diagram import render_mermaid
from aiinfra.policies import RULES
from tools.policy_table import ENVIRONMENTS, level, load_configs

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
_SECTION = re.compile(
    r"(<!-- generated:(?P<name>[a-z-]+):start -->\n)(?P<body>.*?)(<!-- generated:(?P=name):end -->)", re.DOTALL
)


def _money(value: float | None) -> str:
    return "none" if value is None else f"${value:,.0f}"


def environments_section(estimates: Mapping[str, CostEstimate], plans: Mapping[str, Plan]) -> str:
    rows = [
        "| env | resources | idle $/month | of which GPU | max $/hour | low-priority/spot saving $/hour "
        "| budget $/month |",
        "|---|---|---|---|---|---|---|",
    ]
    for env, cost in estimates.items():
        idle, gpu, peak, saving = totals_cells(cost.totals)
        budget = _money(cost.budgets[0].monthly) if cost.budgets else "none"
        rows.append(f"| {env} | {len(plans[env].resources)} | {idle} | {gpu} | {peak} | {saving} | {budget} |")
    any_cost = next(iter(estimates.values()))
    return (
        "\n".join(rows) + "\n\n"
        f"Figures: {any_cost.basis}. `~` approximate, `≥` a lower bound (some item has no price in the table; "
        "the preview lists which). *Idle* is a month with zero jobs: system pools, private endpoints, the ML "
        "managed network's firewall, the registry tier, and compute instances for the hours their start/stop "
        "schedules keep them on. *Max* is one hour with every pool at its maximum.\n"
    )


def dev_idle_section(cost: CostEstimate) -> str:
    rows = ["| component | idle $/month | of which GPU | max $/hour |", "|---|---|---|---|"]
    for group in cost.groups:
        idle, gpu, peak, _ = totals_cells(group.totals)
        rows.append(f"| {group.name} (`{group.type}`) | {idle} | {gpu} | {peak} |")
    return "\n".join(rows) + "\n"


def diagram_section(plan: Plan) -> str:
    return f"```mermaid\n{render_mermaid(plan)}```\n"


def policies_section() -> str:
    configs = load_configs()
    rows = [
        "| policy | what it checks | " + " | ".join(ENVIRONMENTS) + " | mirrors |",
        "|---|---|" + "---|" * len(ENVIRONMENTS) + "---|",
    ]
    for rule in RULES:
        levels = " | ".join(level(rule, configs[env]) for env in ENVIRONMENTS)
        mirrors = "; ".join(rule.sources).replace("|", "\\|")
        rows.append(f"| `{rule.name}` | {rule.summary.replace('|', chr(92) + '|')} | {levels} | {mirrors} |")
    return "\n".join(rows) + "\n"


def _source_of(source: str) -> str:
    """A row's source without what it quotes (the part after ': ')."""
    return source.split("): ", 1)[0] + ")" if "): " in source else source


def price_table_section(prices: PriceTable) -> str:
    """What the built-in price table covers: per service, its SKUs, regions and sources (the rows' own fields)."""
    services: dict[str, list[PriceRow]] = {}
    for row in prices.rows:
        services.setdefault(row.service_name, []).append(row)
    lines = ["| service | SKUs | regions | source |", "|---|---|---|---|"]
    for service in sorted(services):
        rows = services[service]
        skus = sorted({r.arm_sku_name or r.sku_name or r.meter_name for r in rows})
        regions = sorted({r.arm_region_name for r in rows})
        sources = sorted({_source_of(r.source) for r in rows})
        lines.append(
            f"| {service} | {', '.join(skus)} | {', '.join(regions)} | {'; '.join(sources).replace('|', chr(92) + '|')} |"
        )
    return "\n".join(lines) + "\n"


def render_sections(plans: Mapping[str, Plan]) -> dict[str, str]:
    prices = load_price_table()
    estimates = {env: estimate(plans[env], prices) for env in ENVIRONMENTS}
    builders: dict[str, Callable[[], str]] = {
        "environments": lambda: environments_section(estimates, plans),
        "dev-idle": lambda: dev_idle_section(estimates["dev"]),
        "diagram": lambda: diagram_section(plans["prd"]),
        "policies": policies_section,
        "price-table": lambda: price_table_section(prices),
    }
    return {name: build() for name, build in builders.items()}


def updated_readme(text: str, sections: Mapping[str, str]) -> str:
    found = {m.group("name") for m in _SECTION.finditer(text)}
    missing = sorted(set(sections) - found)
    if missing:
        raise ValueError(f"README.md has no generated section(s) {', '.join(missing)}")
    return _SECTION.sub(lambda m: m.group(1) + sections.get(m.group("name"), m.group("body")) + m.group(4), text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.readme", description="Regenerate README.md's generated sections."
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md is not current; write nothing")
    args = parser.parse_args(argv)
    plans = {env: run_program(REPO, env) for env in ENVIRONMENTS}
    current = README.read_text()
    wanted = updated_readme(current, render_sections(plans))
    if args.check:
        if wanted != current:
            print("README.md is stale: run `make readme`", file=sys.stderr)
            return 1
        return 0
    README.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
