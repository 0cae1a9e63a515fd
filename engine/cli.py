"""The `aiinfra` command: `aiinfra preview ENV [--project-dir DIR] [--json FILE] [--compare BASE.json] ...` and
`aiinfra diff BASE.json NEW.json`.

`preview` runs the program `pulumi up` would run (the project's `Pulumi.yaml` `main`), with the stack's
`Pulumi.<env>.yaml`, under the offline engine. It prints a one-screen summary first (resources, idle/max cost against the
budget, policy findings, quota, warnings), then the resource tree, the cost table, the quota table and the policy
pack's verdict (run over the engine's analyzer protocol); `--quiet` keeps the summary and the findings. With
`--compare BASE.json` (a plan this command wrote, e.g. on main) it also says what the change does: creates, updates,
replacements (and the data they would lose), deletes, the cost delta and the policy delta; `--markdown FILE` writes all
of it as a pull-request comment. In the aiinfra repository `python -m stacks.preview ENV` is the same command with the
repository as the default project. `diff` compares two saved plans without running anything.

Exit codes: 0 ok, 1 mandatory policy violations, 2 config or usage error, 3 the program itself failed (its error
and its own frames are printed).

Outputs of new resources (`--semantics`): `up` (the default) fabricates what `pulumi up` leaves behind (ARM ids,
principal ids, endpoints), so every `apply` of the program runs and the pack judges the environment as it will be;
`preview` leaves them unknown, as `pulumi preview --policy-pack` in CI shows them (an `apply` on an unknown does not
run; a policy sees unknowns). The default is `up` because the preview's purpose is the environment a deploy leaves
behind, and its cost and diagram need the resources every `apply` creates; run `--semantics preview` too to see what
a CI gate will see.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from . import EngineError, Plan, ProgramError, ProgramFailure, run_program
from .analyzer import add_policy_arguments, run_policy_step
from .cost import (
    CostEstimate,
    PriceTableError,
    estimate,
    load_price_table,
    plan_from_json,
    render_cost,
    totals_cells,
)
from .diagram import write_diagram
from .diff import (
    DiffError,
    PlanDiff,
    diff_plans,
    load_plan_document,
    render_changes,
    render_cost_delta,
    render_header,
    render_policy_delta,
)
from .markdown import render_markdown
from .monitor import SEMANTICS, STACK_REFERENCE_FLAG
from .quota import QuotaNeed, gpu_vcpus, quota_needs, render_quota
from .report import render_summary, render_tree
from .runner import DEFAULT_SEMANTICS
from .textstyle import Style

# aiinfra's own pack: the folder of the `aiinfra.policies` package (PulumiPolicy.yaml, __main__.py, config/).
AIINFRA_PACK = Path(__file__).resolve().parent.parent / "policies"
EXIT_OK, EXIT_POLICY, EXIT_USAGE, EXIT_PROGRAM = 0, 1, 2, 3
SUMMARY_WARNINGS = 3  # warnings printed in the one-screen summary; the rest follow at the end


def _parser(prog: str, default_project: Path) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Preview an environment offline: resource tree, policies and cost, with no Pulumi CLI or Azure.",
    )
    parser.add_argument("env", help="stack / environment name, e.g. dev, test, prd")
    parser.add_argument(
        "--json", metavar="FILE", type=Path, help="write the whole plan as JSON to FILE ('-' for stdout)"
    )
    parser.add_argument(
        "--stack-file", metavar="PATH", type=Path, help="use this stack config file instead of Pulumi.<env>.yaml"
    )
    parser.add_argument(
        "--project-dir",
        metavar="DIR",
        type=Path,
        default=default_project,
        help=f"Pulumi project to run (default: {default_project})",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="print only the summary and the policy findings (no tree, tables or change details)",
    )
    parser.add_argument(
        "--compare",
        metavar="BASE_PLAN",
        type=Path,
        help="a plan JSON this command wrote (e.g. on main): show what this preview changes against "
        "it (creates, updates, replacements and data loss, deletes; cost and policy deltas)",
    )
    parser.add_argument(
        "--markdown",
        metavar="FILE",
        type=Path,
        help="write the summary (and, with --compare, the change) as a pull-request comment in Markdown to FILE",
    )
    parser.add_argument(
        "--semantics",
        choices=SEMANTICS,
        default=DEFAULT_SEMANTICS,
        help="outputs of new resources: 'up' fabricates what `pulumi up` leaves behind (default), "
        "'preview' leaves them unknown as `pulumi preview` in CI does",
    )
    parser.add_argument(
        STACK_REFERENCE_FLAG,
        metavar="STACK=FILE",
        action="append",
        default=[],
        dest="stack_references",
        help="outputs of a stack the program reads with StackReference: a plan JSON this tool wrote "
        "for it, or `pulumi stack output --json` (repeatable)",
    )
    add_policy_arguments(parser)  # policies: --policy-pack, --policy-pack-config, --no-policies
    parser.add_argument(
        "--prices",
        metavar="FILE",
        type=Path,
        action="append",
        help="price table(s) in the Azure Retail Prices API's shape, replacing the built-in one "
        "(repeatable; later files win; default: $AIINFRA_PRICES, else engine/prices/)",
    )
    parser.add_argument(
        "--diagram",
        metavar="FILE",
        type=Path,
        help="write a Mermaid diagram of the environment to FILE (.md: a Markdown page GitHub renders)",
    )
    return parser


def write_json(document: dict[str, Any], target: Path) -> None:
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    if str(target) == "-":
        sys.stdout.write(text)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


class Progress:
    """One line per long step on stderr, only on a terminal (CI logs and captured output stay clean)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = hasattr(self.stream, "isatty") and self.stream.isatty()

    def step(self, text: str) -> None:
        if self.enabled:
            print(f"… {text}", file=self.stream, flush=True)


def render_preview_summary(
    plan: Plan,
    cost: CostEstimate,
    document: dict[str, Any],
    needs: list[QuotaNeed],
    style: Style,
    diff: PlanDiff | None = None,
) -> str:
    """The one screen a reviewer reads first (at most 25 lines plus wrapped warnings)."""
    lines: list[str] = []
    if diff is not None:
        lines += render_header(diff, style, budget=False) + [""]
    custom = sum(1 for r in plan.resources if r.custom)
    idle, _, peak, _ = totals_cells(cost.totals)
    rows = [
        ("resources", f"{len(plan.resources)} ({custom} cloud resources, {len(plan.resources) - custom} components)"),
        ("cost", f"idle {idle}/month, max {peak}/hour (list prices)"),
    ]
    for budget in cost.budgets:
        if budget.monthly:
            totals = cost.totals
            over = totals.max_monthly > budget.monthly or totals.max_unbounded
            verdict = (
                style.paint("a month at max scale exceeds it", "yellow")
                if over
                else style.paint("within it at max scale", "green")
            )
            rows.append(
                (
                    "budget",
                    f"'{budget.name}' ${budget.monthly:,.0f}/month: idle "
                    f"{totals.idle_monthly / budget.monthly:.0%}, max scale "
                    f"{totals.max_monthly / budget.monthly:.0%}; {verdict}",
                )
            )
    policies = document.get("policies")
    if policies:
        mandatory, advisory = policies["summary"]["mandatory"], policies["summary"]["advisory"]
        text = f"{mandatory} mandatory, {advisory} advisory finding(s)"
        rows.append(("policies", style.paint(text, "red" if mandatory else "yellow" if advisory else "green")))
    else:
        rows.append(("policies", "not run"))
    dedicated, low = gpu_vcpus(needs)
    gpus = sum(n.amount for n in needs if n.unit == "GPUs")
    if needs:
        rows.append(
            (
                "GPU quota",
                f"{dedicated:,.0f} dedicated + {low:,.0f} low-priority/Spot vCPUs, "
                f"{gpus:,.0f} serverless GPU(s) at full scale (see Quota)",
            )
        )
    warnings = [*plan.warnings, *cost.warnings()]
    rows.append(("warnings", str(len(warnings))))
    width = max(len(k) for k, _ in rows)
    lines.append(
        style.paint(
            f"Offline preview of stack '{plan.stack}' (project {plan.project}, program {plan.program}/)", "bold"
        )
    )
    lines += [f"  {k.ljust(width)}  {v}" for k, v in rows]
    lines += [style.wrap(f"warning: {w}", "    ") for w in warnings[:SUMMARY_WARNINGS]]
    if len(warnings) > SUMMARY_WARNINGS:
        lines.append(f"    ... and {len(warnings) - SUMMARY_WARNINGS} more warning(s), listed at the end")
    return "\n".join(lines)


def _stack_references(items: list[str]) -> dict[str, Path] | None:
    """`--stack-reference STACK=FILE` flags as a map; None (after printing the error) if one is malformed."""
    references: dict[str, Path] = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            print(
                f"error: {STACK_REFERENCE_FLAG} {item}: expected STACK=FILE, e.g. acme/network/prd=network-prd.json",
                file=sys.stderr,
            )
            return None
        references[name] = Path(path)
    return references


def _print_details(
    plan: Plan, cost: CostEstimate, needs: list[QuotaNeed], diff: PlanDiff | None, style: Style, out: TextIO
) -> None:
    """The full report after the summary (left out by --quiet): changes, tree, types, cost and quota."""
    if diff is not None and not diff.no_changes:
        print("\n" + "\n".join(render_changes(diff, style)), file=out)
        if diff.cost is not None and diff.cost.changed:
            print("\n" + "\n".join(render_cost_delta(diff.cost)), file=out)
    print("\n" + render_tree(plan), file=out)
    print("\nResources by type:\n" + render_summary(plan), file=out)
    print("\n" + render_cost(cost, items=True), file=out)
    print("\n" + render_quota(needs), file=out)


def preview(
    argv: list[str] | None = None, *, prog: str = "aiinfra preview", default_project: Path | None = None
) -> int:
    """`aiinfra preview`: one stack of a Pulumi project, offline. Returns the exit code."""
    args = _parser(prog, default_project or Path.cwd()).parse_args(argv)
    if args.policy_pack is None and not (Path(args.project_dir) / "policies" / "PulumiPolicy.yaml").is_file():
        # A team's own program without a pack of its own is judged by aiinfra's pack (and its <env>.json config).
        args.policy_pack = AIINFRA_PACK
    progress = Progress()
    try:
        prices = load_price_table(args.prices)
        base = load_plan_document(args.compare) if args.compare else None
    except (PriceTableError, DiffError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    references = _stack_references(args.stack_references)
    if references is None:
        return EXIT_USAGE
    try:
        progress.step(f"running the program for stack '{args.env}'")
        plan: Plan = run_program(
            args.project_dir, args.env, args.stack_file, semantics=args.semantics, stack_references=references
        )
    except ProgramFailure as exc:
        print(f"error: the program failed\n{exc}", file=sys.stderr)
        return EXIT_PROGRAM
    except (EngineError, ProgramError) as exc:
        message = str(exc)
        if args.stack_file is not None:
            # The program names the file `pulumi up` would read; here the user gave another one.
            message = message.replace(f"Pulumi.{args.env}.yaml", str(args.stack_file))
        print(f"error: {message}", file=sys.stderr)
        return EXIT_USAGE

    document: dict[str, Any] = {"plan": plan.as_json()}
    out = sys.stderr if str(args.json) == "-" else sys.stdout
    style = Style.for_stream(out)
    progress.step("pricing the plan")
    cost = estimate(plan, prices)
    document["cost"] = cost.as_json()
    needs = quota_needs(cost, plan.resources)
    document["quota"] = [n.as_json() for n in needs]

    # The CrossGuard pack over the plan, as `pulumi preview --policy-pack` runs it; its report is printed after the
    # summary, so it is collected first.
    progress.step("running the policy pack")
    report = io.StringIO()
    exit_code = run_policy_step(args, plan, document, report)
    if exit_code == EXIT_USAGE:
        return EXIT_USAGE

    diff = None
    if base is not None:
        progress.step(f"comparing with {args.compare}")
        diff = diff_plans(base, document, prices, base_label=str(args.compare), new_label="this preview", new_cost=cost)
        document["diff"] = diff.as_json()

    print(render_preview_summary(plan, cost, document, needs, style, diff), file=out)
    if not args.quiet:
        _print_details(plan, cost, needs, diff, style, out)
    if diff is not None and diff.policy is not None and (diff.policy.new or diff.policy.resolved):
        print("\n" + "\n".join(render_policy_delta(diff.policy)), file=out)
    if report.getvalue():
        print(report.getvalue().rstrip("\n"), file=out)
    more = [*plan.warnings, *cost.warnings()][SUMMARY_WARNINGS:]
    if more:
        print("\nMore warnings:\n" + "\n".join(style.wrap(f"warning: {w}", "  ") for w in more), file=out)
    _write_outputs(args, plan, document, prog, out)
    return exit_code


def _write_outputs(args: argparse.Namespace, plan: Plan, document: dict[str, Any], prog: str, out: TextIO) -> None:
    """The files asked for with --diagram, --markdown and --json."""
    if args.diagram:
        write_diagram(plan, args.diagram, command=f"{prog} {args.env} --diagram {args.diagram}")
        print(f"diagram: wrote {args.diagram}", file=out)
    if args.markdown:
        write_text(render_markdown(document), args.markdown)
        print(f"markdown: wrote {args.markdown}", file=out)
    if args.json:
        write_json(document, args.json)


def write_text(text: str, target: Path) -> None:
    if str(target) == "-":
        sys.stdout.write(text)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def diff(argv: list[str] | None = None, *, prog: str = "aiinfra diff") -> int:
    """`aiinfra diff BASE.json NEW.json`: what the change from one saved plan to another does. Returns the exit code."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Compare two plans written by `preview --json`: "
        "creates, updates, replacements (and data loss), deletes, cost and policy deltas.",
    )
    parser.add_argument("base", type=Path, help="the plan before the change (e.g. from main)")
    parser.add_argument("new", type=Path, help="the plan after the change")
    parser.add_argument("--markdown", metavar="FILE", type=Path, help="write the comparison as a PR comment to FILE")
    parser.add_argument("--json", metavar="FILE", type=Path, help="write the comparison as JSON to FILE ('-': stdout)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary (data loss, counts, deltas)")
    parser.add_argument(
        "--prices",
        metavar="FILE",
        type=Path,
        action="append",
        help="price table(s) for both plans (default: $AIINFRA_PRICES, else engine/prices/)",
    )
    args = parser.parse_args(argv)
    try:
        prices = load_price_table(args.prices)
        base, new = load_plan_document(args.base), load_plan_document(args.new)
        new_plan = plan_from_json(new, str(args.new))
        new_cost = estimate(new_plan, prices)
        result = diff_plans(base, new, prices, base_label=str(args.base), new_label=str(args.new), new_cost=new_cost)
    except (PriceTableError, DiffError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    out = sys.stderr if str(args.json) == "-" else sys.stdout
    style = Style.for_stream(out)
    lines = render_header(result, style)
    if not args.quiet and not result.no_changes:
        lines += [""] + render_changes(result, style)
        if result.cost is not None and result.cost.changed:
            lines += [""] + render_cost_delta(result.cost)
    if result.policy is not None and (result.policy.new or result.policy.resolved):
        lines += [""] + render_policy_delta(result.policy)
    print("\n".join(lines), file=out)
    if args.markdown:
        document = {
            **new,
            "cost": new_cost.as_json(),
            "diff": result.as_json(),
            "quota": [n.as_json() for n in quota_needs(new_cost, new_plan.resources)],
        }
        write_text(render_markdown(document), args.markdown)
        print(f"markdown: wrote {args.markdown}", file=out)
    if args.json:
        write_json(result.as_json(), args.json)
    return EXIT_OK


COMMANDS = {"preview": preview, "diff": diff}


def exit_with(code: int) -> None:
    """Exit without the interpreter's last GC passes: the run leaves hundreds of thousands of objects behind (the
    SDK's modules); frozen, they are out of the collector's sight, which saves about a second at exit."""
    gc.freeze()
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """The `aiinfra` console script: `aiinfra COMMAND ...`."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        known = ", ".join(COMMANDS)
        print(
            f"usage: aiinfra {{{known}}} ...  (aiinfra COMMAND --help for its options)",
            file=sys.stdout if argv and argv[0] in ("-h", "--help") else sys.stderr,
        )
        exit_with(EXIT_OK if argv and argv[0] in ("-h", "--help") else EXIT_USAGE)
    exit_with(COMMANDS[argv[0]](argv[1:]))


if __name__ == "__main__":
    main()
