"""The ``medcoder`` command line: thin commands over the code-set knowledge base.

Why thin: every command parses its options, calls one library function and prints; the same functions
serve the API and the tests, so the CLI never holds logic of its own.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from medcoder.errors import MedcoderError
from medcoder.settings import Settings, get_settings

app = typer.Typer(help="medcoder: local-first medical coding from the official code sets.",
                  no_args_is_help=True, add_completion=False)
data_app = typer.Typer(help="Obtain the official files and build the knowledge base.", no_args_is_help=True)
app.add_typer(data_app, name="data")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

MirrorOpt = Annotated[Path | None, typer.Option("--mirror", help="Local mirror of the official files "
                                                "(env MEDCODER_MIRROR; default ../shared/cms).")]
BaseUrlOpt = Annotated[str | None, typer.Option("--base-url", help="HTTP mirror laid out like the local "
                                                "mirror, used instead of the official URLs.")]
HomeOpt = Annotated[Path | None, typer.Option("--home", help="Cache directory (env MEDCODER_HOME).")]
KindOpt = Annotated[list[str] | None, typer.Option("--only", help="Only these kinds or kind/release names.")]
DateOpt = Annotated[str | None, typer.Option("--date", help="Date of service (YYYY-MM-DD).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _settings(home: Path | None = None, mirror: Path | None = None, base_url: str | None = None) -> Settings:
    return get_settings(home=home, mirror=mirror, base_url=base_url)


def _fail(error: MedcoderError) -> None:
    err.print(f"[bold red]error[/] {error}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


def _progress(message: str) -> None:
    err.print(f"[dim]·[/] {message}", highlight=False, soft_wrap=True)


def _parse_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        _fail(MedcoderError(f"not a date: {text!r}", code="E404", where="--date",
                            fix="Write the date of service as YYYY-MM-DD"))
    return None


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


@data_app.command("status")
def data_status(home: HomeOpt = None, mirror: MirrorOpt = None, as_json: JsonOpt = False) -> None:
    """What each release contains and lacks, and whether it is built."""
    from medcoder.codesets.status import release_status

    rows = release_status(_settings(home, mirror))
    if as_json:
        _print_json(rows)
        return
    table = Table(title=f"medcoder knowledge base ({_settings(home, mirror).home})", show_lines=True)
    for col in ("release", "effective", "built", "contains", "lacks"):
        table.add_column(col, overflow="fold")
    for row in rows:
        built = "no" if not row["built"] else f"yes ({row['built_at']})\n" + ", ".join(
            f"{k}={v:,}" for k, v in row["counts"].items())
        table.add_row(f"{row['name']}\n{row['title']}", f"{row['effective_from']}\n..{row['effective_to']}",
                      built, "\n".join(row["contains"]), "\n".join(row["lacks"]))
    out.print(table)


@data_app.command("fetch")
def data_fetch(home: HomeOpt = None, mirror: MirrorOpt = None, base_url: BaseUrlOpt = None,
               only: KindOpt = None) -> None:
    """Copy (from the mirror) or download each release file into the cache and verify its sha256."""
    from medcoder.codesets.build import select
    from medcoder.codesets.fetch import fetch_release

    settings = _settings(home, mirror, base_url)
    try:
        for release in select(only):
            fetched = fetch_release(release, settings, progress=_progress)
            for f in fetched.values():
                out.print(f"{release.name:28} {f.key:16} {f.origin:17} sha256 {f.sha256[:16]}… "
                          f"{f.size:>11,} B", highlight=False)
            missing = [s.key for s in release.files if s.key not in fetched]
            for key in missing:
                out.print(f"{release.name:28} {key:16} not available (optional)", highlight=False)
    except MedcoderError as e:
        _fail(e)


@data_app.command("build")
def data_build(home: HomeOpt = None, mirror: MirrorOpt = None, base_url: BaseUrlOpt = None,
               only: KindOpt = None,
               force: Annotated[bool, typer.Option("--force", help="Rebuild even if unchanged.")] = False
               ) -> None:
    """Fetch, verify and build every release into its own read-only SQLite knowledge base."""
    from medcoder.codesets.build import build_all

    settings = _settings(home, mirror, base_url)
    try:
        results = build_all(settings, kinds=only, force=force, progress=_progress)
    except MedcoderError as e:
        _fail(e)
        return
    total = sum(r.seconds for r in results)
    for r in results:
        state = "unchanged" if r.skipped else f"built in {r.seconds:.1f}s"
        out.print(f"{r.release.name:28} {state:18} {r.path}", highlight=False)
    out.print(f"{len(results)} releases ready in {total:.1f}s", highlight=False)
