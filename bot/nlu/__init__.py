"""NLU: the spaCy pipeline and the custom Rasa components built on it."""
# In the Rasa server: rolling sessions and a cached schema check (bot/performance.py, docs/benchmarks/load.md),
# the action-call timeout and try-again reply (bot/resilience.py, docs/faults.md).
from bot import performance, resilience  # noqa: F401
