"""Tests of medcoder.pricing."""
