"""Coded errors that say what is wrong, where, and how to fix it.

Why coded: a coder or an IT team sees the same code in the CLI, the API and the logs, and can look it up
in the README's table. Each subclass owns a range of codes (spaCy's ``errors.py`` habit).
"""

from __future__ import annotations


class MedcoderError(Exception):
    """Base of every error medcoder raises on purpose.

    ``code`` is stable (``E1xx`` sources, ``E2xx`` build, ``E3xx`` codes, ``E4xx`` releases/dates,
    ``E5xx`` lookups), ``where`` names the file, line, code or date concerned, ``fix`` says what to do.
    """

    code: str = "E000"

    def __init__(self, message: str, *, code: str | None = None, where: str | None = None,
                 fix: str | None = None) -> None:
        if code is not None:
            self.code = code
        self.message = message
        self.where = where
        self.fix = fix
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = f"[{self.code}] {self.message}"
        if self.where:
            text += f" (at {self.where})"
        if self.fix:
            text += f". {self.fix}"
        return text

    def to_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "where": self.where, "fix": self.fix}


class SourceError(MedcoderError):
    """An official source file is missing, unreadable, truncated or fails its checksum (E1xx)."""

    code = "E100"


class BuildError(MedcoderError):
    """A knowledge base could not be built from its sources (E2xx)."""

    code = "E200"


class CodeFormatError(MedcoderError, ValueError):
    """A code is malformed for its code system (E3xx)."""

    code = "E300"


class ReleaseError(MedcoderError):
    """No release covers a date, or a requested release is not built (E4xx)."""

    code = "E400"


class NotFoundError(MedcoderError, LookupError):
    """A well-formed code or index term does not exist in the release asked (E5xx)."""

    code = "E500"


class RecordError(MedcoderError, ValueError):
    """A submitted record cannot be read: invalid JSON, FHIR or HL7 v2, missing text, bad field (E60x)."""

    code = "E600"


class EntityNotFoundError(MedcoderError, LookupError):
    """An encounter, suggestion, query or other stored entity does not exist (E61x)."""

    code = "E610"


class ConflictError(MedcoderError):
    """A change was based on a stale version, or is not allowed in the entity's current state (E62x)."""

    code = "E620"


class AuthError(MedcoderError):
    """A request is not authenticated (E630-E631) or its role may not do this (E632)."""

    code = "E630"


class ConfigError(MedcoderError):
    """The service is configured unsafely or inconsistently, e.g. a default secret outside development (E65x)."""

    code = "E650"


class AuditChainError(MedcoderError):
    """The audit event chain does not verify: an event was changed, removed or inserted (E66x)."""

    code = "E660"


class ClaimError(MedcoderError):
    """A claim or its inputs cannot be built, priced or written (E8xx)."""

    code = "E800"
