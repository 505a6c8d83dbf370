"""Reading records as they arrive (plain text, batch JSONL, FHIR R4 Bundles, HL7 v2) into plain data.

Every reader keeps the bytes exactly as received, extracts the note text that coding reads (evidence
offsets point into it) and the demographics that coding needs (age, sex, setting, date of service).
"""
