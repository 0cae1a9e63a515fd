"""Colour and alignment on a terminal, plain text elsewhere; warnings wrap; progress on stderr for long steps."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from aiinfra.engine import cli
from aiinfra.engine.textstyle import Style

PROGRAM = Path(__file__).resolve().parents[1] / "cost" / "program"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    assert Style.for_stream(Terminal()).paint("x", "red") == "\x1b[31mx\x1b[0m"
    assert Style.for_stream(io.StringIO()).paint("x", "red") == "x"
    monkeypatch.setenv("NO_COLOR", "1")
    assert Style.for_stream(Terminal()).paint("x", "red") == "x"


def test_warnings_wrap_with_a_hanging_indent() -> None:
    text = Style(width=60).wrap("warning: " + "word " * 40, "    ")
    lines = text.splitlines()
    assert len(lines) > 2 and all(len(line) <= 60 for line in lines)
    assert lines[0].startswith("    warning:") and all(line.startswith("      ") for line in lines[1:])


@pytest.mark.integration  # the CLI runs the program in its own process
def test_the_preview_on_a_terminal_is_coloured_and_shows_progress(monkeypatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    out, err = Terminal(), Terminal()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    assert cli.preview(["dev", "--project-dir", str(PROGRAM), "--no-policies", "--quiet"]) == 0
    assert out.getvalue().startswith("\x1b[1mOffline preview of stack 'dev'")
    assert "… running the program for stack 'dev'" in err.getvalue() and "… pricing the plan" in err.getvalue()


def test_progress_is_silent_when_stderr_is_not_a_terminal() -> None:
    stream = io.StringIO()
    cli.Progress(stream).step("running")
    assert stream.getvalue() == ""


@pytest.mark.integration  # the CLI runs the program in its own process
def test_the_summary_keeps_a_few_warnings_and_lists_the_rest_at_the_end(monkeypatch, capsys) -> None:
    from aiinfra.engine import runner

    real = runner.run_program

    def many_warnings(*args, **kwargs):
        plan = real(*args, **kwargs)
        plan.warnings = [f"warning number {i}" for i in range(12)]
        return plan

    monkeypatch.setattr(cli, "run_program", many_warnings)
    assert cli.preview(["dev", "--project-dir", str(PROGRAM), "--no-policies", "--quiet"]) == 0
    out = capsys.readouterr().out
    summary, _, rest = out.partition("\nMore warnings:\n")
    assert "warning number 0" in summary and "warning number 5" not in summary
    assert "more warning(s), listed at the end" in summary and "warning number 11" in rest
    assert len(summary.splitlines()) <= 25
