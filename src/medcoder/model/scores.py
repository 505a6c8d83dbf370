"""Precision, recall and F1 from true/false positive and false negative counts.

Why one mixin: the evaluation of coded notes and the ConText reference figures report the same three ratios, and
a report that computed them two ways could disagree on an empty denominator.
"""

from __future__ import annotations


class PrecisionRecall:
    """For classes with ``tp``, ``fp`` and ``fn`` counts (dataclasses with slots); 0.0 on an empty denominator."""

    __slots__ = ()
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0
