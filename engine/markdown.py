"""The pull-request comment: a preview (and, with a base plan, its diff) as GitHub / Azure DevOps Markdown.

Built from the JSON document the preview writes (`plan`, `cost`, `policies`, `quota`, `diff`), so a saved document is
enough. Loud things first (data loss, refused updates), then the summary tables, then the long lists inside
collapsible `<details>` blocks. A hidden marker line names the stack, so a pipeline can update its own comment instead
of adding a new one on every push.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .diff import COMPUTED, MISSING, money, show_value

MARKER = "<!-- aiinfra-plan:{stack} -->"
SYMBOL = {"create": "+", "update": "~", "replace": "±", "delete": "-"}
_CALLOUTS = 10  # data-loss and refused call-outs shown one by one; the rest are counted
COMMENT_LIMIT = 65_536  # GitHub's maximum comment body (Azure DevOps allows more): long tables are cut to fit


def _cell(value: Any) -> str:
    text = str(value).replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= 120 else text[:119] + "…"


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]], align: str = "", max_rows: int = 200) -> list[str]:
    rows = list(rows)
    out = [
        "| " + " | ".join(header) + " |",
        "|"
        + "|".join(("---:" if a == "r" else "---") for a in (align or "l" * len(header)).ljust(len(header), "l"))
        + "|",
    ]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows[:max_rows]]
    if len(rows) > max_rows:
        out.append(f"\n_{len(rows) - max_rows} more rows left out; the full list is in the plan JSON artifact._")
    return out


def _money(value: float | None, signed: bool = False) -> str:
    return "-" if value is None else money(value, signed)


def _value(value: Any, absent: bool) -> str:
    text = show_value(MISSING if absent else value, limit=60)
    if absent or value == COMPUTED:
        return f"_{text}_"
    return "`" + text.replace("`", "'") + "`"


def _details(summary: str, body: list[str]) -> list[str]:
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>", ""]


def _diff_callouts(diff: Mapping[str, Any]) -> list[str]:
    """The DATA LOSS and REFUSED callouts that head the diff section."""
    out: list[str] = []
    losses = list(diff.get("dataLoss") or [])
    for text in losses[:_CALLOUTS]:
        out += ["> [!CAUTION]", f"> **DATA LOSS:** {text}", ""]
    if len(losses) > _CALLOUTS:
        out += [
            "> [!CAUTION]",
            f"> **DATA LOSS** on {len(losses) - _CALLOUTS} more resources: see the changes below",
            "",
        ]
    refused = {r["urn"]: r["paths"] for r in diff.get("refused") or []}
    refusals = [c for c in diff.get("changes") or [] if c["urn"] in refused]
    for change in refusals[:_CALLOUTS]:
        reasons = [p for p in change["properties"] if p["effect"] == "refused"]
        out += [
            "> [!WARNING]",
            f"> **REFUSED:** {change['type'].split(':')[-1]} `{change['name']}`: "
            + "; ".join(f"`{p['path']}`: {p['why']}" for p in reasons),
            "",
        ]
    if len(refusals) > _CALLOUTS:
        out += [
            "> [!WARNING]",
            f"> **REFUSED** on {len(refusals) - _CALLOUTS} more resources: see the changes below",
            "",
        ]
    return out


def _change_rows(changes: list[Any]) -> list[list[Any]]:
    """One row per changed property (or per resource changed without property changes), components left out."""
    rows = []
    for c in changes:
        if _is_component(c):
            continue
        props = c.get("properties") or []
        if not props:
            rows.append([SYMBOL[c["op"]], c["component"], f"{c['type'].split(':', 1)[-1]} `{c['name']}`", "", ""])
        for p in props:
            effect = {"replace": "**forces replacement**", "refused": "**Azure refuses**"}.get(p["effect"], "")
            rows.append(
                [
                    SYMBOL[c["op"]],
                    c["component"],
                    f"{c['type'].split(':', 1)[-1]} `{c['name']}`",
                    f"`{p['path']}`: {_value(p['old'], p['oldAbsent'])} → {_value(p['new'], p['newAbsent'])}",
                    effect,
                ]
            )
    return rows


def _diff_section(diff: Mapping[str, Any], max_rows: int) -> list[str]:
    out = _diff_callouts(diff)
    out.append(f"**Plan:** {diff['summary']}")
    out.append("")
    changes = list(diff.get("changes") or [])
    if changes:
        by_component: dict[str, dict[str, int]] = {}
        for c in changes:
            if not _is_component(c):
                counts = by_component.setdefault(c["component"], {k: 0 for k in SYMBOL})
                counts[c["op"]] += 1
        out += _table(
            ["component", "+ create", "~ update", "± replace", "- delete"],
            ([name, n["create"], n["update"], n["replace"], n["delete"]] for name, n in sorted(by_component.items())),
            "lrrrr",
        )
        out.append("")
        rows = _change_rows(changes)
        out += _details(
            f"Changes by resource ({sum(1 for c in changes if not _is_component(c))})",
            _table(["", "component", "resource", "old → new", ""], rows, max_rows=max_rows),
        )
    cost = diff.get("cost")
    moved = cost and (
        abs(cost["total"]["idleMonthlyDelta"]) >= 0.005
        or abs(cost["total"]["maxHourlyDelta"]) >= 5e-5
        or any(abs(r["idleMonthlyDelta"]) >= 0.005 for r in cost["components"])
    )
    if cost and not moved:
        out += ["**Cost:** unchanged", ""]
    if cost and moved:
        rows = []
        for row in [*cost["components"], cost["total"]]:
            if row is not cost["total"] and abs(row["idleMonthlyDelta"]) < 0.005 and abs(row["maxHourlyDelta"]) < 5e-5:
                continue
            base, new = row.get("base") or {}, row.get("new") or {}
            rows.append(
                [
                    row["component"],
                    _money(base.get("idleMonthly")),
                    _money(new.get("idleMonthly")),
                    _money(row["idleMonthlyDelta"], True),
                    _money(base.get("maxHourly")),
                    _money(new.get("maxHourly")),
                    _money(row["maxHourlyDelta"], True),
                ]
            )
        out += ["#### Cost delta", ""]
        out += _table(["component", "idle $/month", "new", "Δ", "max $/hour", "new", "Δ"], rows, "lrrrrrr")
        out.append("")
    policies = diff.get("policies")
    if policies and policies.get("newHasPolicies"):
        new, resolved = policies["new"], policies["resolved"]
        out += [
            "#### Policy delta",
            "",
            f"{len(new)} new finding(s), {len(resolved)} resolved"
            + ("" if policies.get("baseHasPolicies") else " (the base plan has no policy results)"),
            "",
        ]
        rows = [["new", f["enforcementLevel"], f["policy"], f"{f['resourceName']}", f["message"]] for f in new]
        rows += [
            ["resolved", f["enforcementLevel"], f["policy"], f"{f['resourceName']}", f["message"]] for f in resolved
        ]
        if rows:
            out += _table(["", "level", "policy", "resource", "message"], rows)
            out.append("")
    return out


def _is_component(change: Mapping[str, Any]) -> bool:
    return not change.get("custom", True)


def render_markdown(document: Mapping[str, Any], *, title: str | None = None) -> str:
    """The PR comment for one environment: `document` as `preview --json` writes it (with `diff` when compared), cut
    to fit a GitHub comment (the longest table, the changes by resource, gets fewer rows)."""
    for max_rows in (200, 100, 40, 10):
        text = _render(document, title, max_rows)
        if len(text) < COMMENT_LIMIT:
            return text
    return text[: COMMENT_LIMIT - 200] + "\n\n_Cut to fit a comment; the full plan is in the plan JSON artifact._\n"


def _render(document: Mapping[str, Any], title: str | None, max_rows: int) -> str:
    plan = document["plan"]
    stack = str(plan.get("stack") or "")
    cost = document.get("cost") or {}
    totals = cost.get("totals") or {}
    policies = document.get("policies")
    quota = document.get("quota") or []
    diff = document.get("diff")

    out = [MARKER.format(stack=stack), f"### {title or f'aiinfra plan: `{stack}`'}", ""]
    if diff:
        out += _diff_section(diff, max_rows)
    budget = next((b for b in cost.get("budgets") or [] if b.get("monthly")), None)
    idle, peak = totals.get("idleMonthly"), totals.get("maxHourly")
    lower = {True: "", False: "≥ "}
    rows = [
        ["resources", f"{plan.get('resourceCount')}"],
        ["idle", f"{lower[bool(totals.get('idleComplete', True))]}{_money(idle)}/month"],
        [
            "max scale",
            f"{lower[bool(totals.get('maxComplete', True))]}{_money(peak)}/hour "
            f"({_money(totals.get('maxMonthly'))}/month)",
        ],
    ]
    if budget:
        monthly = budget["monthly"]
        rows.append(
            [
                "budget",
                f"{_money(monthly)}/month: idle {idle / monthly:.0%}, max scale "
                f"{(totals.get('maxMonthly') or 0) / monthly:.0%}",
            ]
        )
    if policies:
        summary = policies.get("summary") or {}
        rows.append(["policies", f"{summary.get('mandatory', 0)} mandatory, {summary.get('advisory', 0)} advisory"])
    else:
        rows.append(["policies", "not run"])
    out += ["#### Summary", ""] + _table(["", ""], rows) + [""]
    for warning in cost.get("warnings") or []:
        out.append(f"> [!NOTE]\n> {warning}\n")
    for warning in plan.get("warnings") or []:
        out.append(f"> [!NOTE]\n> {warning}\n")
    if policies and policies.get("violations"):
        out += _details(
            f"Policy findings ({len(policies['violations'])})",
            _table(
                ["level", "policy", "resource", "message"],
                ([v["enforcementLevel"], v["policy"], v["resourceName"], v["message"]] for v in policies["violations"]),
            ),
        )
    if cost.get("components"):
        out += _details(
            "Cost by component",
            _table(
                ["component", "idle $/month", "max $/hour"],
                ([c["name"], _money(c["idleMonthly"]), _money(c["maxHourly"])] for c in cost["components"]),
                "lrr",
            ),
        )
    if quota:
        body = _table(
            ["service", "where", "quota", "kind", "at full scale", "pools"],
            (
                [
                    q["service"],
                    q["scope"],
                    q["family"],
                    q["kind"],
                    "unbounded" if q["unbounded"] else f"{q['amount']:,.0f} {q['unit']}",
                    ", ".join(q["pools"]),
                ]
                for q in quota
            ),
            "llllrl",
        )
        body += ["", "How to request it:", ""]
        body += [
            f"- **{service}**: {how}"
            for service, how in dict.fromkeys((q["service"], q["howToRequest"]) for q in quota)
        ]
        out += _details("Quota needed at full scale", body)
    out.append(f"<sub>Offline preview by aiinfra (no cloud credentials); {cost.get('basis', '')}</sub>")
    return "\n".join(out).rstrip() + "\n"
