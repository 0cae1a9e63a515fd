"""What a change does, as `terraform plan` + `infracost diff` would say it: two plans this tool wrote, compared.

A plan is the JSON `preview --json` writes (`{"plan": ..., "cost": ..., "policies": ...}`). Resources are matched by
URN, as the Pulumi engine matches them against its state: a new URN is a create, a missing one a delete. For a resource
in both, every changed input is listed old -> new, and the change is classified the way azure-native applies it:

- a URL path parameter of the resource's PUT (name, resource group, parent names, scope), a property the REST API
  spec marks create-only (`x-ms-mutability` without "update"), or a path the resource's own `replaceOnChanges` option
  names -> replace (`±`); `deleteBeforeReplace` is reported;
- a property Azure documents as fixed but the spec does not mark -> an update ARM refuses (`pulumi up` fails);
- anything else -> update in place (`~`); `ignoreChanges` paths are not changes.

The table of path parameters and create-only properties, with its sources, is `aiinfra.catalog.create_only`.
A replaced resource gets a new id, so inputs elsewhere that hold its id change too ("known after replace"), which can
cascade into further replacements, as `pulumi preview` shows them.

Replacing or deleting a resource that holds data (the catalogue says what it holds) or that the program protects is
data loss: it is listed before the summary line. A protected resource is never replaced or deleted by `pulumi up`: the
update stops until the program drops `protect`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiinfra.catalog.create_only import Immutable, holds_data, immutable, path_params

from .cost import CostEstimate, PriceTable, PriceTableError, Totals, estimate, plan_from_json
from .textstyle import Style

COMPUTED = "<computed>"
STACK_TYPE = "pulumi:pulumi:Stack"
OUTSIDE = "(outside components)"
CREATE, UPDATE, REPLACE, DELETE = "create", "update", "replace", "delete"
SYMBOL = {CREATE: "+", UPDATE: "~", REPLACE: "±", DELETE: "-"}


class DiffError(Exception):
    """A plan file cannot be compared (missing, not JSON, not a plan): a usage error naming the file."""


class _Missing:
    def __repr__(self) -> str:
        return "(absent)"


MISSING: Any = _Missing()


# --------------------------------------------------------------------------------------------------- reading plans


def load_plan_document(path: Path | str) -> dict[str, Any]:
    """A plan JSON written by `preview --json`; errors name the file and what is wrong with it."""
    path = Path(path)
    try:
        document = json.loads(path.read_text())
    except OSError as exc:
        raise DiffError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DiffError(f"{path}: not valid JSON: {exc}") from None
    check_plan_document(document, str(path))
    return document


def check_plan_document(document: Any, where: str) -> None:
    plan = document.get("plan") if isinstance(document, dict) else None
    resources = plan.get("resources") if isinstance(plan, dict) else None
    if not isinstance(resources, list) or not all(
        isinstance(r, dict) and isinstance(r.get("urn"), str) for r in resources
    ):
        raise DiffError(
            f"{where}: not a plan this tool wrote: expected 'plan.resources', a list of resources with a "
            "'urn' (write one with `preview ENV --json FILE`)"
        )


def _resources(document: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["urn"]: r for r in document["plan"]["resources"]}


def _top_component(urn: str, by_urn: Mapping[str, Mapping[str, Any]]) -> tuple[str, str]:
    """(name, type) of the component directly under the stack that holds `urn`; OUTSIDE for other resources."""
    node = by_urn[urn]
    seen = 0
    while node.get("parent") in by_urn and by_urn[node["parent"]].get("type") != STACK_TYPE and seen < 100:
        node = by_urn[node["parent"]]
        seen += 1
    if node.get("custom", True):
        return OUTSIDE, ""
    return str(node.get("name")), str(node.get("type"))


# ---------------------------------------------------------------------------------------------- the resource diff


@dataclass
class PropertyChange:
    path: str
    old: Any
    new: Any
    effect: str = UPDATE  # UPDATE, REPLACE, or "refused"
    why: str | None = None

    def as_json(self) -> dict[str, Any]:
        def plain(v: Any) -> Any:
            return None if v is MISSING else v

        return {
            "path": self.path,
            "old": plain(self.old),
            "new": plain(self.new),
            "oldAbsent": self.old is MISSING,
            "newAbsent": self.new is MISSING,
            "effect": self.effect,
            "why": self.why,
        }


@dataclass
class ResourceChange:
    urn: str
    type: str
    name: str
    component: str
    component_type: str
    op: str
    custom: bool
    protect: bool = False
    holds: str | None = None
    delete_before_replace: bool = False
    properties: list[PropertyChange] = field(default_factory=list)

    @property
    def data_loss(self) -> bool:
        return self.custom and self.op in (REPLACE, DELETE) and (self.holds is not None or self.protect)

    @property
    def refused(self) -> list[PropertyChange]:
        return [p for p in self.properties if p.effect == "refused"] if self.op == UPDATE else []

    @property
    def replaced_by(self) -> list[PropertyChange]:
        return [p for p in self.properties if p.effect == REPLACE]

    def data_loss_text(self) -> str:
        what = self.holds or "whatever it holds"
        verb = "replaced (deleted and created anew)" if self.op == REPLACE else "deleted"
        why = ""
        if self.op == REPLACE and self.replaced_by:
            why = " because " + ", ".join(f"{p.path} changes" for p in self.replaced_by[:3])
        text = f"{self.type.split(':')[-1]} '{self.name}' ({self.component}) would be {verb}{why}, losing {what}"
        if self.protect:
            text += (
                "; it is protected, so `pulumi up` stops here until the program drops `protect`: "
                "back up or migrate first"
            )
        return text

    def as_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "component": self.component,
            "componentType": self.component_type,
            "op": self.op,
            "custom": self.custom,
            "protect": self.protect,
            "dataLoss": self.data_loss,
            "holds": self.holds,
            "deleteBeforeReplace": self.delete_before_replace,
            "properties": [p.as_json() for p in self.properties],
        }


def _leaf_changes(old: Any, new: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    if old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            sub = f"{path}.{key}" if path else str(key)
            yield from _leaf_changes(old.get(key, MISSING), new.get(key, MISSING), sub)
        return
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            yield from _leaf_changes(a, b, f"{path}[{i}]")
        return
    yield path, old, new


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")


def _at(value: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(value, Mapping) or key not in value:
            return MISSING
        value = value[key]
    return value


def _hits(rule: Immutable, change: PropertyChange) -> bool:
    """The change touches the rule's property: the property itself or something in it, or an enclosing object that
    appears or goes away with a different value for it (e.g. `encryption` added with a `status`)."""
    if _under(change.path, rule.path):
        return rule.applies(change.old, change.new)
    if _under(rule.path, change.path):
        rest = rule.path[len(change.path) + 1 :]
        old, new = _at(change.old, rest), _at(change.new, rest)
        return old != new and rule.applies(old, new)
    return False


def _classify(resource_type: str, change: PropertyChange, replace_on_changes: Sequence[str]) -> None:
    top = change.path.split(".", 1)[0].split("[", 1)[0]
    if top in path_params(resource_type):
        change.effect, change.why = REPLACE, "a URL path parameter: it names another resource"
        return
    # The resource's own replaceOnChanges first: the engine replaces on it whatever the provider would do (our AML
    # pools declare it for properties Azure would otherwise not apply in place).
    for wanted in replace_on_changes:
        if wanted == "*" or _under(change.path, wanted):
            change.effect, change.why = REPLACE, f"the resource's replaceOnChanges lists '{wanted}'"
            return
    for rule in immutable(resource_type):
        if _hits(rule, change):
            change.effect = REPLACE if rule.replaces else "refused"
            change.why = ("create-only: " if rule.replaces else f"{rule.outcome}: ") + rule.source
            return


def _ignored(path: str, ignore: Sequence[str]) -> bool:
    return any(_under(path, i) for i in ignore)


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        if set(value) == {"$resourceReference"} and isinstance(value["$resourceReference"], str):
            yield path, value["$resourceReference"]
            return
        for key, sub in value.items():
            yield from _strings(sub, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from _strings(sub, f"{path}[{i}]")


def _change_of(urn: str, op: str, r: Mapping[str, Any], by: Mapping[str, Mapping[str, Any]]) -> ResourceChange:
    component, component_type = _top_component(urn, by)
    return ResourceChange(
        urn=urn,
        type=str(r.get("type")),
        name=str(r.get("name")),
        component=component,
        component_type=component_type,
        op=op,
        custom=bool(r.get("custom", True)),
        protect=bool(r.get("protect")),
        holds=holds_data(str(r.get("type"))),
        delete_before_replace=bool(r.get("deleteBeforeReplace")),
    )


def _options(r: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """The resource's ignoreChanges and replaceOnChanges paths, as the plan records them."""
    return [str(p) for p in r.get("ignoreChanges") or []], [str(p) for p in r.get("replaceOnChanges") or []]


def diff_resources(base: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[list[ResourceChange], int]:
    """Changed resources (creates, updates, replaces, deletes) and the count of unchanged cloud resources."""
    old_by, new_by = _resources(base), _resources(new)
    changes: dict[str, ResourceChange] = {}

    for urn, r in new_by.items():
        if urn not in old_by:
            changes[urn] = _change_of(urn, CREATE, r, new_by)
    for urn, r in old_by.items():
        if urn not in new_by:
            changes[urn] = _change_of(urn, DELETE, r, old_by)

    for urn, r in new_by.items():
        old = old_by.get(urn)
        if old is None or not r.get("custom", True):
            continue
        ignore, replace_on = _options(r)
        props = []
        for path, a, b in _leaf_changes(old.get("inputs") or {}, r.get("inputs") or {}, ""):
            if _ignored(path, ignore):
                continue
            change = PropertyChange(path, a, b)
            _classify(str(r.get("type")), change, replace_on)
            props.append(change)
        if props:
            rc = _change_of(urn, UPDATE, r, new_by)
            rc.properties = props
            rc.op = REPLACE if any(p.effect == REPLACE for p in props) else UPDATE
            changes[urn] = rc

    _cascade(changes, old_by, new_by)
    # Components are listed where they appear or go, not counted: their children carry the changes.
    ordered = sorted(changes.values(), key=lambda c: (c.component, c.component_type, not c.custom, c.type, c.name))
    unchanged = sum(1 for urn, r in new_by.items() if urn in old_by and r.get("custom", True) and urn not in changes)
    return ordered, unchanged


def _cascade(
    changes: dict[str, ResourceChange], old_by: Mapping[str, Mapping[str, Any]], new_by: Mapping[str, Mapping[str, Any]]
) -> None:
    """A replaced resource's id (and URN reference) is new: inputs that hold it change, as `pulumi preview` shows."""
    for _ in range(10):
        replaced = {c.urn for c in changes.values() if c.op == REPLACE}
        handles: dict[str, str] = {}
        for urn in replaced:
            old_id = old_by[urn].get("id")
            if (
                isinstance(old_id, str) and old_id and old_id != COMPUTED
            ):  # unknown ids (preview semantics) match nothing
                handles[old_id.lower()] = urn
            handles[urn.lower()] = urn
        grew = False
        for urn, r in new_by.items():
            if urn not in old_by or not r.get("custom", True) or urn in replaced:
                continue
            current = changes.get(urn)
            known = {p.path for p in current.properties} if current else set()
            ignore, replace_on = _options(r)
            added = []
            for path, text in _strings(r.get("inputs") or {}, ""):
                source = handles.get(text.lower())
                if source is None or path in known or source == urn or _ignored(path, ignore):
                    continue
                change = PropertyChange(path, text, COMPUTED)
                _classify(str(r.get("type")), change, replace_on)
                if change.effect == UPDATE:
                    change.why = f"known after replace of {old_by[source].get('name')}"
                added.append(change)
            if not added:
                continue
            if current is None:
                current = changes[urn] = _change_of(urn, UPDATE, r, new_by)
            current.properties.extend(added)
            if current.op == UPDATE and any(p.effect == REPLACE for p in added):
                current.op = REPLACE
                grew = True
        if not grew:
            return


# ------------------------------------------------------------------------------------------------- cost delta


@dataclass
class CostRow:
    component: str
    type: str
    base: Totals | None
    new: Totals | None

    @property
    def idle_delta(self) -> float:
        return (self.new.idle_monthly if self.new else 0.0) - (self.base.idle_monthly if self.base else 0.0)

    @property
    def max_delta(self) -> float:
        return (self.new.max_hourly if self.new else 0.0) - (self.base.max_hourly if self.base else 0.0)

    @property
    def complete(self) -> bool:
        return all(t is None or (t.idle_complete and t.max_complete) for t in (self.base, self.new))

    def as_json(self) -> dict[str, Any]:
        def side(t: Totals | None) -> dict[str, Any] | None:
            return (
                None
                if t is None
                else {
                    "idleMonthly": round(t.idle_monthly, 2),
                    "maxHourly": round(t.max_hourly, 4),
                    "complete": t.idle_complete and t.max_complete,
                }
            )

        return {
            "component": self.component,
            "type": self.type,
            "base": side(self.base),
            "new": side(self.new),
            "idleMonthlyDelta": round(self.idle_delta, 2),
            "maxHourlyDelta": round(self.max_delta, 4),
        }


@dataclass
class CostDelta:
    rows: list[CostRow]
    total: CostRow
    currency: str
    budgets: list[tuple[str, float | None]]
    budget_warnings: list[str]

    @property
    def changed(self) -> list[CostRow]:
        return [r for r in self.rows if abs(r.idle_delta) >= 0.005 or abs(r.max_delta) >= 0.00005]

    def as_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "total": self.total.as_json(),
            "components": [r.as_json() for r in self.rows],
            "budgets": [{"name": n, "monthly": m} for n, m in self.budgets],
            "budgetWarnings": self.budget_warnings,
        }


def cost_delta(base: CostEstimate, new: CostEstimate) -> CostDelta:
    base_groups = {(g.name, g.type): g for g in base.groups}
    new_groups = {(g.name, g.type): g for g in new.groups}
    rows = [
        CostRow(
            name,
            kind,
            base_groups[(name, kind)].totals if (name, kind) in base_groups else None,
            new_groups[(name, kind)].totals if (name, kind) in new_groups else None,
        )
        for name, kind in sorted(set(base_groups) | set(new_groups))
    ]
    total = CostRow(f"total ({new.stack})", "", base.totals, new.totals)
    return CostDelta(
        rows=rows,
        total=total,
        currency=new.prices.currency,
        budgets=[(b.name, b.monthly) for b in new.budgets],
        budget_warnings=new.warnings(),
    )


# ----------------------------------------------------------------------------------------------- policy delta


@dataclass(frozen=True)
class Finding:
    policy: str
    level: str
    resource_type: str
    resource_name: str
    urn: str
    message: str

    @classmethod
    def of(cls, v: Mapping[str, Any]) -> Finding:
        return cls(
            str(v.get("policy")),
            str(v.get("enforcementLevel")),
            str(v.get("resourceType")),
            str(v.get("resourceName")),
            str(v.get("urn")),
            str(v.get("message")),
        )

    def as_json(self) -> dict[str, str]:
        return {
            "policy": self.policy,
            "enforcementLevel": self.level,
            "resourceType": self.resource_type,
            "resourceName": self.resource_name,
            "urn": self.urn,
            "message": self.message,
        }


@dataclass
class PolicyDelta:
    new: list[Finding]
    resolved: list[Finding]
    unchanged: int
    base_ran: bool
    new_ran: bool
    mandatory: int
    advisory: int

    def as_json(self) -> dict[str, Any]:
        return {
            "new": [f.as_json() for f in self.new],
            "resolved": [f.as_json() for f in self.resolved],
            "unchanged": self.unchanged,
            "baseHasPolicies": self.base_ran,
            "newHasPolicies": self.new_ran,
            "mandatory": self.mandatory,
            "advisory": self.advisory,
        }


def _findings(document: Mapping[str, Any]) -> list[Finding] | None:
    policies = document.get("policies")
    if not isinstance(policies, dict) or not isinstance(policies.get("violations"), list):
        return None
    return [Finding.of(v) for v in policies["violations"] if isinstance(v, dict)]


def policy_delta(base: Mapping[str, Any], new: Mapping[str, Any]) -> PolicyDelta:
    old, now = _findings(base), _findings(new)
    old_set, new_set = set(old or []), set(now or [])
    mandatory = sum(1 for f in new_set if f.level == "mandatory")
    if now is None:
        return PolicyDelta([], [], 0, old is not None, False, 0, 0)
    fresh = sorted(new_set - old_set, key=lambda f: (f.level != "mandatory", f.policy, f.resource_name))
    gone = (
        sorted(old_set - new_set, key=lambda f: (f.level != "mandatory", f.policy, f.resource_name))
        if old is not None
        else []
    )
    return PolicyDelta(fresh, gone, len(new_set & old_set), old is not None, True, mandatory, len(new_set) - mandatory)


# -------------------------------------------------------------------------------------------------- the whole


@dataclass
class PlanDiff:
    base_label: str
    new_label: str
    stack: str
    changes: list[ResourceChange]
    unchanged: int
    base_stack: str = ""
    cost: CostDelta | None = None
    policy: PolicyDelta | None = None

    @property
    def resource_changes(self) -> list[ResourceChange]:
        """Cloud resources only: components group them and are not counted."""
        return [c for c in self.changes if c.custom]

    def counts(self) -> dict[str, int]:
        out = {CREATE: 0, UPDATE: 0, REPLACE: 0, DELETE: 0}
        for c in self.resource_changes:
            out[c.op] += 1
        return out

    @property
    def no_changes(self) -> bool:
        return not self.changes

    @property
    def data_loss(self) -> list[ResourceChange]:
        return [c for c in self.resource_changes if c.data_loss]

    @property
    def refused(self) -> list[ResourceChange]:
        return [c for c in self.resource_changes if c.refused]

    def summary_line(self) -> str:
        if self.no_changes:
            return f"no changes ({self.unchanged} resources unchanged)"
        n = self.counts()
        return (
            f"{n[CREATE]} to create, {n[UPDATE]} to update, {n[REPLACE]} to replace, {n[DELETE]} to delete "
            f"({self.unchanged} unchanged)"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "base": self.base_label,
            "new": self.new_label,
            "stack": self.stack,
            "baseStack": self.base_stack,
            "summary": self.summary_line(),
            "counts": self.counts(),
            "unchanged": self.unchanged,
            "noChanges": self.no_changes,
            "dataLoss": [c.data_loss_text() for c in self.data_loss],
            "refused": [{"urn": c.urn, "paths": [p.path for p in c.refused]} for c in self.refused],
            "changes": [c.as_json() for c in self.changes],
            "cost": self.cost.as_json() if self.cost else None,
            "policies": self.policy.as_json() if self.policy else None,
        }


def estimate_document(document: Mapping[str, Any], prices: PriceTable, where: str) -> CostEstimate:
    try:
        plan = plan_from_json(document, where)
    except PriceTableError as exc:  # names the file and the field
        raise DiffError(str(exc)) from None
    return estimate(plan, prices)


def diff_plans(
    base: Mapping[str, Any],
    new: Mapping[str, Any],
    prices: PriceTable | None = None,
    *,
    base_label: str = "base",
    new_label: str = "new",
    new_cost: CostEstimate | None = None,
) -> PlanDiff:
    """Compare two plan documents: resources, and (with `prices`) cost, and policy findings when both have them."""
    check_plan_document(base, base_label)
    check_plan_document(new, new_label)
    changes, unchanged = diff_resources(base, new)
    stack = str(new["plan"].get("stack") or "")
    result = PlanDiff(base_label, new_label, stack, changes, unchanged, base_stack=str(base["plan"].get("stack") or ""))
    if prices is not None:
        base_cost = estimate_document(base, prices, base_label)
        result.cost = cost_delta(base_cost, new_cost or estimate_document(new, prices, new_label))
    result.policy = policy_delta(base, new)
    return result


# ------------------------------------------------------------------------------------------------------- text


def show_value(value: Any, limit: int = 70) -> str:
    """A value as the diff prints it: JSON, shortened; absent and unknown values in words."""
    if value is MISSING:
        return "(absent)"
    if value == COMPUTED:
        return "(known after apply)"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = json.dumps(value, sort_keys=True)
    if len(text) <= limit:
        return text
    head = limit // 3  # ids differ at their end: keep both ends
    return text[:head] + "…" + text[len(text) - (limit - head - 1) :]


def money(value: float, signed: bool = False) -> str:
    digits = 4 if 0 < abs(value) < 1 else 2
    text = f"${abs(value):,.{digits}f}"
    if not signed:
        return ("-" if value < 0 else "") + text
    if abs(value) < 0.00005:
        return "±$0"
    return ("+" if value > 0 else "-") + text


def cost_cells(row: CostRow) -> tuple[str, str, str, str, str, str]:
    """base idle, new idle, idle delta, base max, new max, max delta (lower bounds marked ≥)."""

    def side(t: Totals | None, monthly: bool) -> str:
        if t is None:
            return "-"
        complete = t.idle_complete if monthly else t.max_complete
        return ("" if complete else "≥ ") + money(t.idle_monthly if monthly else t.max_hourly)

    return (
        side(row.base, True),
        side(row.new, True),
        money(row.idle_delta, signed=True),
        side(row.base, False),
        side(row.new, False),
        money(row.max_delta, signed=True),
    )


def _op_style(op: str) -> tuple[str, ...]:
    return {CREATE: ("green",), UPDATE: ("yellow",), REPLACE: ("red", "bold"), DELETE: ("red",)}[op]


def render_header(diff: PlanDiff, style: Style, budget: bool = True) -> list[str]:
    """What must be read first: data loss, refused updates, the summary line, cost and policy deltas (and the new
    plan's budget check, unless the caller prints it itself)."""
    lines = [style.paint(f"Changes: {diff.base_label} -> {diff.new_label} (stack {diff.stack})", "bold")]
    if diff.base_stack and diff.base_stack != diff.stack:
        lines.append(style.paint(f"note: the base plan is of stack '{diff.base_stack}', not '{diff.stack}'", "yellow"))
    for change in diff.data_loss:
        lines.append(style.wrap(style.paint("DATA LOSS: ", "red", "bold") + change.data_loss_text(), "  "))
    for change in diff.refused:
        paths = ", ".join(f"{p.path} {show_value(p.old, 30)} -> {show_value(p.new, 30)}" for p in change.refused)
        lines.append(
            style.wrap(
                style.paint("REFUSED: ", "red", "bold")
                + f"{change.type.split(':')[-1]} '{change.name}' ({change.component}): {paths}; "
                f"{change.refused[0].why}",
                "  ",
            )
        )
    summary = diff.summary_line()
    lines.append(style.paint("Plan: " + summary, "bold"))
    if diff.cost is not None:
        idle_base, idle_new, idle_delta, max_base, max_new, max_delta = cost_cells(diff.cost.total)
        lines.append(
            f"Cost: idle {idle_base} -> {idle_new}/month ({idle_delta}); max {max_base} -> {max_new}/hour ({max_delta})"
        )
        if budget:
            names = "; ".join(f"budget '{name}' {money(m)}/month" for name, m in diff.cost.budgets if m) or "no budget"
            verdict = (
                style.paint("see warnings", "yellow")
                if diff.cost.budget_warnings
                else style.paint("within budget", "green")
            )
            lines.append(f"Budget (new plan): {names}: {verdict}")
            for warning in diff.cost.budget_warnings:
                lines.append(style.wrap("warning: " + warning, "  "))
    if diff.policy is not None:
        p = diff.policy
        if not p.new_ran:
            lines.append("Policies: the new plan has no policy results (previewed with --no-policies)")
        else:
            base = "" if p.base_ran else " (the base plan has no policy results: every finding counts as new)"
            new_mandatory = sum(1 for f in p.new if f.level == "mandatory")
            lines.append(
                f"Policies: {len(p.new)} new finding(s) ({new_mandatory} mandatory), {len(p.resolved)} "
                f"resolved; now {p.mandatory} mandatory, {p.advisory} advisory{base}"
            )
    return lines


def render_changes(diff: PlanDiff, style: Style) -> list[str]:
    """By component: each changed resource with its symbol, and each changed property old -> new."""
    lines: list[str] = []
    group = None
    for change in diff.changes:
        key = (change.component, change.component_type)
        if key != group:
            group = key
            kind = f" ({change.component_type})" if change.component_type else ""
            lines.append(style.paint(f"{change.component}{kind}", "bold"))
        symbol = SYMBOL[change.op]
        what = change.type.split(":", 1)[-1] if change.custom else change.type
        flags = "  [protected]" if change.protect else ""
        flags += "  [delete before replace]" if change.op == REPLACE and change.delete_before_replace else ""
        lines.append("  " + style.paint(f"{symbol} {what}  {change.name}", *_op_style(change.op)) + flags)
        for p in change.properties:
            note = ""
            if p.effect == REPLACE:
                note = style.paint(f"  [forces replacement: {p.why}]", "red")
            elif p.effect == "refused":
                note = style.paint(f"  [{p.why}]", "red")
            elif p.why:
                note = style.paint(f"  [{p.why}]", "dim")
            lines.append(f"      {p.path}: {show_value(p.old)} -> {show_value(p.new)}{note}")
    return lines


def render_cost_delta(delta: CostDelta) -> list[str]:
    header = ("component", "idle $/month", "new", "Δ idle", "max $/hour", "new", "Δ max")
    rows = [(f"{r.component}" + (f" ({r.type})" if r.type else ""), *cost_cells(r)) for r in delta.changed]
    rows.append((delta.total.component, *cost_cells(delta.total)))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    out = ["Cost delta (list prices; ≥ some item unpriced):"]
    for r in [header, *rows]:
        out.append(
            ("  " + "  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r))).rstrip()
        )
    return out


def render_policy_delta(delta: PolicyDelta) -> list[str]:
    out: list[str] = []
    for title, findings in (("New policy findings", delta.new), ("Resolved policy findings", delta.resolved)):
        if findings:
            out.append(f"{title}:")
            out += [f"  [{f.level}] {f.policy}: {f.resource_name} ({f.resource_type}): {f.message}" for f in findings]
    return out


def render_diff(diff: PlanDiff, style: Style | None = None, details: bool = True) -> str:
    style = style or Style()
    lines = render_header(diff, style)
    if diff.no_changes and not (diff.policy and (diff.policy.new or diff.policy.resolved)):
        return "\n".join(lines)
    if details:
        lines += [""] + render_changes(diff, style)
        if diff.cost is not None and diff.cost.changed:
            lines += [""] + render_cost_delta(diff.cost)
        if diff.policy is not None and (diff.policy.new or diff.policy.resolved):
            lines += [""] + render_policy_delta(diff.policy)
    return "\n".join(lines)
