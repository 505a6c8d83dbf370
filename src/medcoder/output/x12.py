"""X12 837 claims: one entry point that picks 837P or 837I from the claim kind.

Why a dispatcher: callers (service, CLI) hold claims of either kind and should not need to know the two
implementation guides; the form-specific writers stay importable for callers that do.
"""

from __future__ import annotations

from collections.abc import Sequence

from medcoder.errors import ClaimError
from medcoder.model.claim import Claim
from medcoder.output.x12_837i import write_837i
from medcoder.output.x12_837p import write_837p
from medcoder.output.x12_envelope import Interchange, read_segments

__all__ = ["Interchange", "read_segments", "write_837", "write_837i", "write_837p"]


def write_837(claims: Claim | Sequence[Claim], *, interchange: Interchange, newline: bool = False) -> str:
    """An 837P for professional claims or an 837I for institutional ones; a file holds one kind only."""
    batch = (claims,) if isinstance(claims, Claim) else tuple(claims)
    kinds = {claim.kind for claim in batch}
    if len(kinds) > 1:
        raise ClaimError("professional and institutional claims cannot share one 837", code="E824",
                         where="claims", fix="Write professional claims and institutional claims to separate files")
    if kinds == {"institutional"}:
        return write_837i(batch, interchange=interchange, newline=newline)
    return write_837p(batch, interchange=interchange, newline=newline)
