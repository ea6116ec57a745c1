"""NLU: the spaCy pipeline and the custom Rasa components built on it."""
from bot import performance  # noqa: F401 - in the Rasa server: rolling sessions, cached schema (docs/benchmarks/load.md)
from bot import resilience  # noqa: F401 - in the Rasa server: action-call timeout, try-again reply (docs/faults.md)
