"""Claim edits: versioned rule sets (validity, Tabular notes, MCE, NCCI, completeness) that report findings."""
