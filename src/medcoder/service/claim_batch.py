"""Batch claim scrubbing: check and price a JSONL file of claim documents, one result line per input line.

Why a runner of its own: a billing office scrubs a day's claims before they go out, thousands at a time.
Opening the code sets of a date and loading an MS-DRG grouper cost far more than checking one claim, so the
runner keeps the code sets of each date of service (shared by every date with the same releases) and one
grouper per code sets for the whole batch; ``bench/bench_claims.py`` measures this same path. A line that is
not a claim (not JSON, a missing field, a bad date) is written to the output with its line number and the
error, and the batch goes on: every non-blank input line has exactly one output line, in input order, each
carrying its line number, so nothing is lost and the output joins back to the input.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

from medcoder.claim.parse import claim_from_dict
from medcoder.codesets.codesets import Codesets
from medcoder.edits.run import check_claims
from medcoder.errors import ClaimError, MedcoderError
from medcoder.model.claim import Claim
from medcoder.model.findings import EditFinding
from medcoder.model.memo import IdentityMemo
from medcoder.pricing.drg import DrgGrouper
from medcoder.service import claims
from medcoder.settings import Settings

Progress = Callable[[int], None]
"""Called with the number of input lines finished so far."""
Checked = tuple[list[EditFinding], dict[str, Any]]
"""A claim's findings and its price."""
_Run = tuple[Codesets, list[EditFinding], dict[str, Any]]

CHUNK = 8
"""Claims ``scrub`` checks and prices together: ``check_claims`` runs each rule set, and ``claims.price_many``
each pricing part, over all of them in turn, so each one's data stays in cache (``bench/bench_claims.py``). Why so
few: a chunk's results stay alive until it is done, and results that outlive the young collections push CPython
into full collections, each walking the whole knowledge base (0.4 s for its 1.1 million objects); at 64 claims
a chunk some 5,000-claim runs paid for one, at 512 every run did, and 8 already keeps most of the gain."""


class ClaimBatch:
    """Code sets per date of service and one MS-DRG grouper per code sets, reused across a batch's claims."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._by_day: dict[date, Codesets] = {}
        self._groupers: IdentityMemo[Codesets, DrgGrouper] = IdentityMemo(1 << 16)
        self._by_releases: dict[tuple[tuple[str, str], ...], DrgGrouper] = {}

    @property
    def dates(self) -> int:
        """Distinct dates of service met so far."""
        return len(self._by_day)

    @property
    def code_sets(self) -> int:
        """Distinct code sets those dates opened (dates choosing the same releases share one)."""
        return len({id(codesets) for codesets in self._by_day.values()})

    def codesets(self, claim: Claim) -> Codesets:
        """The code sets of the claim's date (``claims.claim_day``): ``claims.codesets_for``, asked once per date.
        Dates with the same releases, in-force flags and notes share one object (``codesets_for`` keys them so),
        so the readers' per-code tables are built once per set of releases."""
        day = claims.claim_day(claim)
        found = self._by_day.get(day)
        if found is None:
            found = self._by_day[day] = claims.codesets_for(claim, settings=self.settings)
        return found

    def grouper(self, codesets: Codesets) -> DrgGrouper:
        """One grouper per set of releases: it reads only the MS-DRG and MCE releases' data, so code sets that
        differ in a note or an in-force flag share it (looked up by the code sets object, kept with it so the
        id key stays valid)."""
        return self._groupers.get(codesets, self._new_grouper)

    def _new_grouper(self, codesets: Codesets) -> DrgGrouper:
        key = tuple(sorted(claims.releases_of(codesets).items()))
        grouper = self._by_releases.get(key)
        if grouper is None:
            grouper = self._by_releases[key] = DrgGrouper(codesets)
        return grouper

    def check_and_price(self, claim: Claim) -> Checked:
        """Every edit rule set's findings, and the price (``claims.price``), with the code sets of its date."""
        done = self.check_and_price_many([claim])[0]
        if isinstance(done, MedcoderError):
            raise done
        return done

    def check_and_price_many(self, batch: Sequence[Claim]) -> list[Checked | MedcoderError]:
        """``check_and_price`` of each claim, or the error that stopped it (no date of service, no release for
        it): each rule set over all of them (``check_claims``), then each pricing part (``claims.price_many``)."""
        return [run if isinstance(run, MedcoderError) else run[1:] for run in self._run(batch)]

    def results(self, batch: Sequence[Claim]) -> list[dict[str, Any] | MedcoderError]:
        """The output line of each claim (its findings, ``claims.findings_dict``, and its price), or the error
        that stopped it."""
        return [run if isinstance(run, MedcoderError) else
                {"claim_id": claim.claim_id, "check": claims.findings_dict(claim, run[1], run[0]), "price": run[2]}
                for claim, run in zip(batch, self._run(batch), strict=True)]

    def _run(self, batch: Sequence[Claim]) -> list[_Run | MedcoderError]:
        errors: dict[int, MedcoderError] = {}
        served: list[tuple[Claim, Codesets]] = []
        for i, claim in enumerate(batch):
            try:
                served.append((claim, self.codesets(claim)))
            except MedcoderError as e:
                errors[i] = e
        ready = [claim for claim, _ in served]
        sets = [codesets for _, codesets in served]
        found = iter(check_claims(ready, sets))
        priced = iter(claims.price_many(ready, sets, [self.grouper(s) for s in sets]))
        done = iter(sets)
        runs: list[_Run | MedcoderError] = []
        for i in range(len(batch)):
            if i in errors:
                runs.append(errors[i])
                continue
            codesets, findings, price = next(done), next(found), next(priced)
            runs.append(price if isinstance(price, MedcoderError) else (codesets, findings, price))
        return runs


@dataclass(kw_only=True)
class ClaimBatchSummary:
    """What a billing manager reads after a run: how many claims would be rejected, on which rules, and the
    expected Medicare payment of those that priced."""

    lines: int = 0
    checked: int = 0
    unreadable: int = 0
    """Input lines that are not a claim document (reported in the output with the error)."""
    with_errors: int = 0
    """Claims with at least one error finding: a payer would reject them as they are."""
    findings: Counter[str] = field(default_factory=Counter)
    """Findings by severity."""
    rules: Counter[str] = field(default_factory=Counter)
    """Findings by rule."""
    pfs_total: Decimal = Decimal(0)
    drg_total: Decimal = Decimal(0)
    wall_seconds: float = 0.0
    error_list: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"lines": self.lines, "checked": self.checked, "unreadable": self.unreadable,
                "with_errors": self.with_errors,
                "findings": {s: self.findings.get(s, 0) for s in ("error", "warning", "info")},
                "rules": dict(self.rules.most_common()), "pfs_total": str(self.pfs_total),
                "drg_total": str(self.drg_total), "wall_seconds": round(self.wall_seconds, 3),
                "error_list": self.error_list[:100]}

    def add(self, output: dict[str, Any]) -> None:
        """Count one output line."""
        self.lines += 1
        if "error" in output:
            self.unreadable += 1
            self.error_list.append({"line": output["line"], **output["error"]})
            return
        self.checked += 1
        check, priced = output["check"], output["price"]
        for finding in check["findings"]:
            self.findings[finding["severity"]] += 1
            self.rules[finding["rule"]] += 1
        self.with_errors += check["counts"]["error"] > 0
        if "total" in priced.get("pfs", {}):
            self.pfs_total += Decimal(priced["pfs"]["total"])
        if "payment" in priced.get("drg", {}):
            self.drg_total += Decimal(priced["drg"]["payment"])


def read_claims(lines: Iterable[bytes | str], *, source: str) -> Iterator[tuple[int, Claim | ClaimError]]:
    """(line number, claim or the error that line gets) per non-blank line; ``source`` names the file in
    errors, as ``claims.jsonl:7`` then the JSON path (``claims.jsonl:7:lines[2].units``). Lines may be bytes,
    so one badly encoded line is that line's error, not the end of the batch."""
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        where = f"{source}:{number}"
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            yield number, ClaimError(f"not JSON: {e}", code="E801", where=where,
                                     fix="Write one claim document (a JSON object) per line")
            continue
        try:
            yield number, claim_from_dict(data, where=f"{where}:")
        except ClaimError as e:
            yield number, e


def scrub(lines: Iterable[bytes | str], *, settings: Settings, source: str = "claims",
          chunk: int = CHUNK) -> Iterator[dict[str, Any]]:
    """One output dict per claim line, in input order: ``{"line", "claim_id", "check", "price"}``, or
    ``{"line", "error"}`` for a line that is not a claim or that the code sets cannot serve (no release for its
    date). Claims are checked and priced ``chunk`` at a time (``ClaimBatch.results``)."""
    if chunk < 1:  # islice would read nothing, and the batch would end without a line written
        raise ValueError(f"claims are checked at least one at a time, not {chunk}")
    batch = ClaimBatch(settings)
    items = read_claims(lines, source=source)
    while block := list(islice(items, chunk)):
        done = iter(batch.results([item for _, item in block if not isinstance(item, ClaimError)]))
        for number, item in block:
            if isinstance(item, ClaimError):
                yield {"line": number, "error": item.to_dict()}
                continue
            result = next(done)
            if isinstance(result, MedcoderError):
                yield {"line": number, "claim_id": item.claim_id, "error": result.to_dict()}
            else:
                yield {"line": number, **result}


def scrub_file(input_path: Path, out_path: Path, *, settings: Settings,
               progress: Progress | None = None) -> ClaimBatchSummary:
    """Check and price every claim of a JSONL file into ``out_path`` (one JSON line per claim line)."""
    summary = ClaimBatchSummary()
    started = time.perf_counter()
    try:
        source = input_path.open("rb")
    except OSError as e:
        raise ClaimError(f"cannot read the claims file: {e.strerror}", code="E801", where=str(input_path),
                         fix="Check the path") from e
    with source, out_path.open("w", encoding="utf-8") as sink:
        for output in scrub(source, settings=settings, source=input_path.name):
            sink.write(json.dumps(output, separators=(",", ":")) + "\n")
            summary.add(output)
            if progress is not None:
                progress(summary.lines)
    summary.wall_seconds = time.perf_counter() - started
    return summary
