"""Terminal output: colour and wrapping on a terminal, plain text everywhere else (files, pipes, CI logs)."""

from __future__ import annotations

import os
import shutil
import textwrap
from typing import TextIO

_CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}


class Style:
    """`Style.for_stream(sys.stdout)`: ANSI colours only when the stream is a terminal and NO_COLOR is not set
    (https://no-color.org); `FORCE_COLOR` turns them on anywhere."""

    def __init__(self, color: bool = False, width: int = 100) -> None:
        self.color = color
        self.width = width

    @classmethod
    def for_stream(cls, stream: TextIO) -> Style:
        tty = hasattr(stream, "isatty") and stream.isatty()
        color = (tty and not os.environ.get("NO_COLOR")) or bool(os.environ.get("FORCE_COLOR"))
        width = shutil.get_terminal_size((100, 24)).columns if tty else 100
        return cls(color, max(60, min(width, 140)))

    def paint(self, text: str, *styles: str) -> str:
        if not self.color or not styles:
            return text
        codes = ";".join(_CODES[s] for s in styles)
        return f"\033[{codes}m{text}\033[0m"

    def wrap(self, text: str, indent: str = "", hang: str = "  ") -> str:
        """`text` wrapped to the width, continuation lines indented by `hang` more than the first."""
        return textwrap.fill(
            text,
            width=self.width,
            initial_indent=indent,
            subsequent_indent=indent + hang,
            break_long_words=False,
            break_on_hyphens=False,
        )
