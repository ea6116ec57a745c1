"""The one way to start the Rasa server: ``python -m bot.rasa_server run <rasa run arguments>``.

It runs Rasa's own command line after adding what this project needs in the Rasa process:

* the action-call deadline and tracker-store containment (`bot.resilience`), the per-turn
  cost patches (`bot.performance`), turns that never stay stuck, with typed button labels
  taken as clicks (`bot.rasa_patches.turns`), and the NLU read beside the event loop
  (`bot.rasa_patches.parsing`), installed explicitly here;
* the HTTP guard on Rasa's HTTP API (`bot.http_guard`): admin endpoints need
  ``RASA_API_TOKEN``, the rest serves this machine and same-origin callers only;
* message text kept out of Rasa's logs: its structured log events carry the rep's words
  under keys such as ``user_text`` and ``parse_data_text`` (and a malformed ``/intent``
  message is quoted in a warning); those values are replaced by ``[redacted]``.

``make run``, ``scripts/run_replicas.sh``, the test harness and the benchmarks start Rasa this way.
"""
from __future__ import annotations

import sys
import warnings
from typing import Any, Dict, List

#: keys of Rasa's structured log events that can hold what a rep wrote (rasa.utils.log_utils)
TEXT_KEYS = frozenset({
    "text", "response_text", "user_text", "slot_values", "parse_data_text", "parse_data_entities",
    "prediction_events", "tracker_latest_message", "prefilled_slots", "message", "response", "slot_candidates",
    "rasa_event", "rasa_events", "tracker_states", "current_states", "old_states", "successes", "current_entity",
    "next_entity", "states", "entity", "token_text", "user_message", "json_message",
})
REDACTED = "[redacted]"


def redact_event(_: Any, __: str, event: Dict[str, Any]) -> Dict[str, Any]:
    """A structlog processor: what a rep wrote never reaches the log."""
    for key in TEXT_KEYS & event.keys():
        event[key] = REDACTED
    return event


def keep_text_out_of_logs() -> None:
    """Puts `redact_event` first in structlog's chain and silences Rasa's warning that quotes a message."""
    import structlog

    processors: List[Any] = list(structlog.get_config().get("processors") or [])
    if redact_event not in processors:
        structlog.configure(processors=[redact_event, *processors])
    warnings.filterwarnings("ignore", message=r"Failed to parse arguments in line")


def install() -> None:
    """Installs everything above in this process (idempotent)."""
    from rasa.core import run as core_run

    from bot import http_guard, performance, resilience
    from bot.rasa_patches import parsing, turns

    resilience.install()
    performance.install()
    turns.install()
    parsing.install()
    if getattr(core_run.configure_app, "_guarded", False):
        return
    original = core_run.configure_app

    def configure_app(*args: Any, **kwargs: Any) -> Any:
        app = original(*args, **kwargs)
        http_guard.install(app)
        keep_text_out_of_logs()  # structlog is configured by now (rasa.__main__)
        return app

    configure_app._guarded = True  # type: ignore[attr-defined]
    core_run.configure_app = configure_app


def main(argv: List[str]) -> None:
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *argv]
    rasa_main()


if __name__ == "__main__":
    main(sys.argv[1:])
