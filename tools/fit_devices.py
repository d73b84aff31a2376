"""Regenerate the built-in latency profiles (pixel1, pixel2, pixel3) from the published latencies.

    .venv/bin/python tools/fit_devices.py            # prints each fit, writes mbcost/analyses/devices/*.yaml
    .venv/bin/python tools/fit_devices.py --check    # prints only; exit 1 if a shipped file differs

Data: mbcost/analyses/data/latency.csv — every published latency of each phone, with its
citation. How each profile is fitted (which constants are free, which profile a scaled one
scales): mbcost.analyses.latency.RECIPES. tests/test_latency.py refits and checks the shipped
constants equal these.
"""
from __future__ import annotations

import sys
from pathlib import Path

from mbcost.analyses.latency import builtin_yaml, fit_builtins
from mbcost.render.latency import latency_text

OUT = Path(__file__).resolve().parents[1] / "mbcost" / "analyses" / "devices"


def main(argv: list[str]) -> int:
    differs = False
    for device, fits in fit_builtins().items():
        for f in fits:
            print(latency_text(f))
        text = builtin_yaml(device, fits)
        path = OUT / f"{device}.yaml"
        if "--check" in argv:
            differs |= not path.exists() or path.read_text() != text
        else:
            path.write_text(text)
            print(f"wrote {path}\n")
    return 1 if differs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
