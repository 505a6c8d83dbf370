"""``quick_init`` gives the model's frozen records the same constructor as ``@dataclass`` generated: same
parameters and defaults, same errors, same resulting object (frozen, equal, hashable, ``replace``-able)."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

import medcoder.model
from medcoder.model.claim import Claim, Diagnosis, Patient, Payer, Provider, ServiceLine
from medcoder.model.findings import EditFinding
from medcoder.model.frozen import quick_init


def _plain() -> type[Any]:
    @dataclass(frozen=True, slots=True, kw_only=True)
    class Record:
        name: str
        count: int = 0
        tags: list[str] = field(default_factory=list)
        seen: tuple[str, ...] = field(init=False, default=())
        derived: str = field(init=False, repr=False, compare=False)

        def __post_init__(self) -> None:
            object.__setattr__(self, "derived", f"{self.name}:{self.count}")

    return Record


def test_quick_init_builds_what_the_dataclass_builds() -> None:
    plain, quick = _plain(), quick_init(_plain())
    for kwargs in ({"name": "a"}, {"name": "b", "count": 3, "tags": ["x"]}):
        a, b = plain(**kwargs), quick(**kwargs)
        assert dataclasses.asdict(a) == dataclasses.asdict(b) and a.derived == b.derived
    one, two = quick(name="a"), quick(name="a")
    assert one == two
    assert one.tags == [] and one.tags is not two.tags  # the factory runs per object, as the dataclass's does
    assert dataclasses.replace(one, count=5).derived == "a:5"
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.name = "z"  # type: ignore[misc]


def test_quick_init_has_the_dataclass_signature_and_errors() -> None:
    plain, quick = _plain(), quick_init(_plain())
    want, got = inspect.signature(plain.__init__), inspect.signature(quick.__init__)
    assert [(p.name, p.kind) for p in want.parameters.values()] == [(p.name, p.kind) for p in got.parameters.values()]
    assert got.parameters["count"].default == 0
    with pytest.raises(TypeError, match="name"):
        quick()
    with pytest.raises(TypeError, match="bogus"):
        quick(name="a", bogus=1)
    with pytest.raises(TypeError):
        quick("a")  # keyword-only, as declared


def test_quick_init_refuses_classes_it_does_not_fit() -> None:
    @dataclass
    class Mutable:
        name: str

    @dataclass(frozen=True)
    class NoSlots:
        name: str

    @dataclass(frozen=True, slots=True)
    class Positional:
        name: str

    for cls in (Mutable, NoSlots, Positional, int):
        with pytest.raises(TypeError, match="quick_init"):
            quick_init(cls)


def _model_records() -> list[type[Any]]:
    found = []
    for info in pkgutil.iter_modules(medcoder.model.__path__):
        module = importlib.import_module(f"medcoder.model.{info.name}")
        for value in vars(module).values():
            if (inspect.isclass(value) and value.__module__ == module.__name__ and dataclasses.is_dataclass(value)
                    and value.__dataclass_params__.frozen):  # type: ignore[attr-defined]
                found.append(value)
    return found


def test_every_frozen_model_record_uses_quick_init() -> None:
    records = _model_records()
    assert len(records) >= 30
    # quick_init's constructor stores through the slots' setters, bound as ``_set_<field>``
    slow = [cls.__qualname__ for cls in records
            if not any(name.startswith("_set_") for name in cls.__init__.__code__.co_names)]
    assert slow == []


def test_model_records_built_by_quick_init_behave_as_before() -> None:
    born = date(1950, 5, 1)
    claim = Claim(claim_id="C1", kind="professional", patient=Patient(member_id="M", last_name="Doe", first_name="P",
                                                                     birth_date=born, sex="F"),
                  payer=Payer(name="Medicare", payer_id="12302"), billing_provider=Provider(name="Clinic"),
                  diagnoses=(Diagnosis(code="E11.9", sequence=1),),
                  lines=(ServiceLine(number=1, code="99213", service_date=date(2026, 2, 3), charge=Decimal(90)),))
    assert claim.service_dates == (date(2026, 2, 3),)  # __post_init__ ran
    assert claim == dataclasses.replace(claim) and hash(claim) == hash(dataclasses.replace(claim))
    finding = EditFinding(rule_set="validity", rule="validity.x", severity="error", message="m")
    assert finding.details == {} and finding.codes == () and finding.release is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.rule = "y"  # type: ignore[misc]
