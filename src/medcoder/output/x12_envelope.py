"""The 837 envelope: ISA/GS/ST with BHT, submitter (1000A) and receiver (1000B), closed by SE/GE/IEA.

Why control numbers default to a hash of the claim ids: the same claims then give byte-identical files (golden
tests, re-sends that a clearinghouse can recognise as duplicates); a caller that keeps a counter passes its own.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from medcoder.errors import ClaimError
from medcoder.model.claim import Claim
from medcoder.output.x12_common import (
    COMPONENT,
    ELEMENT,
    REPETITION,
    SEGMENT,
    Segments,
    add_billing_provider,
    add_subscriber,
    bad,
    code_value,
    text,
)

_MAX_CONTROL = 999_999_999


@dataclass(frozen=True, slots=True, kw_only=True)
class Interchange:
    """Who sends the file to whom, and its control numbers; the trading-partner data the claim does not hold."""

    sender_id: str
    """ISA06 / GS02: the submitter's id assigned by the receiver (clearinghouse or payer), up to 15 characters."""
    receiver_id: str
    """ISA08 / GS03 / 1000B NM109: the receiver's id, up to 15 characters."""
    submitter_name: str
    """1000A NM103: the organization sending the claims."""
    submitter_contact: str
    """1000A PER02: a person or office to call about the file."""
    submitter_phone: str
    """1000A PER04: 10-digit telephone number."""
    receiver_name: str
    """1000B NM103: the clearinghouse or payer receiving the file."""
    submitter_id: str | None = None
    """1000A NM109 (ETIN); defaults to ``sender_id``."""
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    usage: Literal["P", "T"] = "P"
    """ISA15: P production, T test."""
    created: datetime | None = None
    """When the file is created (ISA09/10, GS04/05, BHT04/05); None = now, UTC."""
    interchange_control_number: int | None = None
    """ISA13 / IEA02 (1..999999999); None = derived from the claim ids."""
    group_control_number: int | None = None
    """GS06 / GE02; None = derived from the claim ids."""
    transaction_control_number: int | None = None
    """ST02 / SE02 (and BHT03); None = derived from the claim ids."""


def derived_control_number(claims: Sequence[Claim]) -> int:
    """A stable number in 1..999999999 from the claim ids (CRC-32), so equal input gives an equal file."""
    return zlib.crc32("|".join(c.claim_id for c in claims).encode("utf-8")) % _MAX_CONTROL + 1


def _control(value: int | None, default: int, where: str) -> int:
    number = default if value is None else value
    if not 1 <= number <= _MAX_CONTROL:
        raise ClaimError(f"{where} {number} is out of range", code="E824", where=where,
                         fix="Use a control number from 1 to 999999999")
    return number


def _isa_id(value: str, where: str) -> str:
    clean = text(value, where, max_len=15)
    if not clean:
        raise ClaimError(f"{where} is empty", code="E824", where=where, fix="Set the trading-partner id")
    return clean.ljust(15)


def wrap(body: Segments, *, interchange: Interchange, version: str, claims: Sequence[Claim],
         newline: bool = False) -> str:
    """Put the transaction body (the HL loops) inside ST/BHT/1000A/1000B ... SE, GS ... GE and ISA ... IEA."""
    ix = interchange
    default = derived_control_number(claims)
    isa13 = _control(ix.interchange_control_number, default, "interchange_control_number")
    gs06 = _control(ix.group_control_number, default, "group_control_number")
    st02 = f"{_control(ix.transaction_control_number, default, 'transaction_control_number'):04d}"
    created = ix.created or datetime.now(UTC)
    phone = "".join(ch for ch in ix.submitter_phone if ch.isdigit())
    if len(phone) != 10:
        raise ClaimError(f"submitter_phone {ix.submitter_phone!r} is not a 10-digit number", code="E824",
                         where="submitter_phone", fix="Give the contact's telephone number, e.g. 4105551234")
    sender = _isa_id(ix.sender_id, "sender_id")
    receiver = _isa_id(ix.receiver_id, "receiver_id")
    qualifiers = [code_value(q, name, r"[0-9A-Z]{2}", "ZZ") for q, name in
                  ((ix.sender_qualifier, "sender_qualifier"), (ix.receiver_qualifier, "receiver_qualifier"))]

    head = Segments()
    head.add("ST", "837", st02, version)
    head.add("BHT", "0019", "00", st02, created.strftime("%Y%m%d"), created.strftime("%H%M"), "CH")
    head.add("NM1", "41", "2", text(ix.submitter_name, "submitter_name", max_len=60), "", "", "", "", "46",
             text(ix.submitter_id or ix.sender_id, "submitter_id", max_len=80))
    head.add("PER", "IC", text(ix.submitter_contact, "submitter_contact", max_len=60), "TE", phone)
    head.add("NM1", "40", "2", text(ix.receiver_name, "receiver_name", max_len=60), "", "", "", "", "46",
             receiver.strip())
    transaction = head.items + body.items
    transaction.append(ELEMENT.join(["SE", str(len(transaction) + 1), st02]))

    isa = ELEMENT.join(["ISA", "00", " " * 10, "00", " " * 10, qualifiers[0], sender, qualifiers[1], receiver,
                        created.strftime("%y%m%d"), created.strftime("%H%M"), REPETITION, "00501", f"{isa13:09d}",
                        "0", ix.usage, COMPONENT])
    gs = ELEMENT.join(["GS", "HC", sender.strip(), receiver.strip(), created.strftime("%Y%m%d"),
                       created.strftime("%H%M"), str(gs06), "X", version])
    closing = [ELEMENT.join(["GE", "1", str(gs06)]), ELEMENT.join(["IEA", "1", f"{isa13:09d}"])]
    terminator = SEGMENT + ("\n" if newline else "")
    return terminator.join([isa, gs, *transaction, *closing]) + terminator


def read_segments(x12: str) -> list[list[str]]:
    """Split an 837 back into segments of elements, reading the delimiters from the ISA (round trips, tests)."""
    if not x12.startswith("ISA") or len(x12) < 106:
        raise ClaimError("not an X12 interchange (no ISA header)", code="E824", where="ISA",
                         fix="Pass the whole file, starting with ISA")
    element, terminator = x12[3], x12[105]
    segments = [s.strip() for s in x12.split(terminator)]
    return [s.split(element) for s in segments if s]


def write_transaction(claims: Claim | Sequence[Claim], *, interchange: Interchange, newline: bool, version: str,
                      check: Callable[[Claim], None], add_claim: Callable[[Segments, Claim], None],
                      institutional: bool) -> str:
    """One interchange with one 837 transaction (P or I by the callbacks): claims of the same billing provider
    share its HL, each claim under its own subscriber HL."""
    batch = (claims,) if isinstance(claims, Claim) else tuple(claims)
    if not batch:
        raise bad("no claims to write", "claims", code="E824", fix="Pass at least one claim")
    for claim in batch:
        check(claim)
    body = Segments()
    hl = 0
    by_provider: dict[object, list[Claim]] = {}
    for claim in batch:
        by_provider.setdefault(claim.billing_provider, []).append(claim)
    for group in by_provider.values():
        hl += 1
        provider_hl = hl
        add_billing_provider(body, group[0].billing_provider, provider_hl)
        for claim in group:
            hl += 1
            add_subscriber(body, claim, hl, provider_hl, institutional=institutional)
            add_claim(body, claim)
    return wrap(body, interchange=interchange, version=version, claims=batch, newline=newline)
