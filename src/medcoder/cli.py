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

from medcoder.errors import MedcoderError
from medcoder.settings import Settings, get_settings

app = typer.Typer(help="medcoder: local-first medical coding from the official code sets.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
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
    out.print(f"[bold]medcoder knowledge base[/] in {_settings(home, mirror).home}", highlight=False)
    for row in rows:
        built = f"[green]built {row['built_at']}[/]" if row["built"] else "[yellow]not built[/]"
        out.print(f"\n[bold]{row['name']}[/]  {row['title']}", highlight=False)
        out.print(f"  in force {row['effective_from']}..{row['effective_to']} · {built}", highlight=False)
        for item in row["contains"]:
            out.print(f"  [green]+[/] {item}", highlight=False)
        for item in row["lacks"]:
            out.print(f"  [yellow]-[/] lacks {item}", highlight=False)
        if row["counts"]:
            out.print("  counts: " + ", ".join(f"{k}={v:,}" for k, v in row["counts"].items()), highlight=False)
        for src in row["sources"]:
            pin = "" if src["pinned"] else " (unpinned)"
            out.print(f"  source {src['key']}: {src['file']} sha256 {src['sha256'][:16]}… from {src['origin']}"
                      f"{pin}", highlight=False)


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


@data_app.command("load-cpt")
def data_load_cpt(file: Annotated[Path, typer.Argument(help="Your licensed CPT descriptor file (CSV/TSV/pipe "
                                                       "or AMA fixed-width).")],
                  home: HomeOpt = None) -> None:
    """Load a user-supplied, licensed CPT file; medcoder never ships CPT text."""
    from medcoder.codesets.cpt_load import load_cpt_file

    try:
        path, count = load_cpt_file(file, settings=_settings(home), progress=_progress)
    except MedcoderError as e:
        _fail(e)
        return
    out.print(f"{count:,} CPT codes loaded into {path}", highlight=False)


def _codesets(day: date | None) -> Any:
    from medcoder.codesets.codesets import Codesets

    return Codesets.for_date(day) if day else Codesets.newest()


def _show_releases(cs: Any) -> None:
    for use in cs.uses():
        if use.note:
            err.print(f"[yellow]note[/] {use.note}", highlight=False)


@app.command("lookup")
def lookup_cmd(code: Annotated[str, typer.Argument(help="A code: E11.22, s39012a, 0DTJ4ZZ, J1100, LT ...")],
               on: DateOpt = None,
               system: Annotated[str | None, typer.Option("--system", help="ICD-10-CM, ICD-10-PCS, HCPCS "
                                                          "or CPT (default: every system that fits).")] = None,
               as_json: JsonOpt = False) -> None:
    """Title, billable, validity on the date, notes (own and inherited), hierarchy — like an encoder."""
    from medcoder.codesets.lookup import lookup

    day = _parse_date(on)
    try:
        cs = _codesets(day)
        results = lookup(cs, code, system=system)
    except MedcoderError as e:
        _fail(e)
        return
    if as_json:
        _print_json([r.to_dict() for r in results])
        return
    for r in results:
        _print_lookup(r, day)


def _print_lookup(r: Any, day: date | None) -> None:
    billable = "[green]billable[/]" if r.billable else "[yellow]not billable[/]"
    out.print(f"[bold]{r.system} {r.code}[/]  {r.title}", highlight=False)
    valid = ""
    if r.valid_on is not None and day is not None:
        valid = f" · {'[green]valid' if r.valid_on else '[red]not valid'}[/] on {day.isoformat()}"
    out.print(f"  {billable}{valid} · {r.release}" + (f" · level {r.level}" if r.level else ""), highlight=False)
    if r.validity:
        spans = ", ".join(f"{w['from']}..{w['to']}" for w in r.validity)
        out.print(f"  validity (MCE): {spans}" + (f" · MCE: {', '.join(r.attributes)}" if r.attributes else ""),
                  highlight=False)
    for w in r.warnings:
        out.print(f"  [yellow]![/] {w}", highlight=False)
    if r.hierarchy:
        out.print("  hierarchy: " + " < ".join(f"{h['code']} {h['title']}" for h in r.hierarchy), highlight=False)
    if r.seventh:
        out.print("  7th characters: " + "; ".join(f"{k} {v}" for k, v in r.seventh.items()), highlight=False)
    if r.children:
        out.print("  children: " + "; ".join(f"{c['code']} {c['title']}" for c in r.children[:12])
                  + (" ..." if len(r.children) > 12 else ""), highlight=False)
    for a in r.axes:
        definition = f" — {a['definition']}" if a.get("definition") else ""
        out.print(f"  {a['position']} {a['name']:<14} {a['character']}  {a['label'] or ''}{definition}",
                  highlight=False)
    for key, value in r.details.items():
        if value not in (None, "", ()):
            out.print(f"  {key}: {value}", highlight=False)
    current = None
    for n in r.notes:
        if n["from"] != current:
            current = n["from"]
            out.print(f"  [cyan]notes of {current}[/]", highlight=False)
        character = f"{n['character']} " if n.get("character") else ""
        out.print(f"    [dim]{n['kind']:<17}[/] {character}{n['text']}", highlight=False)


@app.command("search")
def search_cmd(text: Annotated[list[str], typer.Argument(help="Words to search for.")],
               on: DateOpt = None,
               limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 20,
               as_json: JsonOpt = False) -> None:
    """Ranked full-text search over titles, inclusion terms, index terms, PCS tables and HCPCS."""
    from medcoder.codesets.search import search

    day = _parse_date(on)
    try:
        hits = search(_codesets(day), " ".join(text), limit=limit)
    except MedcoderError as e:
        _fail(e)
        return
    if as_json:
        _print_json([{"system": h.system, "code": h.code, "kind": h.kind, "text": h.text, "score": h.score,
                      "release": h.release} for h in hits])
        return
    for h in hits:
        out.print(f"{h.score:7.2f}  {h.system:<10} {h.code:<9} [dim]{h.kind:<10}[/] {h.text}", highlight=False)




@app.command("index")
def index_cmd(term: Annotated[list[str], typer.Argument(help="Main term, then subterms: Strain back lower")],
              book: Annotated[str, typer.Option("--book", help="index, eindex, neoplasm or drug")] = "index",
              follow: Annotated[bool, typer.Option("--follow/--no-follow", help="Follow 'see' references.")]
              = True,
              on: DateOpt = None, as_json: JsonOpt = False) -> None:
    """Walk the Alphabetic Index (or a table) and show the path taken, the way an encoder does."""
    from medcoder.codesets.icd10cm_index import DEFAULT_HEADINGS

    day = _parse_date(on)
    if book not in ("index", "eindex", "neoplasm", "drug"):
        _fail(MedcoderError(f"unknown book {book!r}", code="E506", where="--book",
                            fix="Use index, eindex, neoplasm or drug"))
    if book == "neoplasm" and not term[0].lower().startswith("neoplasm"):
        term = ["Neoplasm, neoplastic", *term]  # the Table of Neoplasms has one main term; sites are subterms
    try:
        cs = _codesets(day)
        result = cs.index.walk(term, book=book, follow_see=follow)
    except MedcoderError as e:
        _fail(e)
        return
    if as_json:
        _print_json(_walk_dict(result))
        return
    chain = [result]
    while chain[-1].followed is not None:
        chain.append(chain[-1].followed)
    for n, walk in enumerate(chain):
        if n:
            out.print(f"[yellow]see[/] -> {' > '.join(walk.query)}", highlight=False)
        for step in walk.steps:
            nemod = f" {step.nemod}" if step.nemod else ""
            code = f"  [bold green]{step.code}[/]" if step.code else ""
            manif = f" [{step.manif}]" if step.manif else ""
            refs = "".join(f"  [yellow]{k} {v}[/]" for k, v in (("see", step.see), ("see also", step.see_also))
                           if v)
            out.print(f"{'  ' * step.level}{step.title}[dim]{nemod}[/]{code}{manif}{refs}", highlight=False)
            if step.cells:
                for label, cell in zip(DEFAULT_HEADINGS[walk.book], step.cells, strict=False):
                    out.print(f"{'  ' * step.level}    {label:<37} {cell or '-'}", highlight=False)
    final = result.final
    if final.unmatched:
        out.print(f"[yellow]not in the index under this path:[/] {' > '.join(final.unmatched)} "
                  f"(the default above applies)", highlight=False)
    if final.code:
        how = ("full path matched" if final.matched and not final.code_is_default
               else "default of the deepest matching term")
        more = " — more characters required: check the Tabular" if final.incomplete else ""
        out.print(f"=> [bold]{final.code}[/]" + (f" [{final.manif}]" if final.manif else "")
                  + f"  ({how}){more}", highlight=False)
        if not final.incomplete and "icd10cm-tabular" in cs.choices:
            entry = cs.tabular.get(final.code.rstrip("-"))
            if entry is not None:
                out.print(f"   Tabular: {entry.code} {entry.title}"
                          + ("" if entry.billable else " [yellow](not billable)[/]"), highlight=False)
    elif not final.cells:
        out.print("=> no code on this path", highlight=False)


def _walk_dict(result: Any) -> dict[str, Any]:
    return {
        "query": list(result.query), "book": result.book, "matched": result.matched,
        "unmatched": list(result.unmatched), "code": result.code, "manif": result.manif,
        "code_is_default": result.code_is_default, "cells": list(result.cells) if result.cells else None,
        "path": [{"title": s.title, "nemod": s.nemod, "level": s.level, "code": s.code, "manif": s.manif,
                  "see": s.see, "see_also": s.see_also} for s in result.steps],
        "followed": _walk_dict(result.followed) if result.followed else None,
    }


@app.command("quickstart")
def quickstart(home: HomeOpt = None, mirror: MirrorOpt = None) -> None:
    """The main job on embedded defaults: build the knowledge base from the mirror, then show lookups."""
    from medcoder.codesets.build import build_all
    from medcoder.codesets.codesets import Codesets
    from medcoder.codesets.lookup import lookup

    settings = _settings(home, mirror)
    out.print(f"[bold]medcoder[/] knowledge base in {settings.home} (mirror: {settings.mirror})", highlight=False)
    try:
        results = build_all(settings, progress=_progress)
        for r in results:
            state = "unchanged" if r.skipped else f"built in {r.seconds:.1f}s"
            out.print(f"  {r.release.name:28} {state}", highlight=False)
        day = date(2026, 5, 1)
        cs = Codesets.for_date(day, settings=settings)
        out.print(f"\n[bold]$ medcoder lookup E11.22 --date {day}[/]", highlight=False)
        for result in lookup(cs, "E11.22"):
            _print_lookup(result, day)
        out.print("\n[bold]$ medcoder index Diabetes 'type 2' with 'chronic kidney disease'[/]", highlight=False)
        walk = cs.index.walk(["Diabetes", "type 2", "with", "chronic kidney disease"])
        out.print("  " + " > ".join(walk.titles) + f"  => {walk.code}", highlight=False)
        out.print("\n[bold]$ medcoder lookup 0DTJ4ZZ[/]", highlight=False)
        for result in lookup(cs, "0DTJ4ZZ"):
            _print_lookup(result, day)
        _quickstart_samples(settings)
    except MedcoderError as e:
        _fail(e)


def _quickstart_samples(settings: Settings) -> None:
    """Code the bundled synthetic visit note, then check and price the bundled sample claim."""
    import json
    from importlib import resources

    from medcoder.claim import load_claim, sample_path
    from medcoder.cli_note import render
    from medcoder.coding.pipeline import code_text
    from medcoder.service import claims

    record = json.loads(resources.files("medcoder.ingest").joinpath("samples/visit_note.json").read_text("utf-8"))
    out.print("\n[bold]$ medcoder code visit_note.json[/]  (bundled synthetic note)", highlight=False)
    coding = code_text(record["text"], setting=record["setting"], age=record["patient"]["age"],
                       sex=record["patient"]["sex"], date_of_service=date.fromisoformat(record["date_of_service"]),
                       settings=settings)
    render(out, record["text"], coding, record_id=record["id"])
    claim = load_claim(sample_path("office_visit"))
    out.print("\n[bold]$ medcoder check office_visit.json[/]  (bundled sample claim)", highlight=False)
    findings = claims.check(claim, settings=settings)
    for finding in findings:
        out.print(f"  {finding.severity:7} {finding.rule}: {finding.message}", highlight=False)
    if not findings:
        out.print("  no findings", highlight=False)
    priced = claims.price(claim, settings=settings)
    pfs = priced.get("pfs", {})
    total = pfs.get("total", pfs.get("error"))
    out.print(f"\n[bold]$ medcoder price office_visit.json[/]  Medicare PFS total: {total}", highlight=False)
    out.print("\nNext: medcoder code-batch notes.jsonl --out coded.jsonl (stores every record in the SQLite working "
              "database), medcoder serve --dev, medcoder eval GOLD.jsonl", highlight=False)


# -- working database, batch coding and the API server (issue 5) ---------------------------------------

audit_app = typer.Typer(help="The tamper-evident audit trail of the working database.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys for the REST API (hashed at rest; roles coder, auditor, admin).",
                         no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(apikey_app, name="apikey")

DbOpt = Annotated[str | None, typer.Option("--db", help="Working database URL: sqlite:///FILE or "
                                           "postgresql+psycopg://USER@HOST/DB (env MEDCODER_DB_URL; default "
                                           "$MEDCODER_HOME/medcoder.sqlite).")]
CoderOpt = Annotated[str, typer.Option("--coder", help="auto (the encounter pipeline when installed, else the "
                                       "baseline), pipeline or baseline.")]


def _coder(settings: Settings, which: str) -> Any:
    from medcoder.service.coder import default_coder, search_coder

    if which not in ("auto", "pipeline", "baseline"):
        _fail(MedcoderError(f"unknown coder {which!r}", code="E652", where="--coder",
                            fix="Use auto, pipeline or baseline"))
    return search_coder(settings) if which == "baseline" else default_coder(settings)


def _api_config(home: Path | None, db: str | None, environment: str | None = None) -> Any:
    from medcoder.api.config import get_api_config

    return get_api_config(settings=_settings(home), db_url=db, environment=environment)


@app.command("code-batch")
def code_batch_cmd(
        input_path: Annotated[Path, typer.Argument(help="Input JSONL: one record per line (shared/CONTRACTS.md).",
                                                   exists=True, dir_okay=False)],
        out_path: Annotated[Path, typer.Option("--out", help="Output JSONL, one result per record, input order.")],
        db: DbOpt = None,
        workers: Annotated[int, typer.Option("--workers", min=1, max=256, help="Coding processes.")] = 1,
        chunk_size: Annotated[int, typer.Option("--chunk-size", min=1, max=10_000,
                                                help="Records per database commit.")] = 64,
        coder: CoderOpt = "auto", home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Code a JSONL file: streaming, --workers processes, progress with rate and ETA on stderr.

    With --db each record is also stored (document, coding run, suggestions, audit events); a rerun after a
    crash skips the records already stored (by content hash) and neither loses nor duplicates any."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from medcoder.service.batch import code_batch

    settings = _settings(home)
    engine = _coder(settings, coder)
    with input_path.open("rb") as stream:
        total_lines = sum(1 for _ in stream)
    columns = (TextColumn("coding"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
               TextColumn("{task.fields[rate]:.1f} rec/s"), TimeElapsedColumn(), TextColumn("ETA"),
               TimeRemainingColumn())
    try:
        with Progress(*columns, console=err, transient=False) as bar:
            task = bar.add_task("coding", total=total_lines, rate=0.0)

            def progress(done: int) -> None:
                elapsed = bar.tasks[0].elapsed or 1e-9
                bar.update(task, completed=done, rate=done / elapsed)

            summary = code_batch(input_path, out_path, coder=engine, db_url=db, workers=workers,
                                 chunk_size=chunk_size, progress=progress)
    except MedcoderError as e:
        _fail(e)
        return
    if as_json:
        err.print(json.dumps(summary.to_dict()), highlight=False, soft_wrap=True)
    else:
        rate = summary.records / summary.wall_seconds if summary.wall_seconds else 0.0
        err.print(f"{summary.records:,} records in {summary.wall_seconds:.1f}s ({rate:.1f}/s): {summary.coded:,} "
                  f"coded ({summary.coding_seconds:.1f}s engine time), {summary.stored:,} stored, "
                  f"{summary.resumed:,} already stored, {summary.errors:,} errors "
                  f"(storage {summary.storage_seconds:.1f}s)", highlight=False)
        for item in summary.error_list[:20]:
            err.print(f"  line {item['line']} id {item['id']}: [{item['code']}] {item['message']}",
                      highlight=False)


@app.command("eval")
def eval_cmd(
        gold_path: Annotated[Path, typer.Argument(help="Gold evaluation JSONL (shared/CONTRACTS.md).", exists=True,
                                                  dir_okay=False, metavar="GOLD.jsonl")],
        pred: Annotated[Path | None, typer.Option("--pred", help="Predictions (code-batch output JSONL); "
                                                  "without it the gold records are coded now.", exists=True,
                                                  dir_okay=False)] = None,
        report: Annotated[Path | None, typer.Option("--report", help="Write the markdown report here (else it "
                                                    "goes to stderr).")] = None,
        split: Annotated[str | None, typer.Option("--split", help="Only records of this split (train, valid, "
                                                  "dev).")] = None,
        limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most this many records.")] = None,
        workers: Annotated[int, typer.Option("--workers", min=1, max=256, help="Coding processes.")] = 1,
        save_pred: Annotated[Path | None, typer.Option("--save-pred", help="Keep the predictions made here "
                                                       "(code-batch output JSONL).")] = None,
        coder: CoderOpt = "auto", home: HomeOpt = None) -> None:
    """Score predictions against a gold file: micro P/R/F1 exact and on categories, per source, split and
    chapter, CodiEsp without negated-only codes, ICD-10-PCS exact and prefix, largest error patterns.

    Prints the JSON summary on stdout; the markdown report goes to --report (or stderr)."""
    import tempfile

    from medcoder.evaluation import evaluate, read_gold, read_predictions

    try:
        gold = read_gold(gold_path, split=split, limit=limit)
        if pred is not None:
            predictions = read_predictions(pred)
        else:
            from medcoder.service.batch import code_batch

            engine = _coder(_settings(home), coder)
            with tempfile.TemporaryDirectory(prefix="medcoder-eval-") as tmp:
                records = Path(tmp) / "records.jsonl"
                out_path = save_pred or Path(tmp) / "predictions.jsonl"
                with records.open("w", encoding="utf-8") as stream:
                    for record in gold:
                        stream.write(json.dumps({"id": record.id, "text": record.text, "setting": record.setting},
                                                ensure_ascii=False) + "\n")
                _progress(f"coding {len(gold)} records with {workers} worker(s)")
                summary = code_batch(records, out_path, coder=engine, workers=workers,
                                     progress=lambda done: None)
                _progress(f"coded {summary.records} records in {summary.wall_seconds:.1f}s "
                          f"({summary.errors} errors)")
                predictions = read_predictions(out_path)
    except MedcoderError as e:
        _fail(e)
        return
    result = evaluate(gold, predictions)
    title = f"Evaluation of {gold_path.name}" + (f" ({split})" if split else "")
    text = result.to_markdown(title=title)
    if report is not None:
        report.write_text(text, encoding="utf-8")
        _progress(f"report written to {report}")
    else:
        err.print(text, highlight=False, markup=False, soft_wrap=True)
    _print_json(result.to_dict())


@app.command("serve")
def serve_cmd(host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
              port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
              db: DbOpt = None, home: HomeOpt = None, coder: CoderOpt = "auto",
              dev: Annotated[bool, typer.Option("--dev", help="Development mode: allows the default secret.")]
              = False) -> None:
    """Start the REST API (OpenAPI at /docs). Needs MEDCODER_SECRET unless --dev."""
    import uvicorn

    from medcoder.api.app import create_app

    config = _api_config(home, db, "development" if dev else None)
    try:
        api = create_app(config, coder=_coder(config.settings, coder))
    except MedcoderError as e:
        _fail(e)
        return
    err.print(f"medcoder API on http://{host}:{port}/docs · database {config.db_url} · {config.environment}",
              highlight=False)
    uvicorn.run(api, host=host, port=port, log_level="warning")


@audit_app.command("verify")
def audit_verify(db: DbOpt = None, home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Check every event's hash and its link to the previous one; exit 1 naming the first bad event."""
    from medcoder.errors import AuditChainError
    from medcoder.service.auth import SYSTEM
    from medcoder.service.coder import search_coder
    from medcoder.service.context import open_service
    from medcoder.service.export import verify_chain

    config = _api_config(home, db)
    service = open_service(config.db_url, coder=search_coder(config.settings), pepper=config.secret)
    try:
        report = verify_chain(service, actor=SYSTEM)
    finally:
        service.close()
    if as_json:
        _print_json(report.to_dict())
    if not report.ok:
        problem = AuditChainError(report.reason or "chain broken", code="E660",
                                  where=f"audit event {report.bad_event}",
                                  fix="Restore the database from a backup and investigate who changed it")
        err.print(f"[bold red]error[/] {problem}", highlight=False)
        raise typer.Exit(code=1)
    if not as_json:
        out.print(f"audit chain ok: {report.events:,} events, head {report.head}", highlight=False)


@apikey_app.command("create")
def apikey_create(role: Annotated[str, typer.Option("--role", help="coder, auditor or admin")],
                  name: Annotated[str | None, typer.Option("--name", help="Who the key is for.")] = None,
                  db: DbOpt = None, home: HomeOpt = None) -> None:
    """Create an API key and print it once (only its hash is stored; set MEDCODER_SECRET as for serve)."""
    from medcoder.service.auth import create_api_key
    from medcoder.service.coder import search_coder
    from medcoder.service.context import open_service

    config = _api_config(home, db)
    service = open_service(config.db_url, coder=search_coder(config.settings), pepper=config.secret)
    try:
        key = create_api_key(service, name=name or role, role=role)
    except MedcoderError as e:
        _fail(e)
        return
    finally:
        service.close()
    sys.stdout.write(key + "\n")


@app.command("encode")
def encode_cmd(statement: Annotated[str, typer.Argument(help='A diagnostic statement, e.g. "type 2 DM with CKD 3a"')],
               setting: Annotated[str, typer.Option("--setting", help="outpatient (Section IV) or inpatient "
                                                    "(Sections II-III)")] = "outpatient",
               age: Annotated[int | None, typer.Option("--age", min=0, max=124)] = None,
               sex: Annotated[str | None, typer.Option("--sex", help="F, M or U")] = None,
               on: DateOpt = None, as_json: JsonOpt = False) -> None:
    """Code a diagnostic statement by the Index, the Tabular and the guidelines, showing the path taken."""
    from medcoder.coding.encoder import EncounterContext, encode

    day = _parse_date(on)
    if setting not in ("outpatient", "inpatient", "professional"):
        _fail(MedcoderError(f"unknown setting {setting!r}", code="E702", where="--setting",
                            fix="Use outpatient, inpatient or professional"))
    if sex is not None and sex.upper() not in ("F", "M", "U"):
        _fail(MedcoderError(f"unknown sex {sex!r}", code="E703", where="--sex", fix="Use F, M or U"))
    try:
        cs = _codesets(day)
        result = encode(statement, codesets=cs, context=EncounterContext(
            setting=setting, age=age, sex=sex.upper() if sex else None, day=day))
    except MedcoderError as e:
        _fail(e)
        return
    if as_json:
        _print_json(result.to_dict())
        return
    if not result.codes:
        out.print("[yellow]no code[/]", highlight=False)
    for code in result.codes:
        out.print(f"[bold]{code.sequence}. {code.code}[/]  {code.title}  [dim](confidence {code.confidence:.2f})[/]",
                  highlight=False)
        for line in code.rationale:
            out.print(f"     {line}", highlight=False)
    for query in result.queries:
        out.print(f"[yellow]query[/] {query.code}: {query.question}", highlight=False)
    for what, why in result.dropped:
        out.print(f"[dim]not coded: {what} — {why}[/]", highlight=False)


@app.command("code")
def code_cmd(path: Annotated[Path, typer.Argument(help="One record: a plain-text note, a JSON record, a FHIR R4 "
                                                     "Bundle or an HL7 v2 message (format detected).")],
             setting: Annotated[str | None, typer.Option("--setting", help="outpatient or inpatient (default: "
                                                         "the record's, else outpatient)")] = None,
             age: Annotated[int | None, typer.Option("--age", min=0, max=124)] = None,
             sex: Annotated[str | None, typer.Option("--sex", help="F, M or U")] = None,
             on: DateOpt = None, home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Code one record: the claim's codes in sequence, each with its evidence highlighted in the note."""
    from medcoder.cli_note import as_contract, render
    from medcoder.coding.pipeline import code_text
    from medcoder.ingest.detect import read_record

    day = _parse_date(on)
    try:
        content = path.read_bytes()
    except OSError as e:
        _fail(MedcoderError(f"cannot read {path}: {e.strerror}", code="E601", where=str(path),
                            fix="Check the path and permissions"))
        return
    try:
        record = read_record(content, record_id=path.stem, date_of_service=day)
        result = code_text(record.text, setting=setting or record.setting, age=age if age is not None else record.age,
                           sex=(sex or record.patient.sex or "").upper() or None,
                           date_of_service=day or record.date_of_service, settings=_settings(home))
    except MedcoderError as e:
        _fail(e)
        return
    if as_json:
        _print_json(as_contract(result, record_id=record.record_id))
        return
    render(out, record.text, result, record_id=record.record_id)


# -- claims: edit, price and write one claim document (README "Claims") -----------------------------------------

ClaimArg = Annotated[Path, typer.Argument(help="A claim document (JSON, see the README's 'Claims').")]


def _load_claim(path: Path) -> Any:
    from medcoder.claim import load_claim

    try:
        return load_claim(path)
    except MedcoderError as e:
        _fail(e)


@app.command("check")
def check_cmd(claim_path: ClaimArg, home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Run the claim edits (validity, Tabular, MCE, NCCI, completeness); exit 1 when any finding is an error."""
    from rich.table import Table

    from medcoder.service import claims

    claim = _load_claim(claim_path)
    settings = _settings(home)
    try:
        codesets = claims.codesets_for(claim, settings=settings)
        findings = claims.check(claim, settings=settings, codesets=codesets)
        report = claims.findings_dict(claim, findings, codesets)
    except MedcoderError as e:
        _fail(e)
        return
    if as_json:
        _print_json(report)
    else:
        counts = report["counts"]
        out.print(f"[bold]{claim.claim_id}[/] checked for {report['date']}: {counts['error']} error(s), "
                  f"{counts['warning']} warning(s), {counts['info']} info", highlight=False)
        if findings:
            table = Table(show_lines=False)
            for column in ("severity", "rule", "lines", "codes"):
                table.add_column(column, no_wrap=True)
            for column in ("message", "fix"):
                table.add_column(column, overflow="fold", ratio=1)
            colors = {"error": "red", "warning": "yellow", "info": "dim"}
            for f in findings:
                table.add_row(f"[{colors[f.severity]}]{f.severity}[/]", f.rule, ",".join(map(str, f.lines)),
                              ", ".join(f.codes), f.message, f.fix or "")
            out.print(table)
    if any(f.severity == "error" for f in findings):
        raise typer.Exit(code=1)


@app.command("price")
def price_cmd(claim_path: ClaimArg, home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Price a claim: Medicare PFS per line (professional), MS-DRG (inpatient), CMS-HCC V28 risk score."""
    from medcoder.service import claims

    claim = _load_claim(claim_path)
    try:
        result = claims.price(claim, settings=_settings(home))
    except MedcoderError as e:
        _fail(e)
        return
    if as_json:
        _print_json(result)
        return
    out.print(f"[bold]{claim.claim_id}[/] {claim.kind} {claim.setting}, priced for {result['date']}, "
              f"charges {result['total_charge']}", highlight=False)
    if "pfs" in result:
        pfs = result["pfs"]
        for line in pfs["lines"]:
            amount = line["allowed"] if line["allowed"] is not None else "not priced"
            problems = "; ".join(p["message"] for p in line["problems"])
            out.print(f"  line {line['line']} {line['code']} {' '.join(line['modifiers'])} x{line['units']} "
                      f"{line['setting'] or ''}: {amount}" + (f"  [yellow]{problems}[/]" if problems else ""),
                      highlight=False)
        for problem in pfs["problems"]:
            out.print(f"  [yellow][{problem['code']}] {problem['message']}[/]", highlight=False)
        out.print(f"  [bold]PFS total {pfs['total']}[/] (locality {pfs['locality'] or 'national'}; "
                  f"{', '.join(pfs['releases'])})", highlight=False)
    if "drg" in result:
        drg = result["drg"]
        if "error" in drg:
            out.print(f"  [red]MS-DRG not assigned: [{drg['error']['code']}] {drg['error']['message']}[/]",
                      highlight=False)
        else:
            out.print(f"  [bold]MS-DRG {drg['drg']}[/] {drg['title']}  weight {drg['weight']} x base rate "
                      f"{drg['base_rate']} = [bold]{drg['payment']}[/]", highlight=False)
            out.print(f"    {drg['explanation']}", highlight=False)
    if "risk" in result:
        risk = result["risk"]
        if "error" in risk:
            out.print(f"  [yellow]risk score not computed: {risk['error']['message']}[/]", highlight=False)
        else:
            hccs = ", ".join(f"HCC {h['hcc']} ({', '.join(h['codes'])})" for h in risk["hccs"]) or "no HCC"
            out.print(f"  {risk['model']} RAF {risk['score']} (demographic {risk['demographic_score']}, disease "
                      f"{risk['disease_score']}): {hccs}", highlight=False)
    out.print(f"  [dim]releases: {', '.join(f'{k} {v}' for k, v in result['releases'].items())}[/]",
              highlight=False)


@app.command("claim-batch")
def claim_batch_cmd(
        input_path: Annotated[Path, typer.Argument(help="Claims JSONL: one claim document per line (the 'check' "
                                                   "shape).", exists=True, dir_okay=False, metavar="CLAIMS.jsonl")],
        out_path: Annotated[Path, typer.Option("--out", help="Output JSONL: per claim line its line number, "
                                               "findings and price, or its error; input order.")],
        home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Check and price a file of claims (scrubbing before submission); the summary goes to stderr."""
    from medcoder.service.claim_batch import scrub_file

    try:
        summary = scrub_file(input_path, out_path, settings=_settings(home))
    except MedcoderError as e:
        _fail(e)
        return
    if as_json:
        err.print(json.dumps(summary.to_dict()), highlight=False, soft_wrap=True)
        return
    rate = summary.lines / summary.wall_seconds if summary.wall_seconds else 0.0
    found = summary.findings
    err.print(f"{summary.lines:,} claim lines in {summary.wall_seconds:.1f}s ({rate:,.0f}/s): {summary.checked:,} "
              f"checked, {summary.with_errors:,} with errors a payer would reject, {summary.unreadable:,} "
              f"unreadable; findings {found['error']:,} error(s), {found['warning']:,} warning(s), "
              f"{found['info']:,} info", highlight=False)
    err.print(f"expected payment: PFS {summary.pfs_total}, MS-DRG {summary.drg_total}", highlight=False)
    for rule, count in summary.rules.most_common(10):
        err.print(f"  {count:>7,}  {rule}", highlight=False)
    for item in summary.error_list[:20]:
        err.print(f"  line {item['line']}: [{item['code']}] {item['message']} ({item['where']})", highlight=False)


@app.command("claim")
def claim_cmd(claim_path: Annotated[Path | None, typer.Argument(help="A claim document (JSON).")] = None,
              fmt: Annotated[str, typer.Option("--format", help="837p, 837i or fhir")] = "fhir",
              out_file: Annotated[Path | None, typer.Option("--out", help="Write here instead of stdout.")] = None,
              phone: Annotated[str | None, typer.Option("--phone", help="Submitter's 10-digit phone (837 PER).")]
              = None,
              encounter: Annotated[int | None, typer.Option("--encounter", help="Take the diagnoses from this "
                                                            "encounter's final codes (with --billing).")] = None,
              billing: Annotated[Path | None, typer.Option("--billing", help="Claim document holding everything "
                                                           "but the diagnoses (with --encounter).")] = None,
              db: DbOpt = None, home: HomeOpt = None) -> None:
    """Write a claim as an 837P, an 837I or a FHIR R4 Claim."""
    from medcoder.service import claims

    try:
        if encounter is not None:
            claim = _encounter_claim(encounter, billing, db, home)
        elif claim_path is not None:
            claim = _load_claim(claim_path)
        else:
            raise MedcoderError("no claim given", code="E802", where="CLAIM",
                                fix="Give a claim document, or --encounter ID --billing billing.json")
        text = claims.write(claim, fmt=fmt.lower(), phone=phone)
    except MedcoderError as e:
        _fail(e)
        return
    if out_file is not None:
        out_file.write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
        _progress(f"wrote {fmt} claim {claim.claim_id} to {out_file}")
    else:
        sys.stdout.write(text + ("" if text.endswith("\n") else "\n"))


def _encounter_claim(encounter: int, billing: Path | None, db: str | None, home: Path | None) -> Any:
    from medcoder.errors import ClaimError
    from medcoder.service import claims
    from medcoder.service.auth import SYSTEM
    from medcoder.service.coder import search_coder
    from medcoder.service.context import open_service

    if billing is None:
        raise ClaimError("--encounter needs --billing", code="E802", where="--billing",
                         fix="Give the billing document (parties, lines, dates) as JSON")
    try:
        data = json.loads(billing.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ClaimError(f"cannot read the billing document: {e}", code="E801", where=str(billing),
                         fix="Write it as one JSON object (see the README)") from e
    config = _api_config(home, db)
    service = open_service(config.db_url, coder=search_coder(config.settings), pepper=config.secret)
    try:
        return claims.claim_for_encounter(service, encounter_id=encounter, billing=data, actor=SYSTEM,
                                          where=f"{billing.name}:")
    finally:
        service.close()
