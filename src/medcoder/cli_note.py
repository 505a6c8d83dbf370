"""How ``medcoder code FILE`` shows one coded record: each code with its evidence highlighted in the note.

Why a separate module: the CLI module holds the commands; rendering a record for a coder's eyes (the code,
why, and the words of the note it rests on) is its own concern and keeps ``cli.py`` under the size we allow.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from medcoder.coding.pipeline import NoteCoding

_WINDOW = 60
"""Characters of the note shown on each side of an evidence span."""


def snippet(text: str, start: int, end: int) -> Text:
    """The evidence span in reverse video with some of the note around it, on one line."""
    left = max(0, start - _WINDOW)
    right = min(len(text), end + _WINDOW)
    out = Text("…" if left else "")
    out.append(text[left:start].replace("\n", " "))
    out.append(text[start:end].replace("\n", " "), style="reverse bold")
    out.append(text[end:right].replace("\n", " "))
    if right < len(text):
        out.append("…")
    return out


def render(console: Console, text: str, coding: NoteCoding, *, record_id: str | None = None) -> None:
    if record_id:
        console.print(f"[bold]{record_id}[/]", highlight=False)
    if not coding.suggestions:
        console.print("[yellow]no code[/]", highlight=False)
    for code in coding.suggestions:
        console.print(f"[bold]{code.sequence}. {code.system} {code.code}[/]  {code.title}  "
                      f"[dim](confidence {code.confidence:.2f})[/]", highlight=False)
        for evidence in code.evidence:
            line = Text(f"     @{evidence.start}-{evidence.end}  ")
            line.append(snippet(text, evidence.start, evidence.end))
            console.print(line, highlight=False)
        for step in code.rationale:
            console.print(f"     [dim]{step}[/]", highlight=False)
    for query in coding.queries:
        console.print(f"[yellow]query[/] {query.code}: {query.question}", highlight=False)
    if coding.releases:
        used = ", ".join(f"{k} {v}" for k, v in sorted(coding.releases.items()))
        console.print(f"[dim]releases: {used}; pipeline {coding.pipeline_version}[/]", highlight=False)


def as_contract(coding: NoteCoding, *, record_id: str | None) -> dict[str, Any]:
    """The batch contract's output shape (``shared/CONTRACTS.md``) for one record."""
    return {"id": record_id, "codes": [c.to_dict() for c in coding.suggestions],
            "queries": [q.to_dict() for q in coding.queries],
            "release": coding.releases, "pipeline_version": coding.pipeline_version}
