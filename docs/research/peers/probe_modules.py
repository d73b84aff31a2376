"""Per-op probe: run every counter on one-op models (run with /work/notes/venv-tv/bin/python).
Input x: (1, 8, 14, 14) = 1568 elements. Prints a CSV table op,counter,value."""
import io, sys, contextlib, warnings, logging
import torch, torch.nn as nn, torch.nn.functional as F
warnings.filterwarnings("ignore"); logging.disable(logging.CRITICAL)
from ptflops import get_model_complexity_info
from fvcore.nn import FlopCountAnalysis
from thop import profile
from torchinfo import summary
import types
# calflops/__init__ imports its Hugging Face entry point (transformers, accelerate, huggingface_hub) at top level;
# stub that one submodule (unused for nn.Module counting) instead of installing those packages.
_hf = types.ModuleType("calflops.flops_counter_hf"); _hf.calculate_flops_hf = None
sys.modules.setdefault("calflops.flops_counter_hf", _hf)
from calflops import calculate_flops
from torch.utils.flop_counter import FlopCounterMode

SHAPE = (1, 8, 14, 14)

class Wrap(nn.Module):
    def __init__(self, fn=None, mod=None, buf=None):
        super().__init__()
        self.fn = fn
        if mod is not None: self.m = mod
        if buf is not None: self.register_buffer("s", buf)
    def forward(self, x):
        return self.fn(self, x)

def mod(m): return Wrap(lambda s, x: s.m(x), mod=m)

OPS = {
  "Conv2d3x3_nobias": mod(nn.Conv2d(8, 16, 3, 2, 1, bias=False)),   # out 16x7x7=784, W=9*8*16*49=56448
  "Conv2d3x3_bias": mod(nn.Conv2d(8, 16, 3, 2, 1, bias=True)),
  "DWConv3x3_nobias": mod(nn.Conv2d(8, 8, 3, 1, 1, groups=8, bias=False)),  # 9*1*8*196=14112
  "BatchNorm2d_affine": mod(nn.BatchNorm2d(8)),
  "BatchNorm2d_noaffine": mod(nn.BatchNorm2d(8, affine=False)),
  "ReLU": mod(nn.ReLU()), "ReLU_inplace": mod(nn.ReLU(inplace=True)),
  "ReLU6": mod(nn.ReLU6(inplace=True)), "Hardswish": mod(nn.Hardswish()),
  "Hardsigmoid": mod(nn.Hardsigmoid()), "SiLU": mod(nn.SiLU()), "Sigmoid": mod(nn.Sigmoid()),
  "F.relu": Wrap(lambda s, x: F.relu(x)), "F.relu6": Wrap(lambda s, x: F.relu6(x)),
  "F.hardswish": Wrap(lambda s, x: F.hardswish(x)), "torch.sigmoid": Wrap(lambda s, x: torch.sigmoid(x)),
  "MaxPool2d_3s2p1": mod(nn.MaxPool2d(3, 2, 1)),          # in 1568, out 8x7x7=392
  "AvgPool2d_2s2": mod(nn.AvgPool2d(2, 2)),
  "AdaptiveAvgPool2d_module": mod(nn.AdaptiveAvgPool2d(1)),  # in 1568, out 8
  "F.adaptive_avg_pool2d": Wrap(lambda s, x: F.adaptive_avg_pool2d(x, (1, 1))),
  "Tensor.mean_keepdim": Wrap(lambda s, x: x.mean((2, 3), keepdim=True)),
  "Dropout_eval": Wrap(lambda s, x: s.m(x), mod=nn.Dropout(0.2)),
  "add_operator": Wrap(lambda s, x: x + x),  "iadd_operator": Wrap(lambda s, x: x.clone().__iadd__(x)),
  "torch.add": Wrap(lambda s, x: torch.add(x, x)), "Tensor.add": Wrap(lambda s, x: x.add(x)),
  "mul_operator_same": Wrap(lambda s, x: x * x), "torch.mul_same": Wrap(lambda s, x: torch.mul(x, x)),
  "mul_operator_bcast": Wrap(lambda s, x: x * s.s, buf=torch.ones(1, 8, 1, 1)),
  "flatten": Wrap(lambda s, x: torch.flatten(x, 1)),
}
LIN = {"Linear_bias_1568to10": mod(nn.Linear(1568, 10)), "Linear_nobias_1568to10": mod(nn.Linear(1568, 10, bias=False))}

def quiet(f):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return f()

COUNTERS = ["ptflops", "ptflops_aten", "fvcore", "thop", "torchinfo", "calflops", "torch_fcm"]

def run_one(model, shape, counter):
    model.eval(); x = torch.randn(*shape)
    if counter in ("ptflops", "ptflops_aten"):
        return quiet(lambda: get_model_complexity_info(model, tuple(shape[1:]), as_strings=False, print_per_layer_stat=False,
                                                       backend="pytorch" if counter == "ptflops" else "aten")[0])
    if counter == "fvcore":
        def fv():
            a = FlopCountAnalysis(model, x); a.unsupported_ops_warnings(False); a.uncalled_modules_warnings(False); return a.total()
        return quiet(fv)
    if counter == "thop":
        return quiet(lambda: profile(model, inputs=(x,), verbose=False)[0])
    if counter == "torchinfo":
        return quiet(lambda: summary(model, input_size=shape, verbose=0).total_mult_adds)
    if counter == "calflops":
        if not any(True for _ in model.parameters()):   # calflops needs next(model.parameters()) for the device
            model.register_parameter("dummy", nn.Parameter(torch.zeros(1)))
        return quiet(lambda: calculate_flops(model, input_shape=tuple(shape), output_as_string=False, print_results=False, print_detailed=False)[1])
    if counter == "torch_fcm":
        def fcm():
            with FlopCounterMode(display=False) as f: model(x)
            return f.get_total_flops()
        return quiet(fcm)

ALL = {**OPS, **LIN}

if __name__ == "__main__":
    import subprocess
    if len(sys.argv) == 3:   # child: one op, one counter (fresh process: a failing counter can leave torch patched)
        name, counter = sys.argv[1], sys.argv[2]
        shape = (1, 1568) if name.startswith("Linear") else SHAPE
        try:
            v = run_one(ALL[name], shape, counter); print("ERR:None" if v is None else int(v))
        except Exception as e:
            print("ERR:" + type(e).__name__)
        sys.exit(0)
    print("op,input_shape," + ",".join(COUNTERS))
    for name in ALL:
        shape = (1, 1568) if name.startswith("Linear") else SHAPE
        vals = [subprocess.run([sys.executable, __file__, name, c], capture_output=True, text=True).stdout.strip().splitlines()[-1:] or ["ERR"] for c in COUNTERS]
        print(name, "x".join(map(str, shape)), *[v[0] for v in vals], sep=",", flush=True)
