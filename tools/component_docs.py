"""Args tables of the component pages, generated from the args models: `python -m tools.component_docs [--check]`.

A page (`docs/components/<module>.md`) marks where a table goes with two lines:

    <!-- args-table:start SharedServicesArgs -->
    <!-- args-table:end -->

and this replaces what is between them with the model's fields (YAML key and Python name, type, default, and the
description pydantic takes from each field's docstring), followed by a table for every nested model the fields use
that no page documents yet. References to a model documented elsewhere link to it. `--check` writes nothing and
exits 1 when a page differs from what it would write (the test suite runs it), 2 on a bad marker.
"""

from __future__ import annotations

import argparse
import enum
import importlib
import inspect
import json
import pkgutil
import re
import sys
import types
import typing
from pathlib import Path
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from aiinfra.catalog.gpu_skus import GpuVmSize
from aiinfra.components._base import ArgsModel, InputStr, ResourceList

DOCS_DIR = Path(__file__).resolve().parent.parent / "docs" / "components"
_MARKER = re.compile(r"^<!-- args-table:start (\w+) -->\n(.*?)^<!-- args-table:end -->$", re.MULTILINE | re.DOTALL)

# Annotated aliases the components share, by what a reader should see.
_ALIASES: list[tuple[Any, str]] = [
    (InputStr, "string or Output"),
    (GpuVmSize, "GPU VM size (string)"),
    (ResourceList, "list of Resource"),
]
_BOUNDS = [
    (annotated_types.Ge, "ge", "≥"),
    (annotated_types.Gt, "gt", ">"),
    (annotated_types.Le, "le", "≤"),
    (annotated_types.Lt, "lt", "<"),
    (annotated_types.MinLen, "min_length", "min length"),
    (annotated_types.MaxLen, "max_length", "max length"),
]


class DocsError(Exception):
    """A page marker that cannot be filled (unknown model, unbalanced markers)."""


def public_args_models() -> dict[str, type[ArgsModel]]:
    """Every public ArgsModel subclass defined in a `components` module, by class name."""
    package = importlib.import_module("aiinfra.components")
    found: dict[str, type[ArgsModel]] = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, ArgsModel)
                and value.__module__ == module.__name__
                and not name.startswith("_")
            ):
                found[name] = value
    return dict(sorted(found.items()))


def undocumented_fields(model: type[BaseModel]) -> list[str]:
    """Fields of `model` without a description (a docstring under the field, or `Field(description=...)`)."""
    return [name for name, field in model.model_fields.items() if not (field.description or "").strip()]


# --- rendering ----------------------------------------------------------------------------------------------------

Link = typing.Callable[[type[BaseModel]], str]


def _anchor(model: type[BaseModel]) -> str:
    """GitHub's anchor of the table heading "#### `Model`"."""
    return model.__name__.lower()


def _escape(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def nested_models(model: type[BaseModel]) -> list[type[BaseModel]]:
    """Models `model`'s fields use, directly or through other nested models, in order of first use."""
    seen: list[type[BaseModel]] = []
    queue = [model]
    while queue:
        current = queue.pop(0)
        hints = typing.get_type_hints(current, include_extras=True)
        for name, field in current.model_fields.items():
            for nested in _models_in(hints.get(name, field.annotation)):
                if nested not in seen and nested is not model:
                    seen.append(nested)
                    queue.append(nested)
    return seen


def _type_text(annotation: Any, link: Link) -> str:
    for alias, text in _ALIASES:
        if annotation == alias:
            return text
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_text(args[0], link)
    if origin is Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        text = " or ".join(_type_text(a, link) for a in options)
        return f"{text} or null" if len(options) < len(args) else text
    if origin in (list, tuple, set, frozenset):
        return f"list of {_type_text(args[0], link)}" if args else "list"
    if origin is dict:
        return f"map of {_type_text(args[0], link)} to {_type_text(args[1], link)}" if args else "map"
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return f"[`{annotation.__name__}`]({link(annotation)})"
    if inspect.isclass(annotation) and issubclass(annotation, enum.Enum):
        return " \\| ".join(f"`{m.value}`" for m in annotation)
    names = {str: "string", int: "int", float: "number", bool: "bool", Any: "any"}
    if annotation in names:
        return names[annotation]
    return f"`{getattr(annotation, '__name__', str(annotation))}`"


def _bounds(field: FieldInfo) -> str:
    parts = [
        f"{symbol} {getattr(m, attribute)}"
        for m in field.metadata
        for kind, attribute, symbol in _BOUNDS
        if isinstance(m, kind)
    ]
    return f", {', '.join(parts)}" if parts else ""


def _value(value: Any) -> str:
    if isinstance(value, BaseModel):
        return "defaults"
    if isinstance(value, enum.Enum):
        value = value.value
    return f"`{json.dumps(value, default=str, ensure_ascii=False)}`"


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        return _value(field.default_factory())  # type: ignore[call-arg]
    return _value(field.default)


def table(model: type[BaseModel], link: Link | None = None) -> str:
    """One model's table: YAML key, Python name, type, default and description of every field."""
    link = link or (lambda m: f"#{_anchor(m)}")
    hints = typing.get_type_hints(model, include_extras=True)
    summary = inspect.cleandoc(model.__doc__ or "").split("\n\n")[0]
    lines = [
        f"#### `{model.__name__}`",
        "",
        _escape(summary),
        "",
        "| YAML key | Python name | type | default | description |",
        "|---|---|---|---|---|",
    ]
    for name, field in model.model_fields.items():
        kind = _type_text(hints.get(name, field.annotation), link) + _bounds(field)
        lines.append(
            f"| `{field.alias or name}` | `{name}` | {kind} | {_default(field)} | {_escape(field.description or '')} |"
        )
    return "\n".join(lines)


# --- pages --------------------------------------------------------------------------------------------------------


def _markers(text: str, page_name: str, models: dict[str, type[ArgsModel]]) -> list[str]:
    found = [name for name, _ in _MARKER.findall(text)]
    if text.count("<!-- args-table:start") != len(found) or text.count("<!-- args-table:end -->") != len(found):
        raise DocsError(
            f"{page_name}: every '<!-- args-table:start <ArgsClassName> -->' line needs its own "
            "'<!-- args-table:end -->' line after it"
        )
    unknown = [name for name in found if name not in models]
    if unknown:
        raise DocsError(
            f"{page_name}: no public args model named {', '.join(unknown)} in components/; known: {', '.join(models)}"
        )
    return found


def render_pages(docs_dir: Path = DOCS_DIR) -> dict[Path, str]:
    """Every page of `docs_dir` as the generator writes it (pages without markers unchanged).

    Each model is tabled once: under the marker that names it, else under the first marker (in page order) whose
    model uses it; everywhere else its name links there.
    """
    models = public_args_models()
    pages = {path: path.read_text() for path in sorted(docs_dir.glob("*.md"))}
    markers = [(path, name) for path, text in pages.items() for name in _markers(text, path.name, models)]
    home: dict[type[BaseModel], tuple[Path, str]] = {}
    for path, name in markers:
        home.setdefault(models[name], (path, name))
    for path, name in markers:
        for nested in nested_models(models[name]):
            home.setdefault(nested, (path, name))

    rendered: dict[Path, str] = {}
    for path, text in pages.items():

        def link(model: type[BaseModel], here: Path = path) -> str:
            page = home.get(model, (here, ""))[0]
            return f"#{_anchor(model)}" if page == here else f"{page.name}#{_anchor(model)}"

        def fill(match: re.Match[str], here: Path = path) -> str:
            model = models[match.group(1)]
            own = [m for m in nested_models(model) if home.get(m) == (here, model.__name__)]
            body = "\n\n".join(table(m, lambda m, h=here: link(m, h)) for m in [model, *own])
            return f"<!-- args-table:start {model.__name__} -->\n{body}\n<!-- args-table:end -->"

        rendered[path] = _MARKER.sub(fill, text)
    return rendered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.component_docs", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a page is out of date")
    parser.add_argument("--docs-dir", type=Path, default=DOCS_DIR, help="pages to fill (default: docs/components)")
    args = parser.parse_args(argv)
    try:
        rendered = render_pages(args.docs_dir)
    except DocsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stale = [path for path, text in rendered.items() if path.read_text() != text]
    undocumented = {
        name: fields for name, model in public_args_models().items() if (fields := undocumented_fields(model))
    }
    for name, fields in undocumented.items():
        print(f"warning: {name}: fields without a docstring: {', '.join(fields)}", file=sys.stderr)
    if args.check:
        for path in stale:
            print(f"{path}: out of date; run `make docs`", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.write_text(rendered[path])
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
