"""Load benchmark: throughput and turn latency under concurrent conversations, long conversations, memory.

    python scripts/load_benchmark.py                         # every phase (about 45-60 min on 2 cores)
    python scripts/load_benchmark.py --phases default,long   # only some phases; others keep their last figures

An asyncio client (aiohttp) talks to the REST channel (``POST /webhooks/rest/webhook``).
Phases (``--phases``, comma list):

- ``default``  the embedded default: one action server + one Rasa server, SQLite tracker and
               account stores (tests/servers.py's ``Servers`` on private temp databases); a mix of
               fact-writing, coaching and role-play conversations at 1, 10 and 50 concurrent
               conversations (``--levels``), ``--duration`` seconds each.
- ``bare``     a stock Rasa 3.6 bot (``rasa init --no-prompt`` in a temp dir, trained there, in-memory
               tracker store, ``utter_`` responses only) driven the same way with "hi", "I am sad", "yes"…
- ``prod``     the production profile through ``scripts/run_replicas.sh`` (PostgreSQL, Redis lock
               store, round-robin balancer) with 1 and 2 replicas (``--replicas``), on a private
               PostgreSQL database and Redis key prefix; skipped (and said so) when unavailable.
- ``long``     one conversation of ``--long-turns`` (400) turns, alternating fact-writing and coaching;
               p95 of turns 1-50 vs 351-400, plus where the extra time goes (tracker size, tracker
               load, policy prediction, action-server call) measured at turn 50 and at the last turn.
- ``memory``   RSS of the Rasa and action server processes sampled over ``--memory-turns`` (10,000)
               mixed turns at ``--memory-concurrency`` conversations; if the first turns project a run
               longer than about ``--memory-budget`` seconds (1.2x) the run is cut to 3,000 turns (recorded).
- ``profile``  (only when named) cProfile of Rasa's agent in this process over turns 21-50 and the
               last 30 of the ``long`` conversation: where the growing time goes.

Errors per phase: non-200 answers, empty replies, timeouts (``--timeout``), refused connections, and
the bot's own failure replies: bot/resilience.py's "took too long" / "try again" (action call failed
or exceeded ACTION_TIMEOUT_SECONDS), the actions' generic / database-unavailable errors, the NLU fallback.

Before each measured step the script waits (up to ``--quiet-wait`` s) until the 1-minute load
average is below ``--quiet-load`` and prints the load average with the figures; it also records
the CPU used by the servers, by this client and by everything else on the machine.

Writes docs/benchmarks/load.json (figures of phases not run this time are kept). It never trains
or touches the product model; the bare bot is trained in its own temp dir.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Dict, List, Optional, Tuple

import aiohttp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.servers import VENV_BIN, Servers, base_env, free_port, wait_until  # noqa: E402

MODEL = REPO / "models" / "sales-coach.tar.gz"
OUT_JSON = REPO / "docs" / "benchmarks" / "load.json"
ALL_PHASES = ["default", "bare", "prod", "long", "memory"]
EXTRA_PHASES = ["profile"]  # not run unless named
CLK_TCK = os.sysconf("SC_CLK_TCK")

TARGETS = {
    "throughput_two_workers_tps": 50.0,   # >= 50 turns/s with two workers (production profile, 2 replicas)
    "p95_at_10_ms": 250.0,                # p95 <= 250 ms at 10 concurrent conversations
    "errors_at_50": 0,                    # zero errors at 50 concurrent conversations
    "long_p95_ratio": 1.5,                # p95 of turns 351-400 <= 1.5 x p95 of turns 1-50
}

# -- the conversations ------------------------------------------------------------------------------------------

ACCOUNTS = ["华东精密", "Acme Corp", "宏达电子", "Globex"]


def mix_conversation(n: int) -> List[Tuple[str, str]]:
    """One rep's conversation: facts, coaching, a short role-play. Each sender is its own team."""
    x = ACCOUNTS[n % len(ACCOUNTS)]
    return [
        ("fact", f"新建客户{x}"),
        ("fact", f"{x}的刘建国是技术总监，影响力六成，是支持者"),
        ("fact", f"Maria Lopez is the CFO at {x}, a supporter with 40% influence"),
        ("coaching", f"what are the risks on {x}?"),
        ("coaching", "客户说太贵了"),
        ("coaching", "价值没讲透"),            # the answer to the objection form's question
        ("coaching", "what is SPIN?"),
        ("roleplay", "let's practise"),
        ("roleplay", '/start_roleplay{"scenario": "peak_capacity"}'),
        ("roleplay", "How many assembly lines do you run in peak season?"),
        ("roleplay", "Where is the biggest bottleneck when peak season hits?"),
        ("roleplay", "How does that bottleneck affect your delivery times and orders?"),
        ("roleplay", "end practice"),
    ]


# The stock bot's stories and rules, one per conversation (a turn outside them may get no reply at all)
BARE_CONVERSATIONS = [
    ["hi", "I am great", "are you a bot?", "bye"],
    ["hello", "I am sad", "yes", "are you a bot?", "bye"],
    ["hey", "I am very sad", "no", "are you a bot?", "goodbye"],
]
BARE_TURNS = [t for c in BARE_CONVERSATIONS for t in c]


def bare_conversation(n: int) -> List[Tuple[str, str]]:
    return [("bare", text) for text in BARE_CONVERSATIONS[n % len(BARE_CONVERSATIONS)]]


# Each fact template in two variants that differ in one value, used in turn, so every fact turn changes
# a stored fact (a real write) while the account keeps the same size (4 people/deal facts).
LONG_FACTS = [
    ("{x}的刘建国是技术总监，影响力六成，是支持者", "{x}的刘建国是技术总监，影响力五成，是支持者"),
    ("Maria Lopez is the CFO at {x}, a supporter with 40% influence",
     "Maria Lopez is the CFO at {x}, a supporter with 50% influence"),
    ("{x}预算两百万，现在在技术筛选阶段，对手是西门子", "{x}预算三百万，现在在技术筛选阶段，对手是西门子"),
    ("{x}的王芳是采购经理，影响力三成，反对我们", "{x}的王芳是采购经理，影响力四成，反对我们"),
]
LONG_COACHING = ["what are the risks on {x}?", "what is SPIN?", "what's next on {x}?", "有什么风险"]


def long_conversation(turns: int, x: str = "华东精密") -> List[Tuple[str, str]]:
    """Turn 1 creates the account; then fact-writing and coaching turns alternate."""
    out = [("fact", f"新建客户{x}")]
    facts = coaching = 0
    while len(out) < turns:
        if len(out) % 2 == 0:
            variants = LONG_FACTS[facts % len(LONG_FACTS)]
            out.append(("fact", variants[(facts // len(LONG_FACTS)) % 2].format(x=x)))
            facts += 1
        else:
            out.append(("coaching", LONG_COACHING[coaching % len(LONG_COACHING)].format(x=x)))
            coaching += 1
    return out


def fault_prefixes() -> Dict[str, str]:
    """Beginnings of the bot's own failure replies -> error type.

    bot/resilience.py: an action call failed or took longer than ACTION_TIMEOUT_SECONDS (8 s);
    the actions' generic error and database-unavailable replies; the NLU fallback ("didn't get that").
    """
    kinds = {"fault_timeout": "fault_timeout_reply", "fault_try_again": "fault_try_again_reply",
             "error_generic": "action_error_reply", "error_unavailable": "db_unavailable_reply",
             "fallback": "fallback_reply"}
    prefixes = {"Sorry — I couldn't finish": "fault_try_again_reply", "抱歉，这次没能完成": "fault_try_again_reply",
                "Sorry — that took too long": "fault_timeout_reply", "抱歉，处理时间太长": "fault_timeout_reply"}
    try:
        import yaml

        for name in ("faults.yml", "general.yml"):
            path = REPO / "bot" / "content" / "messages" / name
            for key, entry in (yaml.safe_load(path.read_text()) or {}).items():
                if key in kinds and isinstance(entry, dict):
                    for text in entry.values():
                        prefixes[str(text)[:20]] = kinds[key]
    except Exception:  # noqa: BLE001 - optional files
        pass
    return prefixes


FAULTS = fault_prefixes()


# -- statistics, machine, load ----------------------------------------------------------------------------------


def pct(values: List[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def lat_stats(ms: List[float]) -> Dict[str, Any]:
    if not ms:
        return {"n": 0}
    return {"n": len(ms), "p50_ms": round(pct(ms, .5), 1), "p95_ms": round(pct(ms, .95), 1),
            "p99_ms": round(pct(ms, .99), 1), "mean_ms": round(statistics.mean(ms), 1), "max_ms": round(max(ms), 1)}


def loadavg() -> List[float]:
    return [round(x, 2) for x in os.getloadavg()]


def wait_quiet(args: argparse.Namespace, label: str) -> Dict[str, Any]:
    """Waits until the 1-minute load average is below --quiet-load (at most --quiet-wait s)."""
    start = time.time()
    announced = False
    while os.getloadavg()[0] >= args.quiet_load and time.time() - start < args.quiet_wait:
        if not announced:
            print(f"    waiting for a quiet machine before {label}: load {loadavg()}", flush=True)
            announced = True
        time.sleep(5)
    la = loadavg()
    return {"load_before": la, "waited_s": round(time.time() - start), "quiet": la[0] < args.quiet_load}


def machine() -> Dict[str, Any]:
    info: Dict[str, Any] = {"cores": os.cpu_count(), "python": platform.python_version()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        import rasa
        import rasa_sdk

        info["rasa"], info["rasa_sdk"] = rasa.__version__, rasa_sdk.__version__
    except Exception:  # noqa: BLE001
        pass
    try:
        git = lambda *a: subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True).stdout.strip()  # noqa: E731
        info["git_commit"] = git("rev-parse", "HEAD")
        info["git_dirty_files"] = len(git("status", "--porcelain").splitlines())
    except OSError:
        pass
    return info


# -- processes: RSS and CPU from /proc --------------------------------------------------------------------------


def _children_map() -> Dict[int, List[int]]:
    kids: Dict[int, List[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return kids


def descendants(pid: int, kids: Optional[Dict[int, List[int]]] = None) -> List[int]:
    kids = kids if kids is not None else _children_map()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def rss_mb(pids: List[int]) -> float:
    total = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def cpu_s(pids: List[int]) -> float:
    total = 0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total / CLK_TCK


def machine_busy_s() -> Tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores."""
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0)
    return (sum(parts) - idle) / CLK_TCK, sum(parts) / CLK_TCK


class Watch(threading.Thread):
    """Samples RSS of named process groups; measures their CPU between `mark()` and `delta()`.

    `groups()` returns {name: [root pids]}; each root's descendants are included.
    """

    def __init__(self, groups: Callable[[], Dict[str, List[int]]], interval: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.groups, self.interval = groups, interval
        self.samples: List[Dict[str, Any]] = []
        self.counter: Callable[[], int] = lambda: 0
        self._halt = threading.Event()

    def pids(self) -> Dict[str, List[int]]:
        kids = _children_map()
        return {name: sorted({d for r in roots for d in descendants(r, kids)}) for name, roots in self.groups().items()}

    def run(self) -> None:
        while not self._halt.is_set():
            sample = {"t": round(time.time(), 1), "turns": self.counter()}
            sample.update({name: round(rss_mb(p), 1) for name, p in self.pids().items()})
            self.samples.append(sample)
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)

    def mark(self) -> Dict[str, Any]:
        busy, total = machine_busy_s()
        return {"t": time.monotonic(), "busy": busy, "total": total, "client": time.process_time(),
                "groups": {name: cpu_s(p) for name, p in self.pids().items()}, "n": len(self.samples)}

    def delta(self, m: Dict[str, Any]) -> Dict[str, Any]:
        """CPU use since mark m, in % of one core, and peak RSS over that interval."""
        now = self.mark()
        wall = now["t"] - m["t"]
        cpu = {name: round(100 * (now["groups"].get(name, 0) - m["groups"].get(name, 0)) / wall, 1)
               for name in now["groups"]}
        cpu["client"] = round(100 * (now["client"] - m["client"]) / wall, 1)
        machine_pct = 100 * (now["busy"] - m["busy"]) / wall
        cpu["machine"] = round(machine_pct, 1)  # all cores: 200 % = both cores busy
        cpu["other"] = round(max(0.0, machine_pct - sum(v for k, v in cpu.items() if k not in ("machine",))), 1)
        window = self.samples[m["n"]:] or self.samples[-1:]
        peak = {name: max((s.get(name, 0) for s in window), default=0) for name in now["groups"]}
        return {"cpu_pct_of_one_core": cpu, "rss_peak_mb": peak}


# -- the client -------------------------------------------------------------------------------------------------


async def one_turn(session: aiohttp.ClientSession, url: str, sender: str, text: str) -> Tuple[float, Optional[str], Any]:
    start = time.perf_counter()
    error, messages = None, None
    try:
        async with session.post(url + "/webhooks/rest/webhook", json={"sender": sender, "message": text}) as resp:
            body = await resp.read()
            if resp.status != 200:
                error = f"http_{resp.status}"
            else:
                messages = json.loads(body) if body else []
                texts = [m.get("text") or "" for m in messages]
                if not messages:
                    error = "empty_reply"
                else:
                    error = next((kind for t in texts for p, kind in FAULTS.items() if t.startswith(p)), None)
    except asyncio.TimeoutError:
        error = "timeout"
    except aiohttp.ClientError as exc:
        error = f"connection_{type(exc).__name__}"
    except ValueError:
        error = "bad_json"
    return (time.perf_counter() - start) * 1000, error, messages


def summarise(records: List[Dict[str, Any]], elapsed: float) -> Dict[str, Any]:
    ok = [r["ms"] for r in records if not r["error"]]
    errors: Dict[str, int] = {}
    for r in records:
        if r["error"]:
            errors[r["error"]] = errors.get(r["error"], 0) + 1
    kinds = sorted({r["kind"] for r in records})
    return {"turns": len(records), "seconds": round(elapsed, 1),
            "throughput_tps": round(len(records) / elapsed, 2) if elapsed else 0.0,
            **lat_stats(ok), "errors": sum(errors.values()), "error_types": errors,
            "by_kind": {k: lat_stats([r["ms"] for r in records if r["kind"] == k and not r["error"]]) for k in kinds}}


async def drive(url: str, concurrency: int, conversation: Callable[[int], List[Tuple[str, str]]], tag: str,
                timeout: float, duration: Optional[float] = None, total_turns: Optional[int] = None,
                on_turn: Optional[Callable[[int, float], Optional[int]]] = None) -> Dict[str, Any]:
    """`concurrency` conversations at once, each a fresh sender running `conversation(n)` turn by turn.

    Stops starting turns after `duration` seconds or `total_turns` turns; turns in flight finish.
    `on_turn(done, elapsed)` may return a new total_turns (the memory phase's budget check).
    """
    records: List[Dict[str, Any]] = []
    replies: Dict[str, str] = {}
    state = {"next_conv": 0, "started": 0, "limit": total_turns}
    start = time.monotonic()
    connector = aiohttp.TCPConnector(limit=0, force_close=False)

    def more() -> bool:
        if duration is not None and time.monotonic() - start >= duration:
            return False
        if state["limit"] is not None and state["started"] >= state["limit"]:
            return False
        return True

    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        async def worker(w: int) -> None:
            while more():
                n = state["next_conv"]
                state["next_conv"] += 1
                sender = f"{tag}-{n}-{secrets.token_hex(3)}"
                for position, (kind, text) in enumerate(conversation(n)):
                    if not more():
                        return
                    state["started"] += 1
                    ms, error, messages = await one_turn(session, url, sender, text)
                    records.append({"kind": kind, "ms": ms, "error": error, "pos": position})
                    if text not in replies:
                        replies[text] = " / ".join((m.get("text") or "[image]")[:70] for m in messages or [])[:200]
                    if on_turn:
                        new_limit = on_turn(len(records), time.monotonic() - start)
                        if new_limit is not None:
                            state["limit"] = new_limit

        await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return {"records": records, "elapsed": time.monotonic() - start, "replies": replies}


def run_levels(args: argparse.Namespace, label: str, url: str, watch: Watch,
               conversation: Callable[[int], List[Tuple[str, str]]]) -> Tuple[List[Dict[str, Any]], Dict[str, str]]:
    """Warm-up, then each --levels step; returns the steps and the warm-up's first reply to each message."""
    # warm-up, not measured: two whole conversations one after the other
    warm = asyncio.run(drive(url, 1, conversation, f"warm-{label}-{secrets.token_hex(2)}", args.timeout,
                             total_turns=2 * len(conversation(0))))
    levels: List[Dict[str, Any]] = []
    for c in args.levels:
        quiet = wait_quiet(args, f"{label} c={c}")
        mark = watch.mark()
        run = asyncio.run(drive(url, c, conversation, f"lb-{label}-c{c}-{secrets.token_hex(2)}", args.timeout,
                                duration=args.duration))
        level = {"concurrency": c, **summarise(run["records"], run["elapsed"]), **quiet, "load_after": loadavg(),
                 **watch.delta(mark)}
        levels.append(level)
        print_level(label, level)
    return levels, warm["replies"]


def print_level(label: str, lv: Dict[str, Any]) -> None:
    cpu = lv["cpu_pct_of_one_core"]
    cpu_txt = " ".join(f"{k} {v:.0f}%" for k, v in cpu.items())
    err = f"{lv['errors']}" + (f" {lv['error_types']}" if lv["errors"] else "")
    print(f"  {label:<14} c={lv['concurrency']:<3} {lv['throughput_tps']:6.1f} turns/s  p50 {lv.get('p50_ms', 0):7.0f}"
          f"  p95 {lv.get('p95_ms', 0):7.0f}  p99 {lv.get('p99_ms', 0):7.0f} ms  turns {lv['turns']:<5} errors {err}"
          f"  | load {lv['load_before'][0]:.2f}->{lv['load_after'][0]:.2f}  cpu {cpu_txt}", flush=True)


# -- the servers --------------------------------------------------------------------------------------------------


def start_embedded(work: Path) -> Servers:
    from bot.store.migrate import upgrade

    url = f"sqlite:///{work / 'accounts.db'}"
    upgrade(url)
    servers = Servers(workdir=work, model=MODEL, database_url=url, tracker_db=work / "tracker.db",
                      extra_env={"CHART_DIR": str(work / "charts")})
    servers.start_actions()
    servers.start_rasa()
    return servers


def quiet_rasa_logs(level: int = 30) -> None:
    """Rasa's agent in this process logs as `rasa run` does, from `level` (WARNING) up: debug lines filtered, not printed."""
    import logging

    from rasa.utils.log_utils import configure_structlog

    configure_structlog(level)
    for name in ("", "rasa", "tensorflow", "absl", "bot", "urllib3", "asyncio"):
        logging.getLogger(name).setLevel(level)


@asynccontextmanager
async def in_process_agent(work: Path, model: Path = MODEL) -> AsyncIterator[Any]:
    """Rasa's agent in this process on `model`, with a real action server, on fresh SQLite databases in `work`."""
    from rasa.core.agent import load_agent
    from rasa.core.utils import AvailableEndpoints

    from bot import rasa_server
    from bot.store.migrate import upgrade

    rasa_server.install()  # the same patches as the Rasa server
    url = f"sqlite:///{work / 'accounts.db'}"
    upgrade(url)
    servers = Servers(workdir=work, model=model, database_url=url, tracker_db=work / "tracker.db",
                      extra_env={"CHART_DIR": str(work / "charts")})
    try:
        servers.start_actions()
        yield await load_agent(model_path=str(model),
                               endpoints=AvailableEndpoints.read_endpoints(str(servers.endpoints_file())))
    finally:
        servers.stop_all()


def profiled_ms_per_turn(profile: Any, turns: int) -> Dict[str, float]:
    """Cumulative milliseconds per turn of each part of a turn (PROFILE_ROWS) in a cProfile profile."""
    import pstats

    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    return {label: round(sum(v[3] for (file, _, name), v in stats.items() if file.endswith(suffix) and name == func)
                         * 1000 / turns, 1)
            for label, suffix, func in PROFILE_ROWS}


def embedded_watch(servers: Servers, interval: float = 1.0) -> Watch:
    rasa, actions = servers.procs["rasa"].pid, servers.procs["actions"].pid
    watch = Watch(lambda: {"rasa": [rasa], "actions": [actions]}, interval)
    watch.start()
    return watch


def phase_default(args: argparse.Namespace) -> Dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="loadbench-default-") as tmp:
        start = time.time()
        servers = start_embedded(Path(tmp))
        print(f"  embedded default up in {time.time() - start:.0f} s", flush=True)
        watch = embedded_watch(servers)
        try:
            levels, replies = run_levels(args, "default", servers.rasa_url, watch, mix_conversation)
        finally:
            watch.stop()
            servers.stop_all()
    return {"profile": "embedded default: 1 action server + 1 Rasa server, SQLite tracker + account store",
            "conversation": [t for _, t in mix_conversation(0)], "sample_replies": replies, "levels": levels}


def bare_project(args: argparse.Namespace) -> Tuple[Path, Optional[float], Optional[Path]]:
    """The stock `rasa init` bot: reuses --bare-dir when it holds a model, else creates and trains it."""
    if args.bare_dir and list(Path(args.bare_dir).glob("models/*.tar.gz")):
        return Path(args.bare_dir), None, None
    target = Path(args.bare_dir) if args.bare_dir else Path(tempfile.mkdtemp(prefix="loadbench-bare-"))
    target.mkdir(parents=True, exist_ok=True)
    start = time.time()
    log = target.parent / f"{target.name}-init.log"
    subprocess.run([str(VENV_BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(target)], cwd=target,
                   env=base_env(), check=True, stdout=log.open("w"), stderr=subprocess.STDOUT)
    return target, time.time() - start, None if args.bare_dir else target


def phase_bare(args: argparse.Namespace) -> Dict[str, Any]:
    project, train_s, cleanup = bare_project(args)
    print(f"  stock bot in {project}" + (f" (created and trained in {train_s:.0f} s)" if train_s else ""), flush=True)
    port = free_port()
    log = project / "rasa-run.log"
    proc = subprocess.Popen([str(VENV_BIN / "rasa"), "run", "--model", str(project / "models"), "--enable-api",
                             "--interface", "127.0.0.1", "--port", str(port)], cwd=project, env=base_env(),
                            stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(f"{url}/status", proc, log)
        watch = Watch(lambda: {"rasa": [proc.pid]})
        watch.start()
        try:
            levels, replies = run_levels(args, "bare", url, watch, bare_conversation)
        finally:
            watch.stop()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        if cleanup:
            shutil.rmtree(cleanup, ignore_errors=True)
            (cleanup.parent / f"{cleanup.name}-init.log").unlink(missing_ok=True)
    return {"profile": "stock `rasa init` bot (DIET + TED + UnexpecTED + Rule + Memoization), in-memory tracker "
                       "store, no action server", "train_s": round(train_s, 1) if train_s else None,
            "conversation": BARE_TURNS, "sample_replies": replies, "levels": levels}


def _ports_free(base: int, n: int) -> bool:
    for p in range(base, base + n):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                return False
    return True


def _port_base(n: int) -> int:
    for _ in range(200):
        base = 20000 + secrets.randbelow(20000)
        if _ports_free(base, n):
            return base
    raise RuntimeError("no free port range")


def prod_available() -> Optional[str]:
    """None when the production profile can run here, else why not."""
    script = REPO / "scripts" / "run_replicas.sh"
    if not script.exists():
        return "scripts/run_replicas.sh does not exist"
    if not (REPO / "deploy" / "endpoints.prod.yml").exists():
        return "deploy/endpoints.prod.yml does not exist"
    try:
        import psycopg2
        import redis

        psycopg2.connect("postgresql://localhost/postgres").close()
        redis.Redis.from_url("redis://127.0.0.1:6379/1", socket_timeout=5).ping()
    except Exception as exc:  # noqa: BLE001
        return f"PostgreSQL or Redis not reachable: {exc}"
    return None


def run_prod(args: argparse.Namespace, replicas: int) -> Dict[str, Any]:
    import psycopg2

    run_id = secrets.token_hex(4)
    db = f"loadbench_{run_id}"
    prefix = f"lb{run_id}"
    lb_port = _port_base(1)
    replica_base, action_base = _port_base(replicas), _port_base(replicas)
    chart_dir = Path(tempfile.mkdtemp(prefix="loadbench-prod-charts-"))
    env = base_env(REPLICAS=str(replicas), DATABASE_URL=f"postgresql://localhost/{db}", LB_PORT=str(lb_port),
                   REPLICA_BASE_PORT=str(replica_base), ACTION_BASE_PORT=str(action_base),
                   LOCK_STORE_KEY_PREFIX=prefix, REDIS_URL="redis://127.0.0.1:6379/1", CHART_DIR=str(chart_dir))
    env.pop("TRACKER_DATABASE_URL", None)
    env.pop("RABBITMQ_HOST", None)
    log = Path(tempfile.mkstemp(prefix=f"loadbench-prod{replicas}-", suffix=".log")[1])
    command = f"REPLICAS={replicas} scripts/run_replicas.sh"
    start = time.time()
    proc = subprocess.Popen(["bash", "scripts/run_replicas.sh"], cwd=REPO, env=env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{lb_port}"
    try:
        deadline = time.time() + 900
        while "==> ready" not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"{command} did not become ready; its output:\n{log.read_text()[-3000:]}")
            time.sleep(2)
        print(f"  production profile, {replicas} replica(s), up in {time.time() - start:.0f} s", flush=True)

        def groups() -> Dict[str, List[int]]:
            out: Dict[str, List[int]] = {"rasa": [], "actions": [], "balancer": []}
            for pid in descendants(proc.pid):
                cmd = cmdline(pid)
                if "rasa run" in cmd and "python" in cmd:
                    out["rasa"].append(pid)
                elif "bot.action_server" in cmd:
                    out["actions"].append(pid)
                elif "balancer.py" in cmd:
                    out["balancer"].append(pid)
            return out

        roots = groups()   # fixed roots: descendants are added by Watch.pids

        watch = Watch(lambda: roots)
        watch.start()
        try:
            levels, replies = run_levels(args, f"prod-{replicas}", url, watch, mix_conversation)
        finally:
            watch.stop()
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        time.sleep(2)
        try:
            admin = psycopg2.connect("postgresql://localhost/postgres")
            admin.autocommit = True
            with admin.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{db}"')
            admin.close()
        except Exception as exc:  # noqa: BLE001
            print(f"  (could not drop database {db}: {exc})")
        try:
            import redis

            client = redis.Redis.from_url("redis://127.0.0.1:6379/1")
            keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
            if keys:
                client.delete(*keys)
        except Exception:  # noqa: BLE001
            pass
        shutil.rmtree(chart_dir, ignore_errors=True)
        log.unlink(missing_ok=True)
    return {"replicas": replicas, "command": command,
            "processes": {k: len(v) for k, v in roots.items()}, "sample_replies": replies,
            "profile": f"{replicas} Rasa replica(s) + {replicas} action server(s), PostgreSQL tracker + account "
                       "store, AtomicRedisLockStore, deploy/balancer.py round-robin", "levels": levels}


def phase_prod(args: argparse.Namespace) -> Dict[str, Any]:
    why = prod_available()
    if why:
        print(f"  production profile skipped: {why}")
        return {"skipped": why}
    out: Dict[str, Any] = {"runs": []}
    for replicas in args.replicas:
        try:
            out["runs"].append(run_prod(args, replicas))
        except Exception as exc:  # noqa: BLE001
            print(f"  production profile with {replicas} replica(s) failed: {exc}")
            out["runs"].append({"replicas": replicas, "failed": str(exc)[-2000:]})
    return out


# -- long conversation ----------------------------------------------------------------------------------------


def _http(method: str, url: str, body: Any = None, timeout: float = 120) -> Tuple[float, bytes]:
    import urllib.request

    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json", "Accept": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        raw = resp.read()
    return (time.perf_counter() - start) * 1000, raw


def breakdown(servers: Servers, sender: str, domain_json: Dict[str, Any], reps: int = 7) -> Dict[str, Any]:
    """Where a turn's time goes as the conversation grows (nothing here adds events to the conversation)."""
    out: Dict[str, Any] = {}
    ms, raw = _http("GET", f"{servers.rasa_url}/conversations/{sender}/tracker")
    tracker = json.loads(raw)
    events = tracker["events"]
    out["events"] = len(events)
    out["events_by_type"] = {}
    for e in events:
        out["events_by_type"][e["event"]] = out["events_by_type"].get(e["event"], 0) + 1
    out["user_turns"] = out["events_by_type"].get("user", 0)
    out["tracker_json_kb"] = round(len(raw) / 1024, 1)
    out["http_get_tracker_ms"] = round(statistics.median(
        _http("GET", f"{servers.rasa_url}/conversations/{sender}/tracker")[0] for _ in range(reps)), 1)
    out["http_predict_ms"] = round(statistics.median(
        _http("POST", f"{servers.rasa_url}/conversations/{sender}/predict")[0] for _ in range(reps)), 1)
    out["http_parse_ms"] = round(statistics.median(
        _http("POST", f"{servers.rasa_url}/model/parse", {"text": "what are the risks on 华东精密?"})[0]
        for _ in range(reps)), 1)
    # what Rasa sends the action server for every custom action / form call: the whole tracker + the domain
    payload = json.dumps({"next_action": "action_explain_method", "sender_id": sender, "tracker": tracker,
                          "domain": domain_json, "version": "3.6.21"}).encode()
    out["action_call_payload_kb"] = round(len(payload) / 1024, 1)
    _, answer = _http("POST", f"{servers.action_url}/webhook", payload)
    answer_json = json.loads(answer)
    out["action_call_answer"] = {"events": len(answer_json.get("events") or []),
                                 "responses": len(answer_json.get("responses") or []), "error": answer_json.get("error")}
    out["http_action_call_ms"] = round(statistics.median(
        _http("POST", f"{servers.action_url}/webhook", payload)[0] for _ in range(reps)), 1)
    # the same steps inside Rasa, timed in this process with Rasa's own classes
    try:
        from rasa.shared.core.domain import Domain
        from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

        domain = breakdown.domain  # type: ignore[attr-defined]
        if domain is None:
            domain = breakdown.domain = Domain.load(str(REPO / "domain.yml"))  # type: ignore[attr-defined]

        def timed(fn: Callable[[], Any]) -> float:
            runs = []
            for _ in range(3):
                t = time.perf_counter()
                fn()
                runs.append((time.perf_counter() - t) * 1000)
            return round(statistics.median(runs), 1)

        tr = DialogueStateTracker.from_dict(sender, events, domain.slots)
        out["inproc_replay_events_ms"] = timed(lambda: DialogueStateTracker.from_dict(sender, events, domain.slots))
        out["inproc_serialise_tracker_ms"] = timed(lambda: json.dumps(tr.current_state(EventVerbosity.ALL)))
        out["inproc_past_states_ms"] = timed(lambda: tr.past_states(domain))
        out["inproc_applied_events_ms"] = timed(tr.applied_events)
    except Exception as exc:  # noqa: BLE001
        out["inproc_error"] = f"{type(exc).__name__}: {exc}"
    return out


breakdown.domain = None  # type: ignore[attr-defined]


def phase_long(args: argparse.Namespace) -> Dict[str, Any]:
    turns = long_conversation(args.long_turns)
    window = 50
    with tempfile.TemporaryDirectory(prefix="loadbench-long-") as tmp:
        servers = start_embedded(Path(tmp))
        watch = embedded_watch(servers)
        try:
            asyncio.run(drive(servers.rasa_url, 1, mix_conversation, "warm-long", args.timeout, total_turns=13))
            _, raw = _http("GET", f"{servers.rasa_url}/domain")
            domain_json = json.loads(raw)
            quiet = wait_quiet(args, "long conversation")
            sender = f"lb-long-{secrets.token_hex(3)}"
            records: List[Dict[str, Any]] = []
            diagnostics: Dict[str, Any] = {}
            loads: List[List[float]] = []
            sample: Dict[int, str] = {}

            async def go(sub: List[Tuple[str, str]], offset: int) -> None:
                async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=args.timeout)) as session:
                    for i, (kind, text) in enumerate(sub):
                        ms, error, messages = await one_turn(session, servers.rasa_url, sender, text)
                        records.append({"turn": offset + i + 1, "kind": kind, "ms": ms, "error": error})
                        if offset + i < 8 or offset + i >= len(turns) - 8:
                            sample[offset + i + 1] = text + " -> " + " / ".join(
                                (m.get("text") or "[image]")[:60] for m in messages or [])[:160]

            checkpoints = sorted({window, len(turns)})
            done = 0
            for cp in checkpoints:
                asyncio.run(go(turns[done:cp], done))
                done = cp
                loads.append(loadavg())
                diagnostics[f"after_turn_{cp}"] = breakdown(servers, sender, domain_json)
                diagnostics[f"after_turn_{cp}"]["load"] = loads[-1]
                print(f"    after turn {cp}: {json.dumps(diagnostics[f'after_turn_{cp}'], ensure_ascii=False)}",
                      flush=True)
        finally:
            watch.stop()
            servers.stop_all()
    ok = lambda lo, hi: [r["ms"] for r in records if lo <= r["turn"] <= hi and not r["error"]]  # noqa: E731
    windows = []
    for lo in range(1, len(turns) + 1, window):
        hi = min(lo + window - 1, len(turns))
        windows.append({"turns": f"{lo}-{hi}", **lat_stats(ok(lo, hi)),
                        "by_kind": {k: lat_stats([r["ms"] for r in records if lo <= r["turn"] <= hi
                                                  and r["kind"] == k and not r["error"]]) for k in ("fact", "coaching")}})
    last_lo = max(1, len(turns) - window + 1)
    first, last = lat_stats(ok(1, window)), lat_stats(ok(last_lo, len(turns)))
    ratio = round(last["p95_ms"] / first["p95_ms"], 2) if first.get("p95_ms") else None
    errors: Dict[str, int] = {}
    for r in records:
        if r["error"]:
            errors[r["error"]] = errors.get(r["error"], 0) + 1
    result = {"turns": len(turns), "sender": "one sender, one session (no 120-min silence)",
              "first_window": {"turns": f"1-{window}", **first}, "last_window": {"turns": f"{last_lo}-{len(turns)}", **last},
              "p95_ratio_last_vs_first": ratio, "windows": windows, "errors": sum(errors.values()),
              "error_types": errors, **quiet, "load_during": loads, "breakdown": diagnostics, "sample_replies": sample,
              "latencies_ms": [round(r["ms"], 1) for r in records]}
    print(f"  long conversation: p95 turns 1-{window} {first.get('p95_ms')} ms, turns {last_lo}-{len(turns)} "
          f"{last.get('p95_ms')} ms, ratio {ratio}; errors {result['errors']}; load before {quiet['load_before']}, "
          f"during {loads}", flush=True)
    for w in windows:
        print(f"    turns {w['turns']:<8} p50 {w.get('p50_ms')} p95 {w.get('p95_ms')} ms", flush=True)
    return result


# -- profile (optional): where a turn's time goes, early vs late in one long conversation ------------------------

PROFILE_ROWS = [  # (label, file suffix, function): cumulative time of that function, per turn
    ("whole turn (processor.handle_message)", "rasa/core/processor.py", "handle_message"),
    ("load tracker: SQL select + replay of every event", "rasa/core/tracker_store.py", "_retrieve"),
    ("  of which: deserialise events (Event.resolve_by_type)", "rasa/shared/core/events.py", "deserialise_events"),
    ("NLU (parse_message)", "rasa/core/processor.py", "parse_message"),
    ("policy predictions (all actions of the turn)", "rasa/core/processor.py", "_predict_next_with_tracker"),
    ("  of which: states of the whole history (past_states)", "rasa/shared/core/trackers.py", "past_states"),
    ("  RulePolicy", "rasa/core/policies/rule_policy.py", "predict_action_probabilities"),
    ("  MemoizationPolicy", "rasa/core/policies/memoization.py", "predict_action_probabilities"),
    ("  TEDPolicy", "rasa/core/policies/ted_policy.py", "predict_action_probabilities"),
    ("  RulePolicy's debug text of every state (built even when not logged)", "rasa/core/policies/policy.py",
     "format_tracker_states"),
    ("tracker.applied_events (all callers)", "rasa/shared/core/trackers.py", "applied_events"),
    ("action calls: tracker + domain to JSON (_action_call_format)", "rasa/core/actions/action.py",
     "_action_call_format"),
    ("action calls: HTTP client side (EndpointConfig.request)", "rasa/utils/endpoints.py", "request"),
    ("action calls: jsonschema check of the answer (_validate_action_result)", "rasa/core/actions/action.py",
     "_validate_action_result"),
    ("save tracker", "rasa/core/processor.py", "save_tracker"),
]


def phase_profile(args: argparse.Namespace) -> Dict[str, Any]:
    """Profiles turns 21-50 and the last 30 of one --long-turns conversation.

    Rasa's agent runs in this process (same model, SQLite tracker store, real action server). Diagnosis
    only: the profiler slows Python code down (about 2x), so read the shares, not the absolute milliseconds.
    """
    import cProfile

    quiet_rasa_logs()
    turns = long_conversation(args.long_turns)
    windows = {"early": (21, 50), "late": (len(turns) - 29, len(turns))}

    async def run(work: Path) -> Dict[str, Any]:
        async with in_process_agent(work) as agent:
            profiles = {key: cProfile.Profile() for key in windows}
            times: List[float] = []
            quiet = wait_quiet(args, "profile")
            for i, (_, text) in enumerate(turns, 1):
                prof = next((profiles[k] for k, (lo, hi) in windows.items() if lo <= i <= hi), None)
                if prof:
                    prof.enable()
                start = time.perf_counter()
                await agent.handle_text(text, sender_id="lb-profile")
                times.append((time.perf_counter() - start) * 1000)
                if prof:
                    prof.disable()
            tracker = await agent.tracker_store.retrieve("lb-profile")
            return {"profiles": profiles, "times": times, "events": len(tracker.events), **quiet}

    with tempfile.TemporaryDirectory(prefix="loadbench-profile-") as tmp:
        got = asyncio.run(run(Path(tmp)))
    result: Dict[str, Any] = {"turns": len(turns), "events_at_end": got["events"], "load_before": got["load_before"],
                              "windows": {}}
    for key, (lo, hi) in windows.items():
        result["windows"][key] = {"turns": f"{lo}-{hi}", "p50_ms_profiler_on": round(pct(got["times"][lo - 1:hi], .5), 1),
                                  "profiled_ms_per_turn": profiled_ms_per_turn(got["profiles"][key], hi - lo + 1)}
    print(f"  profile ({got['events']} events at the end, load before {got['load_before']}), ms per turn under cProfile:")
    print(f"    {'':<72} {'early':>8} {'late':>8}")
    for label, _, _ in PROFILE_ROWS:
        print(f"    {label:<72} {result['windows']['early']['profiled_ms_per_turn'][label]:>8.1f}"
              f" {result['windows']['late']['profiled_ms_per_turn'][label]:>8.1f}")
    print(f"    {'wall-clock p50 of the same turns (profiler on)':<72} {result['windows']['early']['p50_ms_profiler_on']:>8.1f}"
          f" {result['windows']['late']['p50_ms_profiler_on']:>8.1f}", flush=True)
    return result


# -- memory ---------------------------------------------------------------------------------------------------------


def phase_memory(args: argparse.Namespace) -> Dict[str, Any]:
    requested = args.memory_turns
    state: Dict[str, Any] = {"done": 0, "reduced": None}
    with tempfile.TemporaryDirectory(prefix="loadbench-memory-") as tmp:
        servers = start_embedded(Path(tmp))
        watch = embedded_watch(servers, interval=2.0)
        watch.counter = lambda: state["done"]
        try:
            asyncio.run(drive(servers.rasa_url, 1, mix_conversation, "warm-mem", args.timeout, total_turns=26))
            quiet = wait_quiet(args, "memory run")
            time.sleep(2.5)
            baseline = {k: v for k, v in watch.samples[-1].items() if k not in ("t", "turns")}
            mark = watch.mark()
            next_report = [1000]

            def on_turn(done: int, elapsed: float) -> Optional[int]:
                state["done"] = done
                if done >= next_report[0]:
                    s = watch.samples[-1]
                    print(f"    {done} turns, {elapsed:.0f} s, rss rasa {s.get('rasa')} MB actions {s.get('actions')} MB,"
                          f" load {loadavg()}", flush=True)
                    next_report[0] += 1000
                if done == 300 and state["reduced"] is None:
                    projected = elapsed / 300 * requested
                    state["projected_s"] = round(projected)
                    if projected > 1.2 * args.memory_budget and requested > 3000:  # "about" the budget
                        state["reduced"] = True
                        print(f"    {requested} turns would take ~{projected / 60:.0f} min (budget about "
                              f"{args.memory_budget / 60:.0f} min): running 3000 turns instead", flush=True)
                        return 3000
                    state["reduced"] = False
                return None

            run = asyncio.run(drive(servers.rasa_url, args.memory_concurrency, mix_conversation,
                                    f"lb-mem-{secrets.token_hex(2)}", args.timeout, total_turns=requested,
                                    on_turn=on_turn))
            time.sleep(2.5)
            cpu = watch.delta(mark)
        finally:
            watch.stop()
            servers.stop_all()
    records = run["records"]
    samples = [s for s in watch.samples if s["t"] >= watch.samples[0]["t"]]
    measured = [s for s in samples if s["turns"] > 0]
    end = {k: v for k, v in samples[-1].items() if k not in ("t", "turns")}
    peak = {k: max(s.get(k, 0) for s in samples) for k in baseline}
    tenth = max(1, len(records) // 10)
    chunks = [{"turns": f"{i + 1}-{min(i + tenth, len(records))}",
               **lat_stats([r["ms"] for r in records[i:i + tenth] if not r["error"]])}
              for i in range(0, len(records), tenth)]
    step = max(1, len(measured) // 60)
    result = {"turns_requested": requested, "turns": len(records), "reduced_to_3000": bool(state["reduced"]),
              "projected_s_for_requested": state.get("projected_s"), "concurrency": args.memory_concurrency,
              **summarise(records, run["elapsed"]), **quiet, "load_after": loadavg(),
              "rss_mb_after_warmup": baseline, "rss_mb_end": end, "rss_mb_peak": peak,
              "rss_growth_mb": {k: round(end[k] - baseline[k], 1) for k in baseline},
              "cpu_pct_of_one_core": cpu["cpu_pct_of_one_core"], "latency_by_tenth": chunks,
              "rss_samples": [{k: v for k, v in s.items() if k != "t"} for s in measured[::step]]}
    result.pop("by_kind", None)
    print(f"  memory: {len(records)} turns ({'reduced from ' + str(requested) if state['reduced'] else 'as requested'}),"
          f" {result['throughput_tps']} turns/s, errors {result['errors']}; RSS after warm-up {baseline}, end {end}, "
          f"peak {peak}; load before {quiet['load_before']}, after {result['load_after']}", flush=True)
    return result


# -- targets, output ----------------------------------------------------------------------------------------------


def level(results: Dict[str, Any], *path: Any) -> Optional[Dict[str, Any]]:
    node: Any = results
    for p in path:
        if node is None:
            return None
        if isinstance(p, int) and isinstance(node, list):
            node = next((lv for lv in node if lv.get("concurrency") == p), None)
        else:
            node = node.get(p) if isinstance(node, dict) else None
    return node


def targets(results: Dict[str, Any]) -> List[Dict[str, Any]]:
    rows = []
    prod_runs = {r.get("replicas"): r for r in (results.get("prod") or {}).get("runs", []) if "levels" in r}
    two = prod_runs.get(2)
    if two:
        best = max(two["levels"], key=lambda lv: lv["throughput_tps"])
        rows.append({"target": "throughput with two workers (prod, 2 replicas, best level)", "want": ">= 50 turns/s",
                     "got": f"{best['throughput_tps']} turns/s at c={best['concurrency']}",
                     "ok": best["throughput_tps"] >= TARGETS["throughput_two_workers_tps"]})
    else:
        rows.append({"target": "throughput with two workers (prod, 2 replicas)", "want": ">= 50 turns/s",
                     "got": "not run", "ok": None})
    profiles = [("default", level(results, "default", "levels", 10))]
    profiles += [(f"prod-{n}", level({"x": r}, "x", "levels", 10)) for n, r in sorted(prod_runs.items())]
    profiles += [("bare", level(results, "bare", "levels", 10))]
    for name, lv in profiles:
        if lv:
            rows.append({"target": f"p95 at 10 conversations ({name})", "want": "<= 250 ms", "got": f"{lv['p95_ms']} ms",
                         "ok": lv["p95_ms"] <= TARGETS["p95_at_10_ms"]})
    profiles = [("default", level(results, "default", "levels", 50))]
    profiles += [(f"prod-{n}", level({"x": r}, "x", "levels", 50)) for n, r in sorted(prod_runs.items())]
    profiles += [("bare", level(results, "bare", "levels", 50))]
    for name, lv in profiles:
        if lv:
            rows.append({"target": f"errors at 50 conversations ({name})", "want": "0",
                         "got": f"{lv['errors']} of {lv['turns']}", "ok": lv["errors"] == 0})
    long = results.get("long")
    if long and long.get("p95_ratio_last_vs_first") is not None:
        rows.append({"target": "turn-400 p95 vs turn-1 p95 (one conversation)", "want": "<= 1.5x",
                     "got": f"{long['last_window']['p95_ms']} / {long['first_window']['p95_ms']} ms = "
                            f"{long['p95_ratio_last_vs_first']}x",
                     "ok": long["p95_ratio_last_vs_first"] <= TARGETS["long_p95_ratio"]})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phases", default=",".join(ALL_PHASES),
                        help="comma list of " + ",".join(ALL_PHASES + EXTRA_PHASES) + " (profile only when named)")
    parser.add_argument("--levels", default="1,10,50", help="concurrent conversations per step")
    parser.add_argument("--duration", type=float, default=60, help="seconds per concurrency level")
    parser.add_argument("--timeout", type=float, default=60, help="seconds before a turn counts as timed out")
    parser.add_argument("--replicas", default="1,2", help="production profile replica counts")
    parser.add_argument("--long-turns", type=int, default=400)
    parser.add_argument("--memory-turns", type=int, default=10000)
    parser.add_argument("--memory-concurrency", type=int, default=10)
    parser.add_argument("--memory-budget", type=float, default=900,
                        help="seconds the memory run should take (cut to 3000 turns if projected > 1.2x this)")
    parser.add_argument("--bare-dir", help="reuse (or create) the stock bot here instead of a fresh temp dir")
    parser.add_argument("--quiet-load", type=float, default=1.5)
    parser.add_argument("--quiet-wait", type=float, default=180)
    parser.add_argument("--out", default=str(OUT_JSON))
    args = parser.parse_args()
    args.levels = [int(x) for x in args.levels.split(",") if x]
    args.replicas = [int(x) for x in args.replicas.split(",") if x]
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = set(phases) - set(ALL_PHASES) - set(EXTRA_PHASES)
    if unknown:
        parser.error(f"unknown phase(s): {', '.join(sorted(unknown))}")
    if any(p in phases for p in ("default", "prod", "long", "memory", "profile")) and not MODEL.exists():
        raise SystemExit(f"no trained model at {MODEL}")

    def stop(signum: int, _frame: Any) -> None:  # SIGTERM/SIGINT: stop the servers (the `finally`s) and exit
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    out = Path(args.out)
    results: Dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    command = "python scripts/load_benchmark.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    print(f"load benchmark: phases {phases}; machine load {loadavg()}", flush=True)
    runners = {"default": phase_default, "bare": phase_bare, "prod": phase_prod, "long": phase_long,
               "memory": phase_memory, "profile": phase_profile}
    for phase in phases:
        print(f"== {phase}", flush=True)
        started = time.time()
        try:
            res = runners[phase](args)
        except Exception as exc:  # noqa: BLE001 - keep the other phases
            import traceback

            traceback.print_exc()
            res = {"failed": f"{type(exc).__name__}: {exc}"[-2000:]}
        res["run"] = {"command": command.strip(), "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)),
                      "minutes": round((time.time() - started) / 60, 1), "machine": machine(),
                      "settings": {k: v for k, v in vars(args).items() if k not in ("phases", "out")}}
        results[phase] = res
        results["targets"] = targets(results)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")

    print("\nTargets")
    for row in results["targets"]:
        verdict = {True: "PASS", False: "MISS", None: "n/a"}[row["ok"]]
        print(f"  {verdict:<4}  {row['target']:<58} want {row['want']:<14} got {row['got']}")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
