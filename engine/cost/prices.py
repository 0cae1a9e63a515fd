"""The price table: Azure Retail Prices API items (with their source and date), loaded and looked up."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiinfra.catalog.gpu_skus import RETIRED, RETIREMENT_SOURCE
from aiinfra.catalog.pools import LOW_PRIORITY, REGULAR, SPOT
from aiinfra.catalog.schedules import HOURS_PER_MONTH  # one figure: 730 h/month, as Azure's price sheets

PRICES_DIR = Path(__file__).resolve().parent.parent / "prices"
DEFAULT_PRICE_FILES = (PRICES_DIR / "azure-retail-prices.json",)
PRICES_ENV = "AIINFRA_PRICES"
_ANY_REGION = ("", "global")


class PriceTableError(Exception):
    """A price file cannot be used; the message names the file and the field."""


# --------------------------------------------------------------------------------------------------------------------
# The price table


@dataclass(frozen=True)
class PriceRow:
    """One Azure Retail Prices API item, with where the figure came from."""

    service_name: str
    product_name: str
    sku_name: str
    meter_name: str
    arm_sku_name: str
    arm_region_name: str
    retail_price: float
    unit_of_measure: str
    hours_per_unit: float | None  # None: not billed by time (per GB, per 10K operations ...)
    per_gb: bool  # billed per GB per time unit ('1 GB/Month'): `hourly` is per GB-hour
    currency_code: str
    type: str
    effective_start_date: str
    source: str
    read_on: str | None
    approximate: bool
    note: str | None
    file_rank: int  # later files win over earlier ones

    @property
    def hourly(self) -> float:
        assert self.hours_per_unit is not None
        return self.retail_price / self.hours_per_unit

    @property
    def priority(self) -> str:
        names = f"{self.sku_name} {self.meter_name}".lower()
        if "low priority" in names:
            return LOW_PRIORITY
        return SPOT if "spot" in names else REGULAR

    def as_json(self) -> dict[str, Any]:
        return {
            "serviceName": self.service_name,
            "skuName": self.sku_name,
            "meterName": self.meter_name,
            "armSkuName": self.arm_sku_name,
            "armRegionName": self.arm_region_name,
            "retailPrice": self.retail_price,
            "unitOfMeasure": self.unit_of_measure,
            "currencyCode": self.currency_code,
            "source": self.source,
            "readOn": self.read_on,
            "approximate": self.approximate,
            "note": self.note,
        }


@dataclass(frozen=True)
class Quote:
    """A price per unit-hour, or why there is none."""

    row: PriceRow | None = None
    problem: str | None = None
    free_because: str | None = None  # a tier that is not billed at all (AKS Free)

    @property
    def hourly(self) -> float | None:
        if self.free_because is not None:
            return 0.0
        return self.row.hourly if self.row is not None else None

    @property
    def approximate(self) -> bool:
        return self.row is not None and self.row.approximate


_UNIT = re.compile(r"^\s*(\d+(?:\.\d+)?)?\s*(GB)?\s*/?\s*(hours?|days?|months?)\s*$", re.IGNORECASE)
_UNIT_HOURS = {"hour": 1.0, "day": 24.0, "month": float(HOURS_PER_MONTH)}


def _hours_per_unit(unit: str) -> float | None:
    """'1 Hour' -> 1, '100 Hours' -> 100, '1/Day' -> 24, '1/Month' -> 730, '1 GB/Month' -> 730 (per GB: see
    `_per_gb`); other units (GB, 10K operations ...) -> None."""
    match = _UNIT.match(unit)
    if not match:
        return None
    count = float(match.group(1) or 1)
    return count * _UNIT_HOURS[match.group(3).lower().rstrip("s")]


def _per_gb(unit: str) -> bool:
    """A per-GB-per-time unit ('1 GB/Month', the Retail Prices API's unit for stored data)."""
    match = _UNIT.match(unit)
    return bool(match and match.group(2))


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except OSError as exc:
        raise PriceTableError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PriceTableError(f"{path}: not valid JSON: {exc}") from None


class _Fields:
    """Typed reads of one JSON object, with errors that name the file and the field."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise PriceTableError(f"{where}: expected an object, got {type(data).__name__}")
        self.data: dict[str, Any] = data
        self.where = where

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str):
            raise PriceTableError(f"{self.where}.{key}: expected a string, got {value!r}")
        return value

    def optional_text(self, key: str) -> str | None:
        return self.text(key) if self.data.get(key) is not None else None

    def number(self, key: str) -> float:
        value = self.data.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise PriceTableError(f"{self.where}.{key}: expected a non-negative number, got {value!r}")
        return float(value)

    def flag(self, key: str) -> bool:
        value = self.data.get(key, False)
        if not isinstance(value, bool):
            raise PriceTableError(f"{self.where}.{key}: expected true or false, got {value!r}")
        return value


def _parse_row(item: Any, where: str, defaults: dict[str, str | None], rank: int) -> PriceRow:
    f = _Fields(item, where)
    unit = f.text("unitOfMeasure")
    row = PriceRow(
        service_name=f.text("serviceName"),
        product_name=f.text("productName", ""),
        sku_name=f.text("skuName", ""),
        meter_name=f.text("meterName", ""),
        arm_sku_name=f.text("armSkuName", ""),
        arm_region_name=f.text("armRegionName"),
        retail_price=f.number("retailPrice"),
        unit_of_measure=unit,
        hours_per_unit=_hours_per_unit(unit),
        per_gb=_per_gb(unit),
        currency_code=f.text("currencyCode"),
        type=f.text("type", "Consumption"),
        effective_start_date=f.text("effectiveStartDate", ""),
        source=f.optional_text("source") or defaults["source"] or "",
        read_on=f.optional_text("readOn") or defaults["readOn"],
        approximate=f.flag("approximate"),
        note=f.optional_text("note"),
        file_rank=rank,
    )
    if not (row.arm_sku_name or row.sku_name or row.meter_name):
        raise PriceTableError(f"{where}: needs at least one of armSkuName, skuName, meterName")
    if row.hours_per_unit == 0:
        raise PriceTableError(f"{where}.unitOfMeasure: '{unit}' is zero hours")
    return row


def _items_of(data: Any, path: Path) -> tuple[list[Any], str]:
    """A file is a list of items, or an API page / our own file: an object with 'Items'."""
    if isinstance(data, list):
        return data, ""
    if isinstance(data, dict) and isinstance(data.get("Items"), list):
        return data["Items"], "Items"
    raise PriceTableError(
        f"{path}: expected a list of price items or an object with an 'Items' list "
        "(the Azure Retail Prices API's page shape)"
    )


@dataclass(frozen=True)
class RetiredSize:
    arm_sku_name: str
    retired_on: str
    source: str


@dataclass
class PriceTable:
    rows: list[PriceRow]
    files: list[Path]
    retired: dict[str, RetiredSize] = field(default_factory=dict)

    @property
    def currency(self) -> str:
        return self.rows[0].currency_code if self.rows else "USD"

    def read_on(self) -> list[str]:
        return sorted({r.read_on or "not recorded" for r in self.rows})

    def _best(self, rows: Iterable[PriceRow], region: str) -> PriceRow | None:
        """The row for `region`, else a region-independent one; the latest file, then the latest effective date."""
        rows = list(rows)
        for wanted in ((region.lower(),), _ANY_REGION):
            here = [r for r in rows if r.arm_region_name.lower() in wanted]
            if here:
                return max(here, key=lambda r: (r.file_rank, r.effective_start_date))
        return None

    def _billable(self, service: str, per_gb: bool = False) -> list[PriceRow]:
        return [
            r
            for r in self.rows
            if r.service_name.lower() == service.lower()
            and r.hours_per_unit is not None
            and r.per_gb == per_gb
            and r.type.lower() == "consumption"
        ]

    def vm(self, size: str, region: str | None, priority: str = REGULAR) -> Quote:
        """Linux pay-as-you-go price of one VM of `size` in `region`, at `priority`."""
        retired = self.retired.get(size.lower())
        if retired:
            return Quote(
                problem=f"{size} was retired by Azure on {retired.retired_on}; not priced, choose a current size"
            )
        rows = [
            r
            for r in self._billable("Virtual Machines")
            if r.arm_sku_name.lower() == size.lower() and "windows" not in r.product_name.lower()
        ]
        if not rows:
            return Quote(problem=f"{size} is not in the price table")
        if region is None:
            return Quote(
                problem=f"{size}: region unknown (no location on the resource, its parent or its resource group, and no azure-native:location in the stack config)"
            )
        # Spot and low-priority are one figure in most catalogues; take the other when only one is listed.
        preference = {REGULAR: (REGULAR,), SPOT: (SPOT, LOW_PRIORITY), LOW_PRIORITY: (LOW_PRIORITY, SPOT)}[priority]
        for wanted in preference:
            best = self._best((r for r in rows if r.priority == wanted), region)
            if best:
                return Quote(row=best)
        listed = sorted({r.arm_region_name for r in rows if r.priority in preference})
        what = "" if priority == REGULAR else f"{priority} "
        if not listed:
            return Quote(problem=f"no {what}price for {size} in the price table")
        return Quote(problem=f"no {what}price for {size} in {region} (the table has {', '.join(listed)})")

    def service(
        self,
        service: str,
        sku: str | None,
        region: str | None,
        *,
        product: str | None = None,
        product_part: str | None = None,
        meter: str | None = None,
        meter_suffix: str | tuple[str, ...] | None = None,
        per_gb: bool = False,
    ) -> Quote:
        """A time-billed meter of a non-VM service, e.g. ('Azure Firewall', 'Standard', 'eastus'): skuName `sku`
        (None: any), productName `product` (or containing `product_part`), meterName `meter` or ending in
        `meter_suffix` (or one of them). `per_gb`: a per-GB-month meter (stored data), whose hourly price is per GB."""
        suffixes = (meter_suffix,) if isinstance(meter_suffix, str) else meter_suffix
        rows = [
            r
            for r in self._billable(service, per_gb)
            if (sku is None or r.sku_name.lower() == sku.lower())
            and (product is None or r.product_name.lower() == product.lower())
            and (product_part is None or product_part.lower() in r.product_name.lower())
            and (meter is None or r.meter_name.lower() == meter.lower())
            and (suffixes is None or r.meter_name.lower().endswith(tuple(s.lower() for s in suffixes)))
        ]
        best = self._best(rows, region or "")
        if best:
            return Quote(row=best)
        what = f"{service} {sku}" if sku else service
        if rows and region is None:
            return Quote(problem=f"{what}: region unknown")
        where = f" in {region}" if region else ""
        listed = sorted({r.arm_region_name for r in rows})
        elsewhere = f" (the table has {', '.join(listed)})" if listed else ""
        return Quote(problem=f"no price for {what}{where} in the price table{elsewhere}")


def price_files_from_env() -> list[Path] | None:
    """`AIINFRA_PRICES`: one or more price files, separated like PATH."""
    value = os.environ.get(PRICES_ENV, "").strip()
    return [Path(p) for p in value.split(os.pathsep) if p] or None


def _retired_sizes() -> dict[str, RetiredSize]:
    """The catalogue's retired sizes (one source for the components, the pack and the estimate)."""
    return {name.lower(): RetiredSize(name, day, RETIREMENT_SOURCE) for name, day in RETIRED.items()}


def load_price_table(paths: Sequence[Path | str] | None = None) -> PriceTable:
    """Price rows from `paths` (default: `AIINFRA_PRICES`, else the built-in table); later files win on a tie.

    A file is the Azure Retail Prices API's shape: a list of items, or an object with `Items`. Our own rows add
    `source`, `readOn`, `approximate` and `note`; rows without them take the file's top-level `source` / `readOn`
    (or the file's path).
    """
    files = [Path(p) for p in (paths or price_files_from_env() or DEFAULT_PRICE_FILES)]
    rows: list[PriceRow] = []
    for rank, path in enumerate(files):
        data = _read_json(path)
        items, key = _items_of(data, path)
        top = data if isinstance(data, dict) else {}
        defaults = {
            "source": top.get("source") if isinstance(top.get("source"), str) else str(path),
            "readOn": top.get("readOn") if isinstance(top.get("readOn"), str) else None,
        }
        prefix = f"{path}: {key}" if key else f"{path}: item"
        rows += [_parse_row(item, f"{prefix}[{i}]", defaults, rank) for i, item in enumerate(items)]
    currencies = sorted({r.currency_code for r in rows})
    if len(currencies) > 1:
        raise PriceTableError(
            f"{', '.join(map(str, files))}: currencyCode: rows mix {', '.join(currencies)}; export one currency"
        )
    return PriceTable(rows=rows, files=files, retired=_retired_sizes())
