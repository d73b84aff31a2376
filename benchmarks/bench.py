"""Whole-process benchmarks of mbcost, reported as ratios (issue 7).

Absolute times on a shared 2-core machine are noise; ratios of commands run side by side,
alternating, median of several repeats, are not. Exit status 1 when a ratio misses its target,
so `make bench` fails loudly on a regression.

    python benchmarks/bench.py [--repeats 7] [--peers PYTHON_WITH_TORCH]
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
GRID30 = ("1.4,1.3,1,0.75,0.5,0.35", "224,192,160,128,96")


@dataclass
class Target:
    what: str
    numerator: str
    denominator: str
    limit: float
    at_most: bool  # True: ratio ≤ limit; False: ratio ≥ limit


def scale_files(folder: Path) -> tuple[Path, Path]:
    """A 99,999-layer network (3 KB of YAML) and a 10,000-entry budgets file (issue 17)."""
    net = folder / "long.yaml"
    rows = ["input: {resolution: 16, channels: 3}", "layers:", "  - {kind: conv, c: 16, k: 3, s: 2}"]
    rows += [f"  - {{kind: separable, c: {16 + 8 * (i % 4)}, n: 1000}}" for i in range(49)]
    rows.append("  - {kind: separable, c: 32, n: 999}")
    net.write_text("\n".join(rows) + "\n")
    budgets = folder / "budgets.yaml"
    alphas = ("1.0", "0.75", "0.5", "0.35")
    entries = [f"  - {{arch: mobilenet_v{1 + i % 2}, name: net{i}, alpha: {alphas[i % 4]}, "
               f"max_madds: 600M, max_params: 5M}}" for i in range(10_000)]
    budgets.write_text("budgets:\n" + "\n".join(entries) + "\n")
    return net, budgets


def measurements_file(folder: Path) -> Path:
    """10,000 measured latencies (issue 26: `latency fit` must be linear in rows; 400 rows took
    370 s): 1,000 distinct networks (V1 and V2, 50 α × 10 resolutions) in 10 families."""
    import random

    rng = random.Random(27)
    alphas = [f"{0.25 + 0.02 * i:.2f}" for i in range(50)]
    rows = ["arch,alpha,resolution,ms,family"] + [
        f"{rng.choice(('mobilenet_v1', 'mobilenet_v2'))},{rng.choice(alphas)},{rng.choice(range(96, 256, 16))},"
        f"{rng.uniform(5, 150):.2f},f{i % 10}" for i in range(10_000)]
    path = folder / "measured10k.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


# issue 17: 1,751 α × 481 resolutions = 842,231 configurations, and the memory check's twin:
# 10× the α (17,501) at 48 resolutions = 840,048 configurations — the same count, so the same
# memory if nothing is held per α
def sweep842k(mbcost: str, out: Path) -> list[str]:
    return [mbcost, "sweep", "mobilenet_v2", "--alpha", "0.25:2.0:0.001", "--resolution", "32:512:1",
            "--format", "csv", "-o", str(out)]


def sweep840k_alpha(mbcost: str, out: Path) -> list[str]:
    return [mbcost, "sweep", "mobilenet_v2", "--alpha", "0.25:2.0:0.0001", "--resolution", "32:79:1",
            "--format", "csv", "-o", str(out)]


def peak_rss(cmd: list[str]) -> int:
    """The peak resident memory of ``cmd``, in bytes: run in a fresh child of a fresh Python,
    whose RUSAGE_CHILDREN then holds that one process (ru_maxrss is in KiB on Linux)."""
    code = ("import resource, subprocess, sys\n"
            "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True, check=True)
    return int(out.stdout) * (1 if sys.platform == "darwin" else 1024)


def commands(mbcost: str, python: str, peers: str | None, scale: tuple[Path, Path] | None = None
             ) -> dict[str, list[str]]:
    cmds = {
        "floor": [python, "-c", "import typer, rich.console, rich.table, yaml"],
        "report": [mbcost, "report", "mobilenet_v2", "--alpha", "0.75"],
        "sweep5104": [mbcost, "sweep", "mobilenet_v2", "--alpha", "0.25:2.0:0.01",
                      "--resolution", "96:320:8", "--format", "csv"],
        "sweep5104mem": [mbcost, "sweep", "mobilenet_v2", "--alpha", "0.25:2.0:0.01",
                         "--resolution", "96:320:8", "--dtype", "fp16", "--bottleneck-chunks", "6",
                         "--format", "csv"],
        "grid30": [mbcost, "sweep", "mobilenet_v2", "--alpha", GRID30[0], "--resolution", GRID30[1],
                   "--format", "csv"],
        "sweep5104dev": [mbcost, "sweep", "mobilenet_v2", "--alpha", "0.25:2.0:0.01",
                         "--resolution", "96:320:8", "--device", "pixel1", "--format", "csv"],
    }
    if scale:
        net, budgets = scale
        cmds["diff100k"] = [mbcost, "diff", str(net), "--alpha-b", "0.5", "--format", "json"]
        cmds["budgets10k"] = [mbcost, "check", "--budgets", str(budgets), "--format", "json"]
        cmds["sweep842k"] = sweep842k(mbcost, net.parent / "big.csv")
        # issue 26: fit over the same grid (346k fit 300M, 108k on the front)
        cmds["fit842k"] = [mbcost, "fit", "mobilenet_v2", "--alpha", "0.25:2.0:0.001", "--resolution", "32:512:1",
                           "--max-madds", "300M", "--format", "csv", "-o", str(net.parent / "fit.csv")]
        cmds["latency10k"] = [mbcost, "latency", "fit", str(measurements_file(net.parent)), "--format", "json"]
    if peers:
        for counter in ("flopcounter", "ptflops", "fvcore"):
            cmds[f"{counter}:1"] = [peers, str(HERE / "peers.py"), "--counter", counter,
                                    "--alpha", "0.75", "--resolution", "224"]
            cmds[f"{counter}:30"] = [peers, str(HERE / "peers.py"), "--counter", counter,
                                     "--alpha", GRID30[0], "--resolution", GRID30[1]]
    return cmds


def available(cmd: list[str]) -> bool:
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if r.returncode:
        print(f"  skipped (exit {r.returncode}): {' '.join(cmd)}\n    {r.stderr.decode()[-300:]}",
              file=sys.stderr)
    return r.returncode == 0


def measure(cmds: dict[str, list[str]], repeats: int) -> dict[str, float]:
    """Median wall time of each command; one round runs every command once, in turn."""
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(repeats):
        for name, cmd in cmds.items():
            t0 = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            times[name].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--peers", help="a Python with torch (+ ptflops, fvcore) for the peer comparison")
    a = p.parse_args()

    bindir = Path(sys.executable).parent
    mbcost = str(bindir / "mbcost") if (bindir / "mbcost").exists() else shutil.which("mbcost")
    import tempfile

    scratch = tempfile.TemporaryDirectory(prefix="mbcost-bench-")
    cmds = commands(mbcost, sys.executable, a.peers, scale_files(Path(scratch.name)))
    cmds = {k: v for k, v in cmds.items() if available(v)}
    med = measure(cmds, a.repeats)
    # memory, once each (not timed): the 842k sweep and its twin with 10× the α
    rss = {}
    if "sweep842k" in cmds:
        rss["sweep842k"] = peak_rss(cmds["sweep842k"])
        rss["sweep840k_alpha"] = peak_rss(sweep840k_alpha(mbcost, Path(scratch.name) / "big2.csv"))
        rss["report"] = peak_rss(cmds["report"])

    targets = [
        Target("report cold start vs the stack's import floor", "report", "floor", 1.25, True),
        # every sweep now carries the memory columns (a peak per configuration): issue 13 allows
        # 1.5× the 2.40× measured without them (RESULTS.md, 2026-11-28), as for the fp16 run below
        Target("5,104-config sweep vs one report", "sweep5104", "report", 3.6, True),
        # issue 17: quadratic alignment made this minutes; most of it now is costing both sides.
        # 80 reports ≈ the 10 s on the machine of benchmarks/RESULTS.md
        Target("99,999-layer diff (same file, α 1 vs 0.5) vs one report", "diff100k", "report", 80, True),
        # issue 17: 22 s when every entry re-read and re-costed its architecture
        Target("10,000-entry budgets file vs one report", "budgets10k", "report", 25, True),
        # issue 13: the memory columns (a peak per configuration) may cost at most 1.5× the sweep
        # without them, whose ratio to one report was 2.40× (RESULTS.md, 2026-11-28): 1.5 × 2.40
        Target("5,104-config sweep with memory columns (fp16, chunked) vs one report", "sweep5104mem",
               "report", 3.6, True),
        # issue 17: 842,231 configurations to a CSV file within 40 reports
        Target("842,231-config sweep to CSV vs one report", "sweep842k", "report", 40, True),
        # issue 26: fit compared all pairs of fitting candidates (past 60 s); now only those
        # within the exact limits are built, and the Pareto front is a sort and a sweep
        Target("fit on the 842,231-config grid vs the sweep on it", "fit842k", "sweep842k", 3, True),
        # latency is not bilinear: the engine times each distinct network at each resolution
        # (74× when it ran a whole analyze per configuration, 2026-12-02)
        Target("5,104-config sweep with --device latency vs one report", "sweep5104dev", "report", 30, True),
        # issue 26: 10,000 measurements must answer in seconds (400 took 370 s with Nelder–Mead
        # refitted per left-out point); now one analysis per distinct network, one NNLS per family
        Target("latency fit on 10,000 measurements vs one report", "latency10k", "report", 30, True),
    ]
    peers = [k[:-2] for k in med if k.endswith(":1")]
    if peers:
        fastest1 = min(peers, key=lambda c: med[f"{c}:1"])
        fastest30 = min(peers, key=lambda c: med[f"{c}:30"])
        targets += [
            Target(f"fastest peer ({fastest1}), one count, vs report", f"{fastest1}:1", "report", 25, False),
            Target(f"fastest peer ({fastest30}), 30-config grid, vs our grid", f"{fastest30}:30", "grid30",
                   40, False),
        ]

    print(f"# mbcost benchmark — {date.today()} — {platform.node()} ({platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}), median of {a.repeats}\n")
    print("| command | median s |\n|---|---:|")
    for k, v in med.items():
        print(f"| `{' '.join(Path(c).name if i == 0 else c for i, c in enumerate(cmds[k]))}` | {v:.3f} |")
    print("\n| ratio | measured | target | |\n|---|---:|---:|---|")
    failed = 0
    for t in targets:
        if t.numerator not in med or t.denominator not in med:
            print(f"| {t.what} | n/a | | skipped |")
            continue
        r = med[t.numerator] / med[t.denominator]
        ok = r <= t.limit if t.at_most else r >= t.limit
        failed += not ok
        print(f"| {t.what} | {r:.2f}× | {'≤' if t.at_most else '≥'} {t.limit}× | {'ok' if ok else 'MISSED'} |")
    if rss:
        print("\n| peak memory (RSS) | MB | ratio | target | |\n|---|---:|---:|---:|---|")
        for what, k, over, limit in (
                ("842,231-config sweep (1,751 α × 481 R), vs 1 GB", "sweep842k", None, 1024),
                ("840,048-config sweep (17,501 α × 48 R), vs the one above", "sweep840k_alpha", "sweep842k", 1.1),
                ("one report", "report", None, None)):
            mb = rss[k] / 2**20
            r = rss[k] / rss[over] if over else None
            ok = True if limit is None else (r <= limit if over else mb <= limit)
            failed += not ok
            print(f"| {what} | {mb:.0f} | {f'{r:.2f}×' if r is not None else ''} | "
                  f"{'' if limit is None else (f'≤ {limit}×' if over else f'≤ {limit} MB')} | "
                  f"{'' if limit is None else ('ok' if ok else 'MISSED')} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
