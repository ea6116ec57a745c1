"""Benchmark: training time, model load time, /model/parse and REST turn latency, peak memory.

Usage: make benchmark  (or python scripts/benchmark.py [--train] [--turns N])

Starts its own action server and Rasa server on private SQLite databases, so it
does not touch var/. Prints a table and writes docs/benchmarks/foundation.json.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.servers import Servers, base_env  # noqa: E402

PARSE_TEXTS = [
    "华东精密的刘建国是技术总监，影响力六成，是支持者",
    "華東精密的劉建國是技術總監，影響力六成，是支持者",
    "Maria Lopez is the CFO at Acme, a supporter with 40% influence",
    "客户说 budget 不够",
    "what is SPIN selling?",
    "他们预算三百万，现在在技术筛选阶段",
]
FACT_TURNS = [
    "{acct}的刘建国是技术总监，影响力六成，是支持者",
    "Maria Lopez is the CFO at {acct}, she is a supporter with 40% influence",
    "{acct}预算两百万，现在在技术筛选阶段，对手是西门子",
    "{acct}的王芳是采购经理，反对我们",
]


def pct(values, q):  # noqa: ANN001, ANN201
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB."""
    total = 0
    try:
        out = subprocess.run(["ps", "-o", "rss=", "--ppid", str(pid), "-p", str(pid)], capture_output=True,
                             text=True).stdout
        total = sum(int(x) for x in out.split())
    except Exception:  # noqa: BLE001
        pass
    return total / 1024


class PeakMemory(threading.Thread):
    def __init__(self, pids):  # noqa: ANN001
        super().__init__(daemon=True)
        self.pids = pids
        self.peak = {name: 0.0 for name in pids}
        self.running = True

    def run(self) -> None:
        while self.running:
            for name, pid in self.pids.items():
                self.peak[name] = max(self.peak[name], rss_mb(pid))
            time.sleep(0.2)


def train_time() -> float:
    with tempfile.TemporaryDirectory() as out:
        start = time.time()
        env = {**base_env(), "RASA_MAX_CACHE_SIZE": "0"}  # a full training, nothing from Rasa's cache
        subprocess.run([str(Path(sys.executable).parent / "rasa"), "train", "--out", out, "--quiet"], cwd=REPO,
                       env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.time() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train", action="store_true", help="also time a full training run")
    parser.add_argument("--turns", type=int, default=100, help="REST fact-writing turns to time")
    parser.add_argument("--parses", type=int, default=300)
    args = parser.parse_args()
    model = REPO / "models" / "sales-coach.tar.gz"
    results = {}
    if args.train:
        results["training_s"] = round(train_time(), 1)

    from bot.store.migrate import upgrade

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        url = f"sqlite:///{work / 'accounts.db'}"
        upgrade(url)
        servers = Servers(workdir=work, model=model, database_url=url, tracker_db=work / "tracker.db")
        servers.start_actions()
        start = time.time()
        servers.start_rasa()
        results["rasa_start_and_model_load_s"] = round(time.time() - start, 1)
        monitor = PeakMemory({"rasa": servers.procs["rasa"].pid, "actions": servers.procs["actions"].pid})
        monitor.start()
        try:
            for text in PARSE_TEXTS:  # warm-up
                servers.parse(text)
            lat = []
            for i in range(args.parses):
                t = time.perf_counter()
                servers.parse(PARSE_TEXTS[i % len(PARSE_TEXTS)])
                lat.append((time.perf_counter() - t) * 1000)
            results["parse_ms_p50"] = round(pct(lat, 0.5), 1)
            results["parse_ms_p95"] = round(pct(lat, 0.95), 1)
            lat = []
            for i in range(args.turns):
                sender = f"bench-{uuid.uuid4().hex[:6]}"
                acct = f"测试客户{i}"
                servers.say(sender, f"新建客户{acct}")
                text = FACT_TURNS[i % len(FACT_TURNS)].format(acct=acct)
                t = time.perf_counter()
                reply = servers.say(sender, text)
                lat.append((time.perf_counter() - t) * 1000)
                if not reply:
                    raise SystemExit(f"no reply to {text!r}")
            results["fact_turn_ms_p50"] = round(pct(lat, 0.5), 1)
            results["fact_turn_ms_p95"] = round(pct(lat, 0.95), 1)
            results["fact_turn_mean_ms"] = round(statistics.mean(lat), 1)
        finally:
            monitor.running = False
            monitor.join()
            servers.stop_all()
        results["peak_rss_mb_rasa"] = round(monitor.peak["rasa"])
        results["peak_rss_mb_action_server"] = round(monitor.peak["actions"])

    width = max(len(k) for k in results)
    print("Foundation benchmark (2-core machine, embedded SQLite)")
    for key, value in results.items():
        print(f"  {key:<{width}}  {value}")
    out = REPO / "docs" / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    (out / "foundation.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
