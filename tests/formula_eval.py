"""A tiny evaluator for the part of the Batch autoscale formula language our generator emits.

It exists so tests can assert what a formula *does* (0 pending tasks -> 0 nodes, a long queue -> max nodes, the
low-priority share honoured) instead of only how its text looks. It follows the documented semantics: statements
end with `;`, `//` starts a comment, comparisons yield 1.0 or 0.0, the ternary treats nonzero as true, `max`/`min`/
`avg` flatten vectors, and `$Metric.GetSample(...)` / `.GetSamplePercent(...)` read a sample history (one sample per
30 s, newest last). Anything else is a test failure, not a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

SAMPLE_SECONDS = 30
TIME_INTERVALS = {"TimeInterval_Second": 1.0, "TimeInterval_Minute": 60.0, "TimeInterval_Hour": 3600.0}
_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|(\$?[A-Za-z_][A-Za-z0-9_]*)|(<=|>=|==|!=|&&|\|\||[-+*/<>?:(),.!=]))")


class FormulaError(AssertionError):
    """The formula uses something this evaluator (and our generator) does not."""


@dataclass
class Samples:
    """A metric's sample history: `values` newest last, and the share of expected samples actually present."""

    values: list[float]
    percent: float = 100.0


@dataclass
class Evaluation:
    variables: dict[str, Any] = field(default_factory=dict)

    def number(self, name: str) -> float:
        value = self.variables[name]
        assert isinstance(value, float), f"{name} is {value!r}, not a number"
        return value


def _tokens(text: str) -> list[str]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            if text[pos:].strip() == "":
                break
            raise FormulaError(f"cannot read the formula at {text[pos : pos + 20]!r}")
        tokens.append(next(g for g in match.groups() if g is not None))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[str], env: dict[str, Any], metrics: dict[str, Samples]) -> None:
        self.tokens, self.pos, self.env, self.metrics = tokens, 0, env, metrics

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise FormulaError(f"expected {expected!r}, found {token!r}")
        self.pos += 1
        return token

    def expression(self) -> Any:
        condition = self.comparison()
        if self.peek() == "?":
            self.take("?")
            then = self.expression()
            self.take(":")
            otherwise = self.expression()
            return then if _number(condition) != 0 else otherwise
        return condition

    def comparison(self) -> Any:
        left = self.additive()
        ops = {
            "<": float.__lt__,
            "<=": float.__le__,
            ">": float.__gt__,
            ">=": float.__ge__,
            "==": float.__eq__,
            "!=": float.__ne__,
        }
        while self.peek() in ops:
            op = ops[self.take()]
            right = self.additive()
            left = 1.0 if op(_number(left), _number(right)) else 0.0
        return left

    def additive(self) -> Any:
        left = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()
            right = self.term()
            left = _number(left) + _number(right) if op == "+" else _number(left) - _number(right)
        return left

    def term(self) -> Any:
        left = self.unary()
        while self.peek() in ("*", "/"):
            op = self.take()
            right = self.unary()
            left = _number(left) * _number(right) if op == "*" else _number(left) / _number(right)
        return left

    def unary(self) -> Any:
        if self.peek() == "-":
            self.take()
            return -_number(self.unary())
        return self.primary()

    def primary(self) -> Any:
        token = self.take()
        if token == "(":
            value = self.expression()
            self.take(")")
            return value
        if re.fullmatch(r"\d+(\.\d+)?", token):
            return float(token)
        if token in TIME_INTERVALS:
            return TIME_INTERVALS[token]
        if token in ("max", "min", "avg"):
            args = self.arguments()
            flat = [v for a in args for v in (a if isinstance(a, list) else [_number(a)])]
            if not flat:
                raise FormulaError(f"{token}() of nothing")
            return {"max": max, "min": min, "avg": lambda v: sum(v) / len(v)}[token](flat)
        if token in self.metrics and self.peek() == ".":
            self.take(".")
            return self.method(self.metrics[token], self.take(), self.arguments())
        if token in self.env:
            return self.env[token]
        if token in ("taskcompletion", "requeue", "terminate", "retaineddata"):
            return token
        raise FormulaError(f"unknown name {token!r}")

    def arguments(self) -> list[Any]:
        self.take("(")
        args: list[Any] = []
        while self.peek() != ")":
            args.append(self.expression())
            if self.peek() == ",":
                self.take(",")
        self.take(")")
        return args

    @staticmethod
    def method(samples: Samples, name: str, args: list[Any]) -> Any:
        if name == "GetSamplePercent":
            return samples.percent
        if name == "GetSample" and len(args) == 1:
            span = _number(args[0])
            if span == 1:  # GetSample(1): the last available sample
                return samples.values[-1:]
            count = int(span // SAMPLE_SECONDS)
            return samples.values[-count:]
        raise FormulaError(f"unsupported call {name}({args})")


def _number(value: Any) -> float:
    if isinstance(value, list):
        if len(value) != 1:
            raise FormulaError(f"a vector of {len(value)} samples used as a number")
        value = value[0]
    if not isinstance(value, float):
        raise FormulaError(f"{value!r} used as a number")
    return value


def evaluate(formula: str, *, pending: Samples, preempted: float = 0.0) -> Evaluation:
    """Run the formula with `$PendingTasks` = `pending` and `$PreemptedNodeCount` = `preempted`; the variables it
    assigns, by name. `$PreemptedNodeCount` is a sample metric like `$PendingTasks`, read with `GetSample` (Learn,
    "Create a formula to automatically scale compute nodes in a Batch pool", preempted-nodes example:
    `$PreemptedNodeCount.GetSample(180 * TimeInterval_Second)`): a bare use is an error here, as it may be in Batch."""
    env: dict[str, Any] = {}
    text = re.sub(r"//[^\n]*", "", formula)
    for statement in (s.strip() for s in text.split(";")):
        if not statement:
            continue
        tokens = _tokens(statement)
        if len(tokens) < 3 or tokens[1] != "=":
            raise FormulaError(f"not an assignment: {statement!r}")
        parser = _Parser(
            tokens[2:], env, {"$PendingTasks": pending, "$PreemptedNodeCount": Samples([float(preempted)])}
        )
        value = parser.expression()
        if parser.peek() is not None:
            raise FormulaError(f"unexpected {parser.peek()!r} in {statement!r}")
        env[tokens[0]] = _number(value) if isinstance(value, list) else value
    return Evaluation(env)
