"""Prints NLU quality on the test sets: `make nlu-report`.

Or: python scripts/nlu_report.py [--set heldout|fresh|all] [--no-errors] [model]

- heldout: tests/nlu/heldout, written with the training data and never trained on; two data rounds
  were aimed at its confusions, so it is optimistic.
- fresh: tests/nlu/fresh, written independently from the data guide only, never used to change data.
"""
import argparse
import logging

from bot import REPO_DIR
from bot.evaluation.nlu import TEST_SETS, Report, format_report, load_examples, parse_all

TITLES = {"heldout": "NLU on the held-out set (tests/nlu/heldout, never trained on)",
          "fresh": "NLU on the fresh independent set (tests/nlu/fresh, written from the guide only)"}

if __name__ == "__main__":
    logging.disable(logging.WARNING)  # Rasa's per-message debug logs
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", choices=["heldout", "fresh", "all"], default="all")
    ap.add_argument("--no-errors", action="store_true")
    ap.add_argument("model", nargs="?", default=str(REPO_DIR / "models" / "sales-coach.tar.gz"))
    args = ap.parse_args()
    names = list(TEST_SETS) if args.set == "all" else [args.set]
    examples = {name: load_examples(TEST_SETS[name]) for name in names}
    results = parse_all(args.model, [ex for name in names for ex in examples[name]])
    start = 0
    for name in names:
        n = len(examples[name])
        print(format_report(Report(results[start:start + n]), show_errors=not args.no_errors, title=TITLES[name]))
        print()
        start += n
