"""The peers' way of counting: build a PyTorch MobileNetV2, trace a forward pass, count.

Run with a Python that has torch (and ptflops / fvcore for those counters):
    python benchmarks/peers.py --counter flopcounter --alpha 0.75 --resolution 224
    python benchmarks/peers.py --counter ptflops --alpha 1.4,1.3,1,0.75,0.5,0.35 --resolution 224,192,160,128,96

The model is written here (torchvision's import breaks beside the local torch wheel); it is
the same network as configs/mobilenet_v2.yaml, so the counts can be compared with ours.
"""
import argparse
import sys


def make_divisible(v, divisor=8, min_value=8):
    n = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return n + divisor if n < 0.9 * v else n


def mobilenet_v2(alpha=1.0, classes=1000):
    from torch import nn

    def cbr(i, o, k=3, s=1, g=1):
        return [nn.Conv2d(i, o, k, s, k // 2, groups=g, bias=False), nn.BatchNorm2d(o), nn.ReLU6()]

    class Block(nn.Module):
        def __init__(self, i, o, s, t):
            super().__init__()
            h = i * t
            layers = (cbr(i, h, 1) if t != 1 else []) + cbr(h, h, 3, s, h)
            layers += [nn.Conv2d(h, o, 1, bias=False), nn.BatchNorm2d(o)]
            self.body, self.res = nn.Sequential(*layers), s == 1 and i == o

        def forward(self, x):
            return x + self.body(x) if self.res else self.body(x)

    rows = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
            (6, 160, 3, 2), (6, 320, 1, 1)]
    c = make_divisible(32 * alpha)
    last = make_divisible(1280 * alpha) if alpha > 1 else 1280
    mods = cbr(3, c, 3, 2)
    for t, co, n, s in rows:
        o = make_divisible(co * alpha)
        for j in range(n):
            mods.append(Block(c, o, s if j == 0 else 1, t))
            c = o
    mods += cbr(c, last, 1) + [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(last, classes)]
    return nn.Sequential(*mods).eval()


def count(counter, model, res):
    import torch

    if counter == "ptflops":
        from ptflops import get_model_complexity_info

        macs, _ = get_model_complexity_info(model, (3, res, res), as_strings=False,
                                            print_per_layer_stat=False, verbose=False)
        return int(macs)
    x = torch.zeros(1, 3, res, res)
    if counter == "fvcore":
        from fvcore.nn import FlopCountAnalysis

        a = FlopCountAnalysis(model, x)
        a.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        return int(a.total())
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        model(x)
    return fc.get_total_flops() // 2  # FLOPs → mult-adds


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--counter", choices=["ptflops", "fvcore", "flopcounter"], default="flopcounter")
    p.add_argument("--alpha", default="1.0")
    p.add_argument("--resolution", default="224")
    a = p.parse_args()
    for alpha in (float(x) for x in a.alpha.split(",")):
        model = mobilenet_v2(alpha)
        for res in (int(r) for r in a.resolution.split(",")):
            print(f"{alpha},{res},{count(a.counter, model, res)}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
