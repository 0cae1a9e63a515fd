"""Human-readable views of a plan: the resource tree and a count by type."""

from __future__ import annotations

from .plan import Plan


def _label(type_token: str, name: str, protect: bool) -> str:
    flags = "  [protected]" if protect else ""
    return f"{name}  ({type_token}){flags}"


def render_tree(plan: Plan) -> str:
    """Components with their children, indented; siblings sorted by type then name."""
    children: dict[str | None, list] = {}
    urns = {r.urn for r in plan.resources}
    for r in plan.resources:
        parent = r.parent if r.parent in urns else None
        children.setdefault(parent, []).append(r)
    for kids in children.values():
        kids.sort(key=lambda r: (r.custom, r.type, r.name))

    lines = [f"{plan.project}-{plan.stack}  (pulumi:pulumi:Stack)"]

    def walk(parent: str | None, prefix: str) -> None:
        kids = children.get(parent, [])
        for i, r in enumerate(kids):
            last = i == len(kids) - 1
            lines.append(prefix + ("└─ " if last else "├─ ") + _label(r.type, r.name, r.protect))
            walk(r.urn, prefix + ("   " if last else "│  "))

    walk(None, "")
    return "\n".join(lines)


def render_summary(plan: Plan) -> str:
    summary = plan.summary()
    width = max((len(t) for t in summary), default=10)
    rows = [f"  {t:<{width}}  {n:>4}" for t, n in summary.items()]
    custom = sum(1 for r in plan.resources if r.custom)
    rows.append(
        f"  {'total':<{width}}  {len(plan.resources):>4}  ({custom} cloud resources, "
        f"{len(plan.resources) - custom} components)"
    )
    return "\n".join(rows)
