"""Writing a finished claim out: X12 837P / 837I (005010) for submission and a FHIR R4 Claim for exchange.

Why writers refuse rather than repair: a payer rejects an 837 with a missing NPI or a bad delimiter only days
later, in a 999 or 277CA. The claim editors (``edits/``) report such problems as findings a coder can fix; the
writers raise a coded ``ClaimError`` (E82x) that names the field, so no invalid file is ever produced.
Writers are pure functions of a ``Claim`` (plus envelope options): no I/O, no clock unless asked.
"""
