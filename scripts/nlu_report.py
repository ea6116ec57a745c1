"""Prints NLU quality on the held-out set: `make nlu-report` (or python scripts/nlu_report.py [model])."""
import logging
import sys

from bot import REPO_DIR
from bot.evaluation.nlu import evaluate, format_report

if __name__ == "__main__":
    logging.disable(logging.WARNING)  # Rasa's per-message debug logs
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    model = sys.argv[1] if len(sys.argv) > 1 else str(REPO_DIR / "models" / "sales-coach.tar.gz")
    print(format_report(evaluate(model)))
