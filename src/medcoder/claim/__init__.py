"""Claim documents: read a JSON claim into the plain :class:`~medcoder.model.claim.Claim` every money stage reads."""

from medcoder.claim.parse import claim_from_dict, load_claim, sample_path

__all__ = ["claim_from_dict", "load_claim", "sample_path"]
