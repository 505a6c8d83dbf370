"""Pricing: what Medicare pays for a claim (PFS, MS-DRG, HCC), with the arithmetic and its releases kept.

Why a stage of its own: a price reads only the claim (``model/``) and the reference data of the releases in
force on the date of service (``codesets/``), so it can be re-derived years later and never depends on how the
claim was built or edited. Payment rules (modifier percentages, status-code meanings, rates) are JSON data in
``pricing/data/`` citing the CMS manual sections they come from.
"""
