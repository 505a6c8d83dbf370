"""Coding: turn diagnostic statements and records into codes by the official method, with rationale."""
