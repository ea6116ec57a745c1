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
import pstats
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "scripts")]

import load_benchmark as lb  # noqa: E402


async def profile(work: Path, conversations: int) -> tuple[cProfile.Profile, int]:
    async with lb.in_process_agent(work) as agent:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=6)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    lb.quiet_rasa_logs()
    with tempfile.TemporaryDirectory(prefix="profile-turns-") as tmp:
        prof, turns = asyncio.run(profile(Path(tmp), args.conversations))
    print("\nper turn (cumulative ms):")
    for label, ms in lb.profiled_ms_per_turn(prof, turns).items():
        print(f"  {ms:7.1f}  {label}")
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(args.top)
    print(out.getvalue())


if __name__ == "__main__":
    main()
