"""Pricing a saved plan: `python -m aiinfra.engine.cost PLAN.json`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..plan import Plan, PlanFormatError
from .estimate import estimate
from .prices import PriceTableError, _read_json, load_price_table
from .render import render_cost


def plan_from_json(document: Any, where: str) -> Plan:
    """A plan saved by `preview --json` (or the "plan" member of its document), with its stack name, registrations
    and default providers (the estimate reads their location)."""
    try:
        return Plan.from_json(document, where)
    except PlanFormatError as exc:
        raise PriceTableError(str(exc)) from None


def main(argv: Sequence[str] | None = None) -> int:
    import argparse
    import sys

    parser = argparse.ArgumentParser(
        prog="python -m aiinfra.engine.cost",
        description="Price a plan saved by `python -m stacks.preview ENV --json FILE`.",
    )
    parser.add_argument("plan", type=Path, help="the saved plan (JSON)")
    parser.add_argument(
        "--prices",
        metavar="FILE",
        type=Path,
        action="append",
        help="price table(s) in the Azure Retail Prices API's shape (repeatable; later files win)",
    )
    parser.add_argument("--json", action="store_true", help="print the estimate as JSON")
    args = parser.parse_args(argv)
    try:
        cost = estimate(plan_from_json(_read_json(args.plan), str(args.plan)), load_price_table(args.prices))
    except PriceTableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(cost.as_json(), indent=2, sort_keys=True) if args.json else render_cost(cost))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
