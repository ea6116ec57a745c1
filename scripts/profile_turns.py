"""cProfile of the load benchmark's mixed conversation, in-process, per turn.

Rasa's agent runs in this process on the trained model with a real action server and fresh
SQLite databases; after one warm-up conversation it profiles N conversations (13 turns each:
facts, coaching, a role-play) and prints the per-turn milliseconds of the parts of a turn
(`load_benchmark.PROFILE_ROWS`) and the top functions. Diagnosis only: the profiler slows
Python code down, so compare shares and runs of this script, not these milliseconds with the
load benchmark's.

    .venv/bin/python scripts/profile_turns.py [--conversations 6] [--top 40]
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import logging
import pstats
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "scripts")]

import load_benchmark as lb  # noqa: E402


async def profile(work: Path, conversations: int) -> tuple[cProfile.Profile, int]:
    from rasa.core.agent import load_agent
    from rasa.core.utils import AvailableEndpoints

    from bot.store.migrate import upgrade

    url = f"sqlite:///{work / 'accounts.db'}"
    upgrade(url)
    servers = lb.Servers(workdir=work, model=lb.MODEL, database_url=url, tracker_db=work / "tracker.db",
                         extra_env={"CHART_DIR": str(work / "charts")})
    servers.start_actions()
    try:
        agent = await load_agent(model_path=str(lb.MODEL),
                                 endpoints=AvailableEndpoints.read_endpoints(str(servers.endpoints_file())))
        for _, text in lb.mix_conversation(99):
            await agent.handle_text(text, sender_id="warm-up")
        prof, times, turns = cProfile.Profile(), {}, 0
        cpu, wall = time.process_time(), time.perf_counter()
        for number in range(conversations):
            for kind, text in lb.mix_conversation(number):
                start = time.perf_counter()
                prof.enable()
                await agent.handle_text(text, sender_id=f"profile-{number}")
                prof.disable()
                times.setdefault(kind, []).append((time.perf_counter() - start) * 1000)
                turns += 1
        print(f"{turns} turns: {(time.perf_counter() - wall) * 1000 / turns:.1f} ms wall and "
              f"{(time.process_time() - cpu) * 1000 / turns:.1f} ms CPU of this process per turn (profiler on)")
        for kind, values in times.items():
            values.sort()
            print(f"  {kind:9} {len(values):3} turns, p50 {values[len(values) // 2]:.1f} ms")
        return prof, turns
    finally:
        servers.stop_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=6)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    for name in ("", "rasa", "tensorflow", "absl", "bot", "urllib3", "asyncio"):
        logging.getLogger(name).setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="profile-turns-") as tmp:
        prof, turns = asyncio.run(profile(Path(tmp), args.conversations))
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    print("\nper turn (cumulative ms):")
    for label, suffix, func in lb.PROFILE_ROWS:
        total = sum(v[3] for (file, _, name), v in stats.items() if file.endswith(suffix) and name == func)
        print(f"  {total * 1000 / turns:7.1f}  {label}")
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(args.top)
    print(out.getvalue())


if __name__ == "__main__":
    main()
