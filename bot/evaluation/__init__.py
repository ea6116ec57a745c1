"""Measuring the NLU on the held-out set (tests/nlu/heldout)."""
