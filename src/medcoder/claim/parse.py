"""Read a JSON claim document into a :class:`~medcoder.model.claim.Claim`.

Why a reader of its own: a billing office keeps the parties (billing provider, payer, patient) in a file and
the codes come from coding; the editors, pricers and writers then all read the same frozen ``Claim``. Every
bad field is reported with its JSON path, so ``claim.json:lines[2].units`` says exactly what to fix.

The document (``samples/office_visit.json`` and ``samples/inpatient_pneumonia.json`` are complete examples)::

    {
      "claim_id": "PCLM-1001",                        required
      "kind": "professional" | "institutional",       required
      "setting": "outpatient" | "inpatient",          default outpatient
      "patient": {"member_id", "last_name", "first_name", "birth_date": "YYYY-MM-DD", "sex": "F"|"M"|"U",
                  "address": {"line1", "line2", "city", "state", "postal_code"}},   names required
      "payer": {"name", "payer_id", "kind": "medicare"|"medicaid"|"commercial"|"self-pay"|"other"},
      "billing_provider": {"name", "npi", "taxonomy", "tax_id", "address", "first_name", "is_person"},
      "rendering_provider", "attending_provider", "service_facility": same shape, optional,
      "diagnoses": ["J18.9", ...] or [{"code": "J18.9", "poa": "Y"}, ...]   in sequence, 1 = principal
      "lines": [{"code", "service_date", "units", "charge", "modifiers": [...], "diagnosis_pointers": [1, 2],
                 "place_of_service", "revenue_code"}],
      "procedures": [{"code": "5A1955Z", "performed_on": "YYYY-MM-DD"}],       ICD-10-PCS, in sequence
      "place_of_service": "11", "locality": "01112-05", "admission_date", "discharge_date",
      "discharge_status": "01", "type_of_bill": "0111", "admission_type": "1", "admission_source": "7",
      "admitting_diagnosis": "J18.9", "statement_from", "statement_to"
    }

Errors are :class:`ClaimError`: E801 not a JSON object or a field of the wrong type, E802 a required field
missing, E803 a bad value (date, amount, sex, kind ...), each with ``where`` = the file and JSON path.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, cast

from medcoder.errors import ClaimError
from medcoder.model.claim import (
    Address,
    Claim,
    ClaimKind,
    Diagnosis,
    Patient,
    Payer,
    PayerKind,
    ProcedureCode,
    Provider,
    ServiceLine,
    Sex,
)

T = TypeVar("T")
_KINDS = ("professional", "institutional")
_SETTINGS = ("outpatient", "inpatient")
_SEXES = ("F", "M", "U")
_PAYER_KINDS = ("medicare", "medicaid", "commercial", "self-pay", "other")
_TYPE_NAMES = {str: "a string", dict: "an object", list: "a list", bool: "true or false"}


def _path(where: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if not where.endswith(":") else f"{where}{key}"


def _wrong_type(value: Any, want: str, where: str) -> ClaimError:
    return ClaimError(f"expected {want}, found {type(value).__name__} {value!r}"[:200], code="E801", where=where,
                      fix=f"Write this field as {want}")


def _bad(message: str, where: str, fix: str) -> ClaimError:
    return ClaimError(message, code="E803", where=where, fix=fix)


class _Obj:
    """One JSON object being read, remembering its path for the errors."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, Mapping):
            raise _wrong_type(data, "an object", where.rstrip(":") or where)
        self.data, self.where = data, where

    def at(self, key: str) -> str:
        return _path(self.where, key)

    def get(self, key: str, kind: type[T], *, required: bool = False) -> T | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise ClaimError(f"required field {key!r} is missing", code="E802", where=self.at(key),
                                 fix=f"Add {key!r} to the claim document")
            return None
        if kind is str and isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)  # a payer id or place of service written as a number
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise _wrong_type(value, _TYPE_NAMES.get(kind, kind.__name__), self.at(key))
        return value

    def need(self, key: str, kind: type[T]) -> T:
        return cast(T, self.get(key, kind, required=True))  # get(required=True) raised when it is missing

    def text(self, key: str, *, required: bool = False) -> str | None:
        value = self.get(key, str, required=required)
        if value is not None:
            value = value.strip()
            if required and not value:
                raise ClaimError(f"required field {key!r} is empty", code="E802", where=self.at(key),
                                 fix=f"Fill in {key!r}")
        return value or None

    def need_text(self, key: str) -> str:
        value = self.text(key, required=True)
        return value or ""

    def choice(self, key: str, choices: tuple[str, ...], *, default: str | None = None,
               normalize: Callable[[str], str] = str.lower) -> str | None:
        value = self.text(key)
        if value is None:
            return default
        if normalize(value) not in choices:
            raise _bad(f"{key} {value!r} is not one of {', '.join(choices)}", self.at(key),
                       f"Use one of {', '.join(choices)}")
        return normalize(value)

    def day(self, key: str, *, required: bool = False) -> date | None:
        value = self.text(key, required=required)
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError as e:
            raise _bad(f"{key} {value!r} is not a date", self.at(key), "Write dates as YYYY-MM-DD") from e

    def amount(self, key: str, default: Decimal) -> Decimal:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise _wrong_type(value, "a number", self.at(key))
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation as e:
            raise _bad(f"{key} {value!r} is not a number", self.at(key), "Write amounts as 185.00 or 4") from e
        if not number.is_finite() or number < 0:
            raise _bad(f"{key} {value!r} must be a finite number >= 0", self.at(key), "Write amounts as 185.00")
        return number

    def objects(self, key: str) -> list[tuple[Any, str]]:
        items = self.get(key, list) or []
        return [(item, _path(self.at(key), i)) for i, item in enumerate(items)]


def _address(data: Any, where: str) -> Address | None:
    if data is None:
        return None
    obj = _Obj(data, where)
    return Address(line1=obj.need_text("line1"), line2=obj.text("line2"), city=obj.need_text("city"),
                   state=obj.need_text("state"), postal_code=obj.need_text("postal_code"))


def _provider(parent: _Obj, key: str, *, required: bool = False) -> Provider | None:
    data = parent.get(key, dict, required=required)
    if data is None:
        return None
    obj = _Obj(data, parent.at(key))
    npi = obj.text("npi")
    if npi is not None and not (len(npi) == 10 and npi.isdigit()):
        raise _bad(f"npi {npi!r} is not 10 digits", obj.at("npi"), "Write the provider's 10-digit NPI")
    return Provider(name=obj.need_text("name"), npi=npi, taxonomy=obj.text("taxonomy"), tax_id=obj.text("tax_id"),
                    address=_address(data.get("address"), obj.at("address")), first_name=obj.text("first_name"),
                    is_person=bool(obj.get("is_person", bool)) or obj.text("first_name") is not None)


def _patient(parent: _Obj) -> Patient:
    obj = _Obj(parent.need("patient", dict), parent.at("patient"))
    sex = obj.choice("sex", _SEXES, normalize=str.upper)
    return Patient(member_id=obj.text("member_id"), last_name=obj.need_text("last_name"),
                   first_name=obj.need_text("first_name"), birth_date=obj.day("birth_date"),
                   sex=cast(Sex | None, sex), address=_address(obj.data.get("address"), obj.at("address")))


def _payer(parent: _Obj) -> Payer:
    obj = _Obj(parent.need("payer", dict), parent.at("payer"))
    kind = obj.choice("kind", _PAYER_KINDS, default="medicare")
    return Payer(name=obj.need_text("name"), payer_id=obj.need_text("payer_id"), kind=cast(PayerKind, kind))


def _diagnoses(parent: _Obj) -> tuple[Diagnosis, ...]:
    out = []
    for sequence, (item, where) in enumerate(parent.objects("diagnoses"), start=1):
        if isinstance(item, str):
            code, poa = item.strip(), None
        else:
            obj = _Obj(item, where)
            code, poa = obj.need_text("code"), obj.text("poa")
            if poa is not None and poa.upper() not in ("Y", "N", "U", "W", "1"):
                raise _bad(f"poa {poa!r} is not a present-on-admission indicator", obj.at("poa"),
                           "Use Y, N, U, W or 1")
            poa = poa.upper() if poa else None
        if not code:
            raise ClaimError("empty diagnosis code", code="E802", where=where, fix="Write the ICD-10-CM code")
        out.append(Diagnosis(code=code.upper(), sequence=sequence, poa=poa))
    return tuple(out)


def _strings(obj: _Obj, key: str) -> tuple[str, ...]:
    out = []
    for item, where in obj.objects(key):
        if not isinstance(item, str | int) or isinstance(item, bool):
            raise _wrong_type(item, "a string", where)
        out.append(str(item).strip().upper())
    return tuple(out)


def _pointers(obj: _Obj, count: int) -> tuple[int, ...]:
    out = []
    for item, where in obj.objects("diagnosis_pointers"):
        if not isinstance(item, int) or isinstance(item, bool):
            raise _wrong_type(item, "a whole number", where)
        if not 1 <= item <= count:
            raise _bad(f"diagnosis pointer {item} is not between 1 and {count}", where,
                       "Point at a diagnosis by its 1-based position in 'diagnoses'")
        out.append(item)
    return tuple(out)


def _lines(parent: _Obj, count: int) -> tuple[ServiceLine, ...]:
    out = []
    for number, (item, where) in enumerate(parent.objects("lines"), start=1):
        obj = _Obj(item, where)
        code = (obj.text("code") or "").upper()
        revenue = obj.text("revenue_code")
        if not code and not revenue:
            raise ClaimError("a line needs a code or a revenue_code", code="E802", where=obj.at("code"),
                             fix="Write the CPT/HCPCS code (and the revenue code on institutional claims)")
        service_date = cast(date, obj.day("service_date", required=True))
        out.append(ServiceLine(number=number, code=code, service_date=service_date,
                               units=obj.amount("units", Decimal(1)), charge=obj.amount("charge", Decimal(0)),
                               modifiers=_strings(obj, "modifiers"), diagnosis_pointers=_pointers(obj, count),
                               place_of_service=obj.text("place_of_service"), revenue_code=revenue))
    return tuple(out)


def _procedures(parent: _Obj) -> tuple[ProcedureCode, ...]:
    out = []
    for sequence, (item, where) in enumerate(parent.objects("procedures"), start=1):
        obj = _Obj(item, where)
        performed = cast(date, obj.day("performed_on", required=True))
        out.append(ProcedureCode(code=obj.need_text("code").upper(), performed_on=performed, sequence=sequence))
    return tuple(out)


def claim_from_dict(data: Mapping[str, Any], *, where: str = "claim") -> Claim:
    """The claim a JSON document describes; raises ClaimError (E801/E802/E803) naming the JSON path.

    ``where`` prefixes every path: pass the file name with a colon (``claim.json:``) to get
    ``claim.json:lines[2].units``, or a name without one (``claim``) to get ``claim.lines[2].units``.
    """
    obj = _Obj(data, where)
    diagnoses = _diagnoses(obj)
    if not diagnoses:
        raise ClaimError("the claim has no diagnosis", code="E802", where=obj.at("diagnoses"),
                         fix="List the ICD-10-CM codes in sequence, the principal or first-listed first")
    claim = Claim(
        claim_id=obj.need_text("claim_id"), kind=cast(ClaimKind, obj.choice("kind", _KINDS) or _missing(obj, "kind")),
        setting=cast(Any, obj.choice("setting", _SETTINGS, default="outpatient")),
        patient=_patient(obj), payer=_payer(obj),
        billing_provider=cast(Provider, _provider(obj, "billing_provider", required=True)),
        rendering_provider=_provider(obj, "rendering_provider"),
        attending_provider=_provider(obj, "attending_provider"),
        service_facility=_provider(obj, "service_facility"),
        diagnoses=diagnoses, lines=_lines(obj, len(diagnoses)), procedures=_procedures(obj),
        place_of_service=obj.text("place_of_service") or "11", locality=obj.text("locality"),
        statement_from=obj.day("statement_from"), statement_to=obj.day("statement_to"),
        admission_date=obj.day("admission_date"), discharge_date=obj.day("discharge_date"),
        discharge_status=obj.text("discharge_status"), type_of_bill=obj.text("type_of_bill"),
        admission_type=obj.text("admission_type"), admission_source=obj.text("admission_source"),
        admitting_diagnosis=(obj.text("admitting_diagnosis") or "").upper() or None,
    )
    if claim.setting == "inpatient" and claim.discharge_date is None:
        raise ClaimError("an inpatient claim needs its discharge date", code="E802", where=obj.at("discharge_date"),
                         fix="Write the discharge date as YYYY-MM-DD")
    if not claim.lines and not claim.procedures:
        raise ClaimError("the claim has no service line or procedure", code="E802", where=obj.at("lines"),
                         fix="Add the service lines (CPT/HCPCS codes with dates)")
    return claim


def _missing(obj: _Obj, key: str) -> str:
    raise ClaimError(f"required field {key!r} is missing", code="E802", where=obj.at(key),
                     fix=f"Add {key!r} to the claim document")


def load_claim(path: Path) -> Claim:
    """Read a claim document from a JSON file; ClaimError E801 when it is not JSON."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise ClaimError(f"cannot read the claim file: {e.strerror}", code="E801", where=str(path),
                         fix="Check the path") from e
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ClaimError(f"not JSON: {e}", code="E801", where=str(path),
                         fix="Write the claim as one JSON object (see the README)") from e
    return claim_from_dict(data, where=f"{Path(path).name}:")


def sample_path(name: str) -> Path:
    """A sample claim document shipped with medcoder: ``office_visit`` or ``inpatient_pneumonia``."""
    return Path(str(resources.files("medcoder.claim") / "samples" / f"{name}.json"))
