"""mbcost against onnx-tool on large ONNX files, whole process, side by side (issue 23).

The models are written in the bench by mbcost's own exporter (no torch needed): VGG-16
(553 MB), EfficientNet-B7 at 600×600 and ResNet-152 (ResNet-50's YAML with the paper's
[3, 8, 36, 3] stages). Each round runs every command once, in turn; the times are medians of
``--repeats`` rounds; peak memory (RSS) is measured once per command. Targets: mbcost ≤ 0.5×
onnx-tool's time on each file, and its peak memory ≤ 1.2× the file's size. Exit status 1 when a
target is missed, as benchmarks/bench.py.

    python benchmarks/onnx_tool_bench.py [--repeats 3] [--models DIR]

Run by ``make bench`` in .venv-onnxbench (onnx, onnx-tool 1.0.1 and mbcost).
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import peak_rss  # noqa: E402  (the same measure as the other benchmarks)

ROOT = Path(__file__).resolve().parent.parent
ONNX_TOOL = "import sys, onnx_tool; onnx_tool.model_profile(sys.argv[1])"


def resnet152(folder: Path) -> Path:
    """ResNet-152 (He et al., 2016, Table 1): ResNet-50's file with conv3_x and conv4_x repeated
    8 and 36 times (a projection block and 7, and 35, identity blocks)."""
    text = (ROOT / "configs" / "resnet50.yaml").read_text()
    for old, new in (("name: conv3, w: 128, n: 3}", "name: conv3, w: 128, n: 7}"),
                     ("name: conv4, w: 256, n: 5}", "name: conv4, w: 256, n: 35}"),
                     ("name: resnet50\n", "name: resnet152\n")):
        assert old in text, old
        text = text.replace(old, new)
    path = folder / "resnet152.yaml"
    path.write_text(text)
    return path


def models(folder: Path, mbcost: str) -> dict[str, Path]:
    out = {}
    for name, arch in (("ResNet-152", resnet152(folder)), ("EfficientNet-B7", "efficientnet_b7"), ("VGG-16", "vgg16")):
        path = folder / f"{name.lower()}.onnx"
        if not path.exists():
            subprocess.run([mbcost, "export", str(arch), "--to", "onnx", "-o", str(path)], check=True)
        out[name] = path
    return out


def onnx_tool_macs(python: str, path: Path) -> int | None:
    """onnx-tool's total MACs, from the last row of its table (it counts every op it knows)."""
    r = subprocess.run([python, "-c", ONNX_TOOL, str(path)], capture_output=True, text=True, check=True)
    total = [line for line in r.stdout.splitlines() if line.startswith("Total")]
    return int(total[-1].split()[2].replace(",", "")) if total else None


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--models", type=Path, help="where to keep the generated models (default: a temporary folder)")
    a = p.parse_args()
    python = sys.executable
    mbcost = str(Path(python).parent / "mbcost")
    scratch = tempfile.TemporaryDirectory(prefix="mbcost-onnx-bench-")
    folder = a.models or Path(scratch.name)
    folder.mkdir(parents=True, exist_ok=True)
    files = models(folder, mbcost)
    # what both pay before reading a byte: `import onnx` (its ml_dtypes extension is most of it)
    cmds = {("floor", "import onnx"): [python, "-c", "import onnx"]}
    for name, path in files.items():
        cmds[(name, "mbcost")] = [mbcost, "report", str(path), "--format", "json"]
        cmds[(name, "onnx-tool")] = [python, "-c", ONNX_TOOL, str(path)]
    times: dict = {k: [] for k in cmds}
    for _ in range(a.repeats):  # alternated: both tools see the same machine in each round
        for k, cmd in cmds.items():
            t0 = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            times[k].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    rss = {k: peak_rss(cmd) for k, cmd in cmds.items()}
    floor = med[("floor", "import onnx")]

    print(f"## mbcost vs onnx-tool on large ONNX files (median of {a.repeats}, alternated)\n")
    print(f"`python -c 'import onnx'`, which both pay first: {floor:.2f} s, {rss[('floor', 'import onnx')] / 2**20:.0f} MB\n")
    print("| model | file MB | mbcost mult-adds | onnx-tool MACs | mbcost s | onnx-tool s | time ratio "
          "(≤ 0.5×) | above `import onnx` | mbcost peak MB | onnx-tool peak MB | mbcost peak / file (≤ 1.2×) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    failed = 0
    for name, path in files.items():
        size = path.stat().st_size
        ours = json.loads(subprocess.run(cmds[(name, "mbcost")], capture_output=True, text=True,
                                         check=True).stdout)["totals"]["madds"]
        theirs = onnx_tool_macs(python, path)
        t = med[(name, "mbcost")] / med[(name, "onnx-tool")]
        m = rss[(name, "mbcost")] / size
        ok_t, ok_m = t <= 0.5, m <= 1.2
        failed += (not ok_t) + (not ok_m)
        print(f"| {name} | {size / 1e6:.0f} | {ours:,} | {theirs:,} | {med[(name, 'mbcost')]:.2f} | "
              f"{med[(name, 'onnx-tool')]:.2f} | {t:.2f}× {'ok' if ok_t else 'MISSED'} | "
              f"{(med[(name, 'mbcost')] - floor) / (med[(name, 'onnx-tool')] - floor):.2f}× | "
              f"{rss[(name, 'mbcost')] / 2**20:.0f} | {rss[(name, 'onnx-tool')] / 2**20:.0f} | "
              f"{m:.2f}× {'ok' if ok_m else 'MISSED'} |")
    print("\nonnx-tool's MACs include the work of activations, pools and adds, which mbcost counts apart "
          "(its per-element counts, `elements` in JSON): the totals are not meant to agree.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
