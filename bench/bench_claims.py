"""Claims checked and priced per second (``service.claims.check`` + ``price``) vs drgpy's grouper alone.

Run: .venv/bin/python bench/bench_claims.py [--home DIR] [--claims 5000] [--seed 11]
The claims are synthetic but made of real codes: half professional (1-6 lines of CPT/HCPCS codes with status A
in the CY2026 PFS, 1-4 billable ICD-10-CM diagnoses, service dates over Jan-Sep 2026), half inpatient (a
principal diagnosis drgpy can group, 0-6 secondaries, an O.R. procedure in a third of the stays, discharges
over FY2026). One process, one core. Each claim runs every edit rule set and its pricing (PFS or MS-DRG, plus
the CMS-HCC V28 score) with the code sets of its date; the claims go through the service's batch
runner (``service.claim_batch.ClaimBatch``, what ``medcoder claim-batch`` runs): one ``Codesets`` per distinct
date and one ``DrgGrouper`` per code sets, reused, and ``claim_batch.CHUNK`` claims at a time
(``check_and_price_many``: each rule set, then each pricing part, over all of them in turn). The rate of the
same runner fed one claim at a time (``check_and_price``, what one API call does) is printed too. drgpy alone
is ``DRGEngine.get_drg`` on the inpatient claims' codes. Prints the rates and the ratio; no thresholds.

The headline rates are on fresh claims: after a warm-up on the seed's claims (code sets of every date opened,
groupers and per-code tables loaded), sets built with the next seeds are each checked once, so a memo keyed on
a claim's content cannot flatter them; the best of ``--fresh`` sets counts. All claims (professional and
inpatient interleaved) on seeds +1..+2N, alternately ``CHUNK`` at a time (odd seeds) and one at a time (even
seeds), so that neither way meets the codes later batches have seen; each kind alone (the professional half of a
set, then its inpatient half) on seeds +2N+1..+3N. The warm-up's re-check rates
are printed too, for comparison with runs before the fresh sets existed.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _common import ensure_built, interpreter, peak_rss_mb, rate, settings_for  # noqa: E402
from medcoder.codesets.codesets import Codesets  # noqa: E402
from medcoder.errors import ClaimError, MedcoderError  # noqa: E402
from medcoder.model.claim import (  # noqa: E402
    Claim,
    Diagnosis,
    Patient,
    Payer,
    ProcedureCode,
    Provider,
    ServiceLine,
)
from medcoder.pricing.drg import DrgGrouper, _engine, case_from_claim, grouper_version  # noqa: E402
from medcoder.service.claim_batch import CHUNK, ClaimBatch  # noqa: E402

FY_START = date(2025, 10, 1)
CY_START = date(2026, 1, 1)
CLINIC = Provider(name="Harbor Family Medicine", npi="1234567893", taxonomy="207Q00000X", tax_id="521234567")
HOSPITAL = Provider(name="Chesapeake General Hospital", npi="1112223338", taxonomy="282N00000X",
                    tax_id="526543210")
MEDICARE = Payer(name="Medicare", payer_id="12302", kind="medicare")


class Batch(ClaimBatch):
    """The service's batch runner (``medcoder claim-batch``), counting findings instead of keeping them."""

    def check_and_price_many(self, batch: Sequence[Claim]) -> list[Any]:
        return [done if isinstance(done, MedcoderError) else (len(done[0]), done[1])
                for done in super().check_and_price_many(batch)]


def _patient(rnd: random.Random, age: int) -> Patient:
    born = date(2026 - age, rnd.randint(1, 12), rnd.randint(1, 28))
    return Patient(member_id=f"1EG4TE5MK{rnd.randint(10, 99)}", last_name="Doe", first_name="Pat", birth_date=born,
                   sex=rnd.choice(("F", "M")))


def professional_claims(codesets: Codesets, n: int, rnd: random.Random) -> list[Claim]:
    conn = codesets.pfs._conn
    codes = [row[0] for row in conn.execute("SELECT DISTINCT hcpcs FROM rvu WHERE status='A' AND modifier=''")]
    mce = codesets.mce
    dx = sorted(mce.valid_codes(CY_START, system="cm") & mce.valid_codes(date(2026, 9, 30), system="cm"))
    out = []
    for i in range(n):
        day = CY_START + timedelta(days=rnd.randrange(273))
        diagnoses = tuple(Diagnosis(code=c, sequence=s) for s, c in enumerate(rnd.sample(dx, rnd.randint(1, 4)), 1))
        lines = tuple(ServiceLine(number=k, code=code, service_date=day, charge=Decimal(rnd.randint(20, 900)),
                                  diagnosis_pointers=tuple(range(1, len(diagnoses) + 1)))
                      for k, code in enumerate(rnd.sample(codes, rnd.randint(1, 6)), 1))
        out.append(Claim(claim_id=f"P{i}", kind="professional", patient=_patient(rnd, rnd.randint(30, 95)),
                         payer=MEDICARE, billing_provider=CLINIC, diagnoses=diagnoses, lines=lines,
                         place_of_service=rnd.choice(("11", "11", "22", "21"))))
    return out


def inpatient_claims(codesets: Codesets, n: int, rnd: random.Random) -> list[Claim]:
    mce = codesets.mce
    engine = _engine("v43")
    cm = sorted(mce.valid_codes(FY_START, system="cm") & mce.valid_codes(date(2026, 9, 30), system="cm"))
    principals = [c for c in cm if engine.dxmap.get(c)]
    severe = [c for c in cm if c in engine.ccmap]
    pcs = mce.valid_codes(FY_START, system="pcs")
    procedures = sorted(c for c in engine.orpcsmap if c in pcs)
    grouper = DrgGrouper(codesets)
    out: list[Claim] = []
    while len(out) < n:
        discharge = FY_START + timedelta(days=rnd.randrange(5, 365))
        admit = discharge - timedelta(days=rnd.randint(1, 5))
        codes = [rnd.choice(principals), *rnd.sample(severe, rnd.randint(0, 3)), *rnd.sample(cm, rnd.randint(0, 3))]
        claim = Claim(
            claim_id=f"I{len(out)}", kind="institutional", setting="inpatient",
            patient=_patient(rnd, rnd.randint(18, 95)), payer=MEDICARE, billing_provider=HOSPITAL,
            diagnoses=tuple(Diagnosis(code=c, sequence=s, poa="Y") for s, c in enumerate(codes, 1)),
            procedures=tuple(ProcedureCode(code=p, performed_on=admit, sequence=1)
                             for p in (rnd.sample(procedures, 1) if rnd.random() < 0.33 else ())),
            lines=(ServiceLine(number=1, code="", revenue_code="0120", service_date=admit,
                               units=Decimal((discharge - admit).days), charge=Decimal(2400)),),
            admission_date=admit, discharge_date=discharge, statement_from=admit, statement_to=discharge,
            discharge_status=rnd.choice(("01", "01", "01", "06", "20")), type_of_bill="0111",
            admission_type="1", admission_source="7")
        try:
            grouper.group(case_from_claim(claim))
        except ClaimError:  # a sex-specific principal on the other sex, DRG 998: keep groupable stays only
            continue
        out.append(claim)
    return out


def claim_set(base: Codesets, n: int, seed: int) -> tuple[list[Claim], list[Claim], list[Claim]]:
    """(professional, inpatient, both interleaved) synthetic claims of one seed."""
    rnd = random.Random(seed)
    professional = professional_claims(base, n // 2, rnd)
    inpatient = inpatient_claims(base, n - n // 2, rnd)
    everything: list[Claim] = [c for pair in zip(professional, inpatient, strict=False) for c in pair]
    everything += professional[len(inpatient):] + inpatient[len(professional):]
    return professional, inpatient, everything


def chunked(batch: Batch, claims: list[Claim]) -> float:
    """CPU seconds to check and price ``claims`` ``CHUNK`` at a time, as ``medcoder claim-batch`` does."""
    started = time.process_time()
    for i in range(0, len(claims), CHUNK):
        batch.check_and_price_many(claims[i:i + CHUNK])
    return time.process_time() - started


def one_by_one(batch: Batch, claims: list[Claim]) -> float:
    """CPU seconds to check and price ``claims`` one call per claim (what one API request does)."""
    started = time.process_time()
    for claim in claims:
        batch.check_and_price(claim)
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home")
    parser.add_argument("--claims", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--fresh", type=int, default=3, help="fresh claim sets timed after the warm-up (best of)")
    args = parser.parse_args()
    settings = settings_for(args.home)
    ensure_built(settings)
    base = Codesets.for_date(date(2026, 3, 1), settings=settings)
    professional, inpatient, everything = claim_set(base, args.claims, args.seed)
    for version in ("v43", "v43.1"):
        _engine(version)

    def drgpy_alone(item: object) -> object:
        case: Any = item
        return _engine(grouper_version(case.discharge_date)).get_drg(
            [case.principal_dx, *case.secondary_dx], list(case.procedures), gender=case.sex,
            is_alive=case.discharged_alive, discharge_status=case.discharge_status)

    # Warm-up on the seed's claims: opens the code sets of every date, loads the groupers and the per-code
    # tables. The warm passes re-check the SAME claims, so anything memoised per claim flatters them: they are
    # printed for comparison with earlier runs only; the headline rate is on fresh claims below.
    batch = Batch(settings)
    started = time.process_time()
    results = [done for i in range(0, len(everything), CHUNK)
               for done in batch.check_and_price_many(everything[i:i + CHUNK])]
    cold = len(everything) / (time.process_time() - started)
    n = len(everything)
    all_rate = n / min(chunked(batch, everything) for _ in range(3))
    prof_rate = len(professional) / min(chunked(batch, professional) for _ in range(3))
    inp_rate = len(inpatient) / min(chunked(batch, inpatient) for _ in range(3))
    drgpy_rate, _ = rate(drgpy_alone, [case_from_claim(c) for c in inpatient])

    # Fresh claims: each set is built with another seed and checked once; best of the sets.
    fresh_all = fresh_prof = fresh_inp = fresh_drgpy = single = 0.0
    for k in range(args.fresh):  # alternately: a set CHUNK claims at a time, then a set one claim at a time
        f_all = claim_set(base, args.claims, args.seed + 1 + 2 * k)[2]
        fresh_all = max(fresh_all, len(f_all) / chunked(batch, f_all))
        f_all = claim_set(base, args.claims, args.seed + 2 + 2 * k)[2]
        single = max(single, len(f_all) / one_by_one(batch, f_all))
    for k in range(2 * args.fresh + 1, 3 * args.fresh + 1):
        f_prof, f_inp, _ = claim_set(base, args.claims, args.seed + k)
        fresh_prof = max(fresh_prof, len(f_prof) / chunked(batch, f_prof))
        fresh_inp = max(fresh_inp, len(f_inp) / chunked(batch, f_inp))
        fresh_drgpy = max(fresh_drgpy, rate(drgpy_alone, [case_from_claim(c) for c in f_inp])[0])

    findings = sum(f for f, _ in results)
    drgs = {p["drg"].get("drg") for _, p in results if "drg" in p}
    priced_lines = sum(1 for _, p in results if "pfs" in p for line in p["pfs"]["lines"] if line["allowed"])
    lines = sum(len(c.lines) for c in professional)
    print(f"claims: {n:,} synthetic ({len(professional):,} professional with {lines:,} lines, "
          f"{len(inpatient):,} inpatient); {batch.dates} dates of service, "
          f"{batch.code_sets} code sets")
    print(f"findings: {findings:,}; professional lines priced: {priced_lines:,}/{lines:,}; "
          f"{len(drgs)} distinct DRGs")
    print(f"fresh claims ({n:,} a set, each checked once, best of {args.fresh} sets; {CHUNK} claims at a time):")
    print(f"  check + price, all claims:                   {fresh_all:>9,.0f} claims/CPU-s")
    print(f"  check + price, professional:                 {fresh_prof:>9,.0f} claims/CPU-s")
    print(f"  check + price, inpatient:                    {fresh_inp:>9,.0f} claims/CPU-s")
    print(f"  drgpy get_drg alone, inpatient:              {fresh_drgpy:>9,.0f} claims/CPU-s   "
          f"ratio inpatient check+price / drgpy {fresh_inp / fresh_drgpy:.3f}x")
    print(f"  check + price, all claims, one at a time:    {single:>9,.0f} claims/CPU-s")
    print(f"seed {args.seed} claims (first pass cold, then re-checked: flattered by anything memoised per claim):")
    print(f"  check + price, all claims, first pass (cold):{cold:>9,.0f} claims/CPU-s")
    print(f"  check + price, all claims, re-checked:       {all_rate:>9,.0f} claims/CPU-s")
    print(f"  check + price, professional, re-checked:     {prof_rate:>9,.0f} claims/CPU-s")
    print(f"  check + price, inpatient, re-checked:        {inp_rate:>9,.0f} claims/CPU-s")
    print(f"  drgpy get_drg alone, inpatient:              {drgpy_rate:>9,.0f} claims/CPU-s   "
          f"ratio inpatient check+price / drgpy {inp_rate / drgpy_rate:.3f}x")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")
    print(f"interpreter: {interpreter()}")
    load = os.getloadavg()
    print(f"note: one process on one core, CPU time; machine load average {load[0]:.2f} / {load[1]:.2f} / "
          f"{load[2]:.2f} (1/5/15 min) on {os.cpu_count()} CPUs: a loaded machine gives lower rates")


if __name__ == "__main__":
    main()
