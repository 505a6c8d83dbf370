"""Batch coding of a JSONL file (``shared/CONTRACTS.md``): streaming, all cores, resumable into the database.

Why chunks: records are read, parsed and looked up in the database a chunk at a time (constant memory), the
new ones are coded by a process pool while the previous chunk is stored, and each chunk is committed once.
A crash loses at most the uncommitted chunk; a rerun finds every committed document by its sha256, so it
neither codes nor stores it again, and rewrites the whole output in input order. A bad record is reported
in the output (line, id, error) and the batch goes on.
"""

from __future__ import annotations

import json
import multiprocessing
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from typing import IO, Any

from sqlalchemy.exc import IntegrityError

from medcoder.errors import MedcoderError
from medcoder.ingest.jsonl import read_jsonl_record, record_id_of
from medcoder.ingest.record import ParsedRecord
from medcoder.service.coder import Coder, CodingResult
from medcoder.service.export import contract_release
from medcoder.service.process import Coded, code_record, existing, request_of, store_record
from medcoder.store import repo
from medcoder.store.db import Database, open_database

Progress = Callable[[int], None]
"""Called with the number of input lines finished so far."""


@dataclass(kw_only=True)
class BatchSummary:
    records: int = 0
    coded: int = 0
    stored: int = 0
    resumed: int = 0
    """Records found already stored (a rerun): not coded again."""
    errors: int = 0
    coding_seconds: float = 0.0
    """Sum over records of the engine's time (across workers)."""
    storage_seconds: float = 0.0
    """Wall time spent in database lookups and writes."""
    wall_seconds: float = 0.0
    error_list: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"records": self.records, "coded": self.coded, "stored": self.stored, "resumed": self.resumed,
                "errors": self.errors, "coding_seconds": round(self.coding_seconds, 3),
                "storage_seconds": round(self.storage_seconds, 3), "wall_seconds": round(self.wall_seconds, 3),
                "error_list": self.error_list[:100]}


def result_output(record_id: str | None, result: CodingResult) -> dict[str, Any]:
    return {"id": record_id,
            "codes": [s.to_dict() for s in sorted(result.suggestions, key=lambda s: s.sequence)],
            "queries": [q.to_dict() for q in result.queries],
            "release": contract_release(dict(result.releases)), "pipeline_version": result.pipeline_version}


def error_output(record_id: str | None, line: int, error: MedcoderError) -> dict[str, Any]:
    return {"id": record_id, "line": line, "error": error.to_dict()}


def _stored_output(db: Database, record_id: str | None, sha256: str) -> dict[str, Any] | None:
    """The output of a record stored by an earlier run, from its first coding run (same as it was then)."""
    with db.read() as session:
        document = repo.document_by_hash(session, sha256=sha256)
        if document is None:
            return None
        runs = [r for r in repo.runs_of(session, encounter_id=document.encounter_id) if r.document_id == document.id]
        if not runs:
            return None
        run = runs[0]
        rows = repo.suggestions(session, encounter_id=document.encounter_id, active_only=False, run_id=run.id)
        queries = [q for q in repo.queries(session, encounter_id=document.encounter_id, active_only=False)
                   if q.run_id == run.id]
        codes = [{"system": r.system, "code": r.original_code or r.code, "title": r.title, "sequence": r.sequence,
                  "confidence": None if r.confidence is None else round(r.confidence, 3), "evidence": r.evidence,
                  "rationale": r.rationale} for r in rows]
        return {"id": record_id, "codes": codes,
                "queries": [{"code": q.code, "missing": q.missing, "question": q.question, "options": q.options,
                             "evidence": q.evidence} for q in queries],
                "release": contract_release(run.releases), "pipeline_version": run.pipeline_version}


# -- worker side ---------------------------------------------------------------------------------------

_WORKER_CODER: Coder | None = None


def _init_worker(coder: Coder) -> None:
    global _WORKER_CODER
    _WORKER_CODER = coder


def _code_safely(coder: Coder, record: ParsedRecord) -> Coded | dict[str, Any]:
    try:
        return code_record(coder, request_of(record))
    except MedcoderError as e:
        return e.to_dict()
    except Exception as e:  # noqa: BLE001 - one record's engine failure must not stop the batch
        return {"code": "E690", "message": f"the coding engine failed on this record: {e!r}", "where": None,
                "fix": "Report it with the record; the rest of the batch went on",
                "trace": traceback.format_exc(limit=3)}


def _work(record: ParsedRecord) -> Coded | dict[str, Any]:
    if _WORKER_CODER is None:  # pragma: no cover - the pool initializer always runs first
        raise RuntimeError("worker not initialized")
    return _code_safely(_WORKER_CODER, record)


# -- main side -----------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class _Item:
    line: int
    record_id: str | None
    record: ParsedRecord | None = None
    output: dict[str, Any] | None = None


def _lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(stream, start=1):
        if line.strip():
            yield number, line.rstrip(b"\r\n")


def _chunks(stream: IO[bytes], size: int) -> Iterator[list[tuple[int, bytes]]]:
    chunk: list[tuple[int, bytes]] = []
    for item in _lines(stream):
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Batch:
    def __init__(self, *, coder: Coder, db: Database | None, pool: Pool | None, out: IO[str],
                 summary: BatchSummary, progress: Progress | None, actor: str) -> None:
        self.coder, self.db, self.pool, self.out = coder, db, pool, out
        self.summary, self.progress, self.actor = summary, progress, actor
        self.done = 0

    def prepare(self, chunk: list[tuple[int, bytes]]) -> tuple[list[_Item], list[_Item]]:
        """Parse; find records stored by an earlier run; return (all items, items still to code)."""
        items: list[_Item] = []
        for line, raw in chunk:
            try:
                record = read_jsonl_record(raw, where=f"line {line}")
                items.append(_Item(line=line, record_id=record.record_id, record=record))
            except MedcoderError as e:
                items.append(_Item(line=line, record_id=record_id_of(raw), output=error_output(record_id_of(raw),
                                                                                                line, e)))
        todo = [i for i in items if i.record is not None]
        if self.db is not None and todo:
            t0 = time.perf_counter()
            with self.db.read() as session:
                found = repo.documents_by_hashes(session, hashes=[i.record.sha256 for i in todo if i.record])
            for item in todo:
                if item.record is not None and item.record.sha256 in found:
                    item.output = _stored_output(self.db, item.record_id, item.record.sha256)
                    self.summary.resumed += 1
            self.summary.storage_seconds += time.perf_counter() - t0
            todo = [i for i in todo if i.output is None]
        return items, todo

    def start(self, todo: list[_Item]) -> AsyncResult[list[Coded | dict[str, Any]]] | list[Coded | dict[str, Any]]:
        records = [i.record for i in todo if i.record is not None]
        if self.pool is not None and records:
            return self.pool.map_async(_work, records, chunksize=max(1, len(records) // 8))
        return [_code_safely(self.coder, r) for r in records]

    def finish(self, items: list[_Item], todo: list[_Item],
               pending: AsyncResult[list[Coded | dict[str, Any]]] | list[Coded | dict[str, Any]]) -> None:
        results = pending if isinstance(pending, list) else pending.get()
        coded: list[tuple[_Item, Coded]] = []
        for item, result in zip(todo, results, strict=True):
            if isinstance(result, Coded):
                self.summary.coded += 1
                self.summary.coding_seconds += result.seconds
                coded.append((item, result))
                item.output = result_output(item.record_id, result.result)
            else:
                item.output = {"id": item.record_id, "line": item.line, "error": result}
        if self.db is not None and coded:
            self.store(coded)
        for item in items:
            if item.output is not None and "error" in item.output:
                self.summary.errors += 1
                self.summary.error_list.append({"line": item.line, "id": item.record_id, **item.output["error"]})
            self.out.write(json.dumps(item.output, ensure_ascii=False) + "\n")
        self.out.flush()
        self.summary.records += len(items)
        self.done = items[-1].line if items else self.done
        if self.progress is not None:
            self.progress(self.done)

    def store(self, coded: list[tuple[_Item, Coded]]) -> None:
        if self.db is None:
            return
        t0 = time.perf_counter()
        with self.db.write() as session:
            for item, result in coded:
                if item.record is None:
                    continue
                try:
                    with session.begin_nested():
                        store_record(session, record=item.record, coded=result, actor=self.actor)
                    self.summary.stored += 1
                except IntegrityError:
                    # The same document appeared twice in the input: the first one stands.
                    if existing(session, sha256=item.record.sha256) is None:
                        raise
                    self.summary.resumed += 1
            session.commit()
        self.summary.storage_seconds += time.perf_counter() - t0


def code_batch(in_path: Path, out_path: Path, *, coder: Coder, db_url: str | None = None, workers: int = 1,
               chunk_size: int = 64, progress: Progress | None = None, actor: str = "batch") -> BatchSummary:
    """Code every record of ``in_path`` into ``out_path`` (input order); with ``db_url``, store each too."""
    summary = BatchSummary()
    t0 = time.perf_counter()
    # spawn, not fork: the parent may hold database connections and a progress thread.
    pool = (multiprocessing.get_context("spawn").Pool(workers, initializer=_init_worker, initargs=(coder,))
            if workers > 1 else None)
    db = open_database(db_url) if db_url else None
    try:
        with in_path.open("rb") as stream, out_path.open("w", encoding="utf-8") as out:
            batch = _Batch(coder=coder, db=db, pool=pool, out=out, summary=summary, progress=progress, actor=actor)
            pending: tuple[list[_Item], list[_Item], Any] | None = None
            for chunk in _chunks(stream, chunk_size):
                items, todo = batch.prepare(chunk)
                started = batch.start(todo)
                if pending is not None:
                    batch.finish(*pending)
                pending = (items, todo, started)
            if pending is not None:
                batch.finish(*pending)
    finally:
        if pool is not None:
            pool.close()
            pool.join()
        if db is not None:
            db.dispose()
    summary.wall_seconds = time.perf_counter() - t0
    return summary
