"""Regenerate the shipped `pixel1` latency profile from TF-slim's published MobileNetV2 latencies.

    .venv/bin/python tools/fit_pixel1.py            # prints the fit, writes mbcost/analyses/devices/pixel1.yaml
    .venv/bin/python tools/fit_pixel1.py --check    # prints only; exit 1 if the shipped file differs

Data: mbcost/analyses/data/tfslim_mobilenet_v2.csv — the 22 'Mobile CPU (ms) Pixel 1' values of
tensorflow/models research/slim/nets/mobilenet/README.md @ 60c28f91 (float checkpoints, TF-Lite,
one large core, batch 1). The model and the fit: mbcost.core.latency, mbcost.analyses.latency.
Not run at test time; tests/test_latency.py refits the same data and checks the LOO error.
"""
from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

from mbcost.analyses.accuracy import read_csv
from mbcost.analyses.latency import Measured, fit_profile

OUT = Path(__file__).resolve().parents[1] / "mbcost" / "analyses" / "devices" / "pixel1.yaml"
SOURCE = ("22 'Mobile CPU (ms) Pixel 1' latencies of TF-slim's float MobileNetV2 checkpoints, "
          "tensorflow/models research/slim/nets/mobilenet/README.md @ 60c28f91c1a69098fa8d69e4430705981fc4e132 "
          "(mbcost/analyses/data/tfslim_mobilenet_v2.csv); fitted by tools/fit_pixel1.py")


def measurements() -> list[Measured]:
    return [Measured("mobilenet_v2", Fraction(r["alpha"]), int(r["resolution"]), float(r["pixel1_cpu_ms"]), i)
            for i, r in enumerate(read_csv("tfslim_mobilenet_v2.csv"), start=2)]


def main(argv: list[str]) -> int:
    fit = fit_profile(measurements(), "roofline", name="pixel1",
                      description="Google Pixel 1, one large (Kryo) core, TensorFlow Lite (2018), float32, batch 1",
                      source=SOURCE)
    d = fit.device
    print(f"rate_conv {d.rate_conv:.4f} GMAC/s, rate_dw {d.rate_dw:.4f} GMAC/s, bandwidth {d.bandwidth:.4f} GB/s, "
          f"overhead {d.overhead:.4f} us/layer")
    print(f"fit MAPE {fit.mape:.2f}%, leave-one-out MAPE {fit.loo_mape:.2f}% (worst {fit.loo_max:.1f}%)")
    for p in fit.points:
        m = p.measured
        print(f"  {float(m.alpha):4} {m.resolution:3}  published {m.ms:6.1f}  fit {p.predicted_ms:6.1f} "
              f"({100 * p.error:+5.1f}%)  LOO {p.loo_ms:6.1f} ({100 * p.loo_error:+5.1f}%)")
    text = fit.yaml()
    if "--check" in argv:
        return 0 if OUT.exists() and OUT.read_text() == text else 1
    OUT.write_text(text)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
