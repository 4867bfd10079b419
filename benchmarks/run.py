"""Run farm's benchmark suite and write the figures to benchmarks/out/results.json.

    python benchmarks/run.py            # full suite: the whole Farm dataset, 15 to 20 minutes
    python benchmarks/run.py --quick    # a few hundred conversations, about 3 minutes

Every client (farm, the sequential loop, inspect_ai) runs as its own child process against
one stub server process, and its CPU time and peak RSS come from wait4 on that child. See
benchmarks/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from _procs import HERE, PYTHON, Measured, Stub, run_measured

OUT = HERE / "out"
WORK = OUT / "work"
BIN = Path(PYTHON).parent
DEFAULT_DATASET = "/work/shared/datasets/farm"
CONCURRENCY = 64
SLOW_LATENCY_MS = 200.0


@dataclass(frozen=True)
class Sizes:
    """Items per subset (None = all) for each part of the suite."""

    main: int | None
    side_by_side: int
    sequential_slow: int
    kv_items: int


FULL = Sizes(main=None, side_by_side=25, sequential_slow=1, kv_items=2)
QUICK = Sizes(main=25, side_by_side=10, sequential_slow=1, kv_items=1)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    cpu_model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip()
            break
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def figures(measured: Measured, calls: int, stub: Stub, stub_cpu_before: float) -> dict[str, Any]:
    """Turn one measured child into the per-call figures, with the stub's view of the run."""
    stats = stub.stats()
    return {
        "returncode": measured.returncode,
        "wall_s": round(measured.wall_s, 3),
        "cpu_s": round(measured.cpu_s, 3),
        "peak_rss_mb": round(measured.max_rss_mb, 1),
        "calls": calls,
        "calls_per_s": round(calls / measured.wall_s, 1) if measured.wall_s else 0.0,
        "cpu_ms_per_call": round(1000 * measured.cpu_s / calls, 3) if calls else None,
        "stub_cpu_ms_per_call": round(1000 * (stub.cpu_s() - stub_cpu_before) / calls, 3)
        if calls
        else None,
        "stub_in_flight_mean": round(stats["in_flight_mean"], 1),
        "stub_in_flight_median": stats["in_flight_median"],
        "stub_in_flight_max": stats["in_flight_max"],
    }


def schedule_makespan(calls: list[int], workers: int, latency_s: float) -> float:
    """Return the wall time of `workers` zero-overhead workers running these conversations.

    Each conversation takes its calls one after another at `latency_s` each, and a free
    worker takes the next conversation in order, as farm's workers do. Short conversations
    (initially wrong, early flips) and the last few long ones leave workers idle, so this
    bound is below `workers / latency_s` calls per second.
    """
    free_at = [0.0] * workers
    heapq.heapify(free_at)
    for count in calls:
        heapq.heappush(free_at, heapq.heappop(free_at) + count * latency_s)
    return max(free_at)


def check(measured: Measured, what: str) -> None:
    if measured.returncode != 0:
        log(measured.stderr[-3000:])
        raise SystemExit(f"{what} failed with exit code {measured.returncode} (stderr above).")


class Suite:
    """The benchmark steps, sharing one stub server."""

    def __init__(self, stub: Stub, dataset: str) -> None:
        self.stub = stub
        self.dataset = dataset

    def _start(self, latency_ms: float) -> float:
        self.stub.set_latency(latency_ms)
        self.stub.reset()
        return self.stub.cpu_s()

    def capacity(self, requests: int) -> dict[str, Any]:
        before = self._start(0)
        measured = run_measured(
            [PYTHON, str(HERE / "capacity_client.py"), str(self.stub.port),
             "--connections", str(CONCURRENCY), "--requests", str(requests)]
        )
        check(measured, "the capacity client")
        result = json.loads(measured.stdout)
        return {
            **figures(measured, int(result["calls"]), self.stub, before),
            "calls_per_s": round(result["calls_per_s"], 1),
            "connections": CONCURRENCY,
        }

    def farm_run(
        self, name: str, *, limit: int | None, latency_ms: float, concurrency: int
    ) -> tuple[dict[str, Any], Path]:
        output = WORK / name
        shutil.rmtree(output, ignore_errors=True)
        output.mkdir(parents=True)
        before = self._start(latency_ms)
        command = [
            str(BIN / "farm"), "run",
            "--model", f"openai:stub@{self.stub.base_url}",
            "--dataset", self.dataset,
            "--paper-compat",
            "--max-concurrency", str(concurrency),
            "--output", str(output / "runs"),
            "--cache-path", str(output / "cache.sqlite"),
            "--no-report",
        ]
        if limit is not None:
            command += ["--limit", str(limit)]

        log(f"  {name}: farm run, limit={limit}, latency={latency_ms:g} ms, c={concurrency}")
        measured = run_measured(command)
        check(measured, f"farm run ({name})")
        calls = self.stub.stats()["requests"]
        result = figures(measured, calls, self.stub, before)
        result.update(limit=limit, latency_ms=latency_ms, concurrency=concurrency)

        (run_dir,) = (output / "runs").iterdir()
        calls_per_conversation = [
            int(json.loads(line)["calls"])
            for line in (run_dir / "conversations.jsonl").open(encoding="utf-8")
        ]
        result["conversations"] = len(calls_per_conversation)
        if latency_ms > 0:
            makespan = schedule_makespan(calls_per_conversation, concurrency, latency_ms / 1000)
            result["workload_bound_calls_per_s"] = round(sum(calls_per_conversation) / makespan, 1)

        # The resume of a finished run makes no call, so its CPU is farm's fixed cost for
        # this workload: start, imports, dataset load, planning and reading the records.
        result["resume"] = self.farm_resume(run_dir)
        result["startup_cpu_s"] = result["resume"]["cpu_s"]
        return result, run_dir

    def farm_resume(self, run_dir: Path) -> dict[str, Any]:
        before = self._start(0)
        measured = run_measured(
            [str(BIN / "farm"), "run", "--resume", str(run_dir),
             "--cache-path", str(run_dir.parent.parent / "cache.sqlite"), "--no-report"]
        )
        check(measured, "farm run --resume")
        result = figures(measured, self.stub.stats()["requests"], self.stub, before)
        result.pop("cpu_ms_per_call")
        return result

    def farm_report(self, run_dir: Path) -> dict[str, Any]:
        target = run_dir.parent.parent / "report.html"
        measured = run_measured([str(BIN / "farm"), "report", str(run_dir), "-o", str(target)])
        if measured.returncode != 0:
            return {"error": measured.stderr.strip()[-1500:], "returncode": measured.returncode}
        return {
            "wall_s": round(measured.wall_s, 3),
            "cpu_s": round(measured.cpu_s, 3),
            "peak_rss_mb": round(measured.max_rss_mb, 1),
            "size_mb": round(target.stat().st_size / 1e6, 2),
        }

    def sequential(self, name: str, *, limit: int, latency_ms: float) -> dict[str, Any]:
        before = self._start(latency_ms)
        log(f"  {name}: sequential loop, limit={limit}, latency={latency_ms:g} ms")
        measured = run_measured(
            [PYTHON, str(HERE / "sequential.py"), self.stub.base_url,
             "--dataset", self.dataset, "--limit", str(limit)]
        )
        check(measured, f"the sequential loop ({name})")
        summary = json.loads(measured.stdout)
        result = figures(measured, self.stub.stats()["requests"], self.stub, before)
        result.update(limit=limit, latency_ms=latency_ms, concurrency=1,
                      conversations=summary["conversations"])
        return result

    def sequential_startup(self) -> dict[str, Any]:
        """Measure the sequential loop with no items: interpreter start and dataset load."""
        measured = run_measured(
            [PYTHON, str(HERE / "sequential.py"), self.stub.base_url,
             "--dataset", self.dataset, "--limit", "0"]
        )
        check(measured, "the sequential loop (startup)")
        return {"wall_s": round(measured.wall_s, 3), "cpu_s": round(measured.cpu_s, 3)}

    def inspect(self, name: str, *, limit: int, latency_ms: float) -> dict[str, Any]:
        if shutil.which("inspect", path=str(BIN)) is None:
            return {"error": "inspect_ai is not installed in this environment"}
        log_dir = WORK / name
        shutil.rmtree(log_dir, ignore_errors=True)
        before = self._start(latency_ms)
        log(f"  {name}: inspect eval, limit={limit}, latency={latency_ms:g} ms")
        # inspect's OpenAI provider needs some key; the stub ignores it.
        env = {**os.environ, "OPENAI_API_KEY": "stub-key-not-checked"}
        measured = run_measured(
            # inspect_ai 0.3 accepts only a relative task path, so it runs from this folder.
            [str(BIN / "inspect"), "eval", "inspect_task.py",
             "--model", "openai/stub", "-M", "responses_api=false",
             "--model-base-url", self.stub.base_url,
             "-T", f"dataset={self.dataset}", "-T", f"limit={limit}",
             "--max-connections", str(CONCURRENCY), "--max-samples", str(CONCURRENCY),
             "--log-dir", str(log_dir), "--display", "none"],
            env=env,
            cwd=HERE,
        )
        if measured.returncode != 0:
            return {"error": measured.stderr.strip()[-1500:], "returncode": measured.returncode}
        result = figures(measured, self.stub.stats()["requests"], self.stub, before)
        result.update(limit=limit, latency_ms=latency_ms, concurrency=CONCURRENCY)
        return result


def kv_reuse(dataset: str, items: int) -> dict[str, Any]:
    log(f"  kv_reuse: local model, {items} item(s) per subset of NQ2, logical strategy")
    measured = run_measured(
        [PYTHON, str(HERE / "kv_reuse.py"), "--dataset", f"{dataset}/NQ2.jsonl",
         "--items", str(items)]
    )
    if measured.returncode != 0:
        return {"error": measured.stderr.strip()[-1500:], "returncode": measured.returncode}
    with_reuse, without_reuse = json.loads(measured.stdout)
    ratio = without_reuse["evaluated_tokens_per_conversation"] / max(
        1.0, with_reuse["evaluated_tokens_per_conversation"]
    )
    return {"with_reuse": with_reuse, "without_reuse": without_reuse,
            "evaluated_tokens_ratio": round(ratio, 2)}


def add_net_cpu(run: dict[str, Any], startup_cpu_s: float) -> None:
    """Add the CPU per call without the client's fixed startup cost (start, imports, loading)."""
    if "error" not in run and run["calls"]:
        net = max(0.0, run["cpu_s"] - startup_cpu_s)
        run["net_cpu_ms_per_call"] = round(1000 * net / run["calls"], 3)


def ratio(numerator: Any, denominator: Any) -> float | None:
    if not isinstance(numerator, (int, float)) or not isinstance(denominator, (int, float)):
        return None
    return round(numerator / denominator, 2) if denominator else None


def compare(runs: dict[str, Any], farm: str, other: str) -> dict[str, Any]:
    """Ratios farm / other for calls per second, other / farm for CPU per call (>1 = farm wins)."""
    if "error" in runs.get(other, {}) or other not in runs:
        return {"error": f"{other} did not run"}
    result = {
        "calls_per_s_ratio": ratio(runs[farm]["calls_per_s"], runs[other]["calls_per_s"]),
        "cpu_per_call_ratio": ratio(runs[other]["cpu_ms_per_call"], runs[farm]["cpu_ms_per_call"]),
    }
    if "net_cpu_ms_per_call" in runs[other]:
        result["net_cpu_per_call_ratio"] = ratio(
            runs[other]["net_cpu_ms_per_call"], runs[farm]["net_cpu_ms_per_call"]
        )
    return result


def targets(results: dict[str, Any]) -> dict[str, Any]:
    runs = results["runs"]
    ideal = CONCURRENCY / (SLOW_LATENCY_MS / 1000)
    slow = runs["farm_main_200ms"]["calls_per_s"]
    report = results.get("report", {})
    return {
        "cpu_ms_per_call_at_0ms": {
            "value": runs["farm_main_0ms"]["net_cpu_ms_per_call"],
            "with_startup": runs["farm_main_0ms"]["cpu_ms_per_call"],
            "target": "<= 1.0",
            "met": runs["farm_main_0ms"]["net_cpu_ms_per_call"] <= 1.0,
        },
        "share_of_ideal_at_200ms": {
            "value": round(slow / ideal, 3), "ideal_calls_per_s": ideal, "target": ">= 0.90",
            "met": slow / ideal >= 0.9,
            "workload_bound_calls_per_s": runs["farm_main_200ms"]["workload_bound_calls_per_s"],
            "share_of_workload_bound": round(
                slow / runs["farm_main_200ms"]["workload_bound_calls_per_s"], 3
            ),
        },
        "peak_rss_mb": {
            "value": runs["farm_main_0ms"]["peak_rss_mb"], "target": "< 400",
            "met": runs["farm_main_0ms"]["peak_rss_mb"] < 400,
            "full_dataset": results["sizes"]["main"] is None,
        },
        "report_s": {
            "value": report.get("wall_s"), "target": "< 20",
            "met": report.get("wall_s") is not None and report["wall_s"] < 20,
        },
    }


def print_summary(results: dict[str, Any]) -> None:
    print(f"\nfarm benchmarks, {results['date']}, {results['machine']['nproc']} x "
          f"{results['machine']['cpu_model']}")
    capacity = results["stub_capacity"]
    print(f"stub capacity: {capacity['calls_per_s']:.0f} calls/s "
          f"(minimal client, {capacity['connections']} connections, 0 ms)")
    print(f"\n{'run':<24}{'convs':>7}{'calls':>8}{'wall s':>9}{'calls/s':>9}"
          f"{'cpu ms/call':>12}{'net ms/call':>12}{'rss MB':>8}{'in-flight':>10}")
    for name, run in results["runs"].items():
        if "error" in run:
            print(f"{name:<24} error: {run['error'][:200]}")
            continue
        print(f"{name:<24}{run.get('conversations', ''):>7}{run['calls']:>8}{run['wall_s']:>9.1f}"
              f"{run['calls_per_s']:>9.0f}{run['cpu_ms_per_call']:>12.3f}"
              f"{run.get('net_cpu_ms_per_call', float('nan')):>12.3f}"
              f"{run['peak_rss_mb']:>8.0f}{run['stub_in_flight_mean']:>10.1f}")
    resume = results["resume"]
    print(f"\nresume of the finished main run: {resume['wall_s']:.2f} s wall, "
          f"{resume['cpu_s']:.2f} s CPU, {resume['calls']} calls")
    report = results["report"]
    if "error" in report:
        print(f"farm report: failed: {report['error'][:300]}")
    else:
        print(f"farm report: {report['wall_s']:.1f} s, {report['size_mb']} MB, "
              f"peak RSS {report['peak_rss_mb']:.0f} MB")
    print("\nratios (farm / other; above 1 means farm is faster or cheaper):")
    for name, value in results["ratios"].items():
        print(f"  {name}: {value}")
    print("\ntargets:")
    for name, value in results["targets"].items():
        print(f"  {name}: {value}")
    kv = results.get("kv_reuse", {})
    if "error" in kv:
        print(f"\nKV reuse: failed: {kv['error'][:300]}")
    elif kv:
        print(f"\nKV reuse: {kv['with_reuse']['evaluated_tokens_per_conversation']:.0f} evaluated "
              f"tokens per conversation with reuse, "
              f"{kv['without_reuse']['evaluated_tokens_per_conversation']:.0f} without "
              f"({kv['evaluated_tokens_ratio']}x); wall {kv['with_reuse']['wall_s']:.1f} s vs "
              f"{kv['without_reuse']['wall_s']:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description="Run farm's benchmark suite.")
    parser.add_argument("--quick", action="store_true", help="Run a few hundred conversations.")
    parser.add_argument("--dataset", default=DEFAULT_DATASET, help="Farm dataset folder.")
    parser.add_argument("--skip-inspect", action="store_true", help="Do not run inspect_ai.")
    parser.add_argument("--skip-kv", action="store_true", help="Do not run the local model.")
    parser.add_argument("--reply-chars", type=int, default=400, help="Stub free-reply length.")
    parser.add_argument(
        "--wrong-rate", type=float, default=0.1, help="Stub's chance of a wrong probe answer."
    )
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    WORK.mkdir(parents=True, exist_ok=True)

    started = datetime.now(timezone.utc)
    results: dict[str, Any] = {
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(["python", "benchmarks/run.py", *sys.argv[1:]]),
        "machine": machine(),
        "sizes": sizes.__dict__,
        "stub": {"reply_chars": args.reply_chars, "wrong_rate": args.wrong_rate},
        "runs": {},
    }
    runs = results["runs"]
    stub = Stub(dataset=args.dataset, latency_ms=0, reply_chars=args.reply_chars,
                wrong_rate=args.wrong_rate)
    try:
        suite = Suite(stub, args.dataset)
        log("stub capacity")
        results["stub_capacity"] = suite.capacity(5000 if args.quick else 20000)

        log("main workload")
        runs["farm_main_0ms"], run_dir = suite.farm_run(
            "farm_main_0ms", limit=sizes.main, latency_ms=0, concurrency=CONCURRENCY
        )
        results["resume"] = runs["farm_main_0ms"]["resume"]
        results["sequential_startup"] = suite.sequential_startup()
        log("  farm report")
        results["report"] = suite.farm_report(run_dir)
        runs["farm_main_200ms"], _ = suite.farm_run(
            "farm_main_200ms", limit=sizes.main, latency_ms=SLOW_LATENCY_MS,
            concurrency=CONCURRENCY,
        )

        log("side by side")
        limit = sizes.side_by_side
        runs["farm_0ms"], _ = suite.farm_run("farm_0ms", limit=limit, latency_ms=0,
                                             concurrency=CONCURRENCY)
        runs["farm_0ms_c8"], _ = suite.farm_run("farm_0ms_c8", limit=limit, latency_ms=0,
                                                concurrency=8)
        runs["sequential_0ms"] = suite.sequential("sequential_0ms", limit=limit, latency_ms=0)
        if not args.skip_inspect:
            runs["inspect_0ms"] = suite.inspect("inspect_0ms", limit=limit, latency_ms=0)
        runs["farm_200ms"], _ = suite.farm_run("farm_200ms", limit=limit,
                                               latency_ms=SLOW_LATENCY_MS, concurrency=CONCURRENCY)
        runs["sequential_200ms"] = suite.sequential(
            "sequential_200ms", limit=sizes.sequential_slow, latency_ms=SLOW_LATENCY_MS
        )
        if not args.skip_inspect:
            runs["inspect_200ms"] = suite.inspect("inspect_200ms", limit=limit,
                                                  latency_ms=SLOW_LATENCY_MS)
    finally:
        stub.close()

    for name, run in runs.items():
        if name.startswith("farm"):
            add_net_cpu(run, run["startup_cpu_s"])
        elif name.startswith("sequential"):
            add_net_cpu(run, results["sequential_startup"]["cpu_s"])
    results["ratios"] = {
        "farm_vs_sequential_0ms": compare(runs, "farm_0ms", "sequential_0ms"),
        "farm_vs_sequential_200ms": compare(runs, "farm_200ms", "sequential_200ms"),
        "farm_vs_inspect_0ms": compare(runs, "farm_0ms", "inspect_0ms"),
        "farm_vs_inspect_200ms": compare(runs, "farm_200ms", "inspect_200ms"),
    }
    if not args.skip_kv:
        results["kv_reuse"] = kv_reuse(args.dataset, sizes.kv_items)
    results["targets"] = targets(results)

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print_summary(results)
    print(f"\nwritten: {OUT / 'results.json'}")


if __name__ == "__main__":
    try:
        main()
    except subprocess.SubprocessError as error:
        raise SystemExit(f"a benchmark step failed: {error}") from None
