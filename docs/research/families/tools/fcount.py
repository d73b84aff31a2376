"""Throw-away reference interpreter of the *draft* v2 format (/work/notes/FORMAT.md), written
only to check the family configs in /work/notes/families against torchvision's ground truth.
It is not mbcost and does not share code with it. Exact arithmetic (Fraction) throughout.

usage: python fcount.py FILE.yaml [--variant V] [--alpha A] [--depth D] [--resolution R] [--layers]
prints: madds, params under 'paper' (weights only), 'torchvision' (weights + 2/BN channel + biases)
"""
import ast, math, sys, argparse
from fractions import Fraction as F
import yaml

COMPOSITE = {"separable", "bottleneck", "se", "mbconv"}


def frac(x):
    if isinstance(x, bool):
        raise TypeError(x)
    if isinstance(x, (int, F)):
        return F(x)
    if isinstance(x, float):
        return F(repr(x))
    return F(str(x))


class Expr:
    OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
           ast.Div: lambda a, b: F(a) / F(b), ast.FloorDiv: lambda a, b: F(a) // F(b)}

    @classmethod
    def ev(cls, s, env):
        if not isinstance(s, str):
            return s
        try:
            tree = ast.parse(s, mode="eval")
        except SyntaxError:
            return s  # a plain string (act names, op names)
        if isinstance(tree.body, ast.Name) and tree.body.id not in env:
            return s
        return cls._ev(tree.body, env)

    @classmethod
    def _ev(cls, n, env):
        if isinstance(n, ast.Constant):
            return frac(n.value) if not isinstance(n.value, str) else n.value
        if isinstance(n, ast.Name):
            v = env[n.id]
            return cls.ev(v, env) if isinstance(v, str) else v
        if isinstance(n, ast.BinOp):
            return cls.OPS[type(n.op)](cls._ev(n.left, env), cls._ev(n.right, env))
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            return -cls._ev(n.operand, env)
        if isinstance(n, ast.Call) and n.func.id in ("min", "max"):
            f = min if n.func.id == "min" else max
            return f(*[cls._ev(a, env) for a in n.args])
        raise ValueError(f"bad expression {ast.dump(n)}")


def as_int(v, what):
    v = F(v)
    if v.denominator != 1:
        raise ValueError(f"{what}: {v} is not an integer")
    return int(v)


class Net:
    def __init__(self, doc, alpha=1, depth=1, resolution=None, variant=None):
        self.doc = doc
        var = (doc.get("variants") or {}).get(variant, {}) if variant else {}
        if variant and variant not in (doc.get("variants") or {}):
            raise KeyError(f"no variant {variant}")
        self.alpha = frac(var.get("alpha", alpha))
        self.depth = frac(var.get("depth", depth))
        res = var.get("resolution", resolution or doc["input"]["resolution"])
        if resolution:
            res = resolution
        self.res = res
        self.params = dict(doc.get("params") or {})
        self.params.update(var.get("params") or {})
        self.classes = doc.get("classes", 1000)
        self.params.setdefault("classes", self.classes)  # FORMAT_GAPS: `classes` usable in expressions
        w = doc.get("width") or {"rule": "floor", "min": 8}
        self.wrule, self.wdiv, self.wmin = w.get("rule", "floor"), w.get("divisor", 8), w.get("min", 8)
        self.bn_default = doc.get("batch_norm", False)
        self.act_default = doc.get("activation", "relu")
        self.blocks = doc.get("blocks") or {}
        self.nodes = []      # dicts
        self.byname = {}
        self.counter = {}
        self.alias = {}

    # --- width
    def round_w(self, v):
        v = F(v)
        if self.wrule == "floor":
            return max(int(math.floor(v)), self.wmin)
        d = self.wdiv
        n = max(self.wmin, int(math.floor(v + F(d, 2))) // d * d)
        if n < F(9, 10) * v:
            n += d
        return n

    def width(self, c, scale):
        c = F(c)
        if scale is False or scale == "false":
            return as_int(c, "c")
        if scale == "up" and self.alpha <= 1:
            return as_int(c, "c")
        if self.alpha == 1:
            return as_int(c, "c")
        return self.round_w(c * self.alpha)

    # --- naming
    def auto(self, kind):
        self.counter[kind] = self.counter.get(kind, 0) + 1
        return f"{kind}{self.counter[kind]}"

    def add_node(self, name, kind, inputs, shape, macs=0, weights=0, bn=0, bias=0, info=""):
        node = dict(name=name, kind=kind, inputs=inputs, shape=shape, macs=macs, weights=weights,
                    bn=bn, bias=bias, info=info)
        if name in self.byname:
            raise ValueError(f"duplicate layer name {name}")
        self.nodes.append(node)
        self.byname[name] = node
        return node

    # --- spatial
    @staticmethod
    def out_dim(D, k, s, p, d=1, ceil=False, pool=False):
        if p == "same":
            return -(-D // s)
        if p == "valid":
            p = 0
        ph = p
        num = D + 2 * ph - d * (k - 1) - 1
        if ceil:
            o = -(-num // s) + 1
            if (o - 1) * s >= D + ph:
                o -= 1
        else:
            o = num // s + 1
        if o < 1:
            raise ValueError("map shrinks below 1x1")
        return o

    def pair(self, v):
        if isinstance(v, (list, tuple)):
            return [as_int(x, "k/s") for x in v]
        return [as_int(v, "k/s")] * 2

    # --- rows
    def run(self):
        inp = self.doc["input"]
        r = self.res
        H, W = (r, r) if not isinstance(r, list) else r
        self.add_node("input", "input", [], (inp.get("channels", 3), H, W))
        last = "input"
        for row in self.doc["layers"]:
            last = self.row(row, last, scope="", env=self.params, local={})
        return self

    def resolve(self, ref, local, scope):
        if ref in local:
            return local[ref]
        if scope and (scope + "." + ref) in self.byname:
            return scope + "." + ref
        if scope and (scope + "." + ref) in self.alias:
            return self.alias[scope + "." + ref]
        if ref in self.alias:
            return self.alias[ref]
        if ref in self.byname:
            return ref
        raise KeyError(f"unknown layer {ref!r} (scope {scope!r})")

    def row(self, row, prev, scope, env, local):
        row = dict(row)
        kind = row.pop("kind")
        n_stated = "n" in row
        n = as_int(Expr.ev(row.pop("n", 1), env), "n")
        if n_stated and self.depth != 1:
            n = math.ceil(n * self.depth)
        base = row.pop("name", None)
        src = row.pop("from", None)
        for i in range(n):
            r = dict(row)
            if i > 0:
                r["s"] = 1
            if base:
                nm = base if n == 1 else f"{base}.{i + 1}"
            else:
                nm = None
            inputs = None
            if src is not None and i == 0:
                srcs = src if isinstance(src, list) else [src]
                inputs = [self.resolve(Expr.ev(x, env) if False else x, local, scope) for x in srcs]
            else:
                inputs = [prev]
            prev = self.one(kind, r, nm, inputs, scope, env, local)
            if nm:
                local[nm] = prev
                self.alias[f"{scope}.{nm}" if scope else nm] = prev
        return prev

    def full(self, nm, kind, scope):
        if nm is None:
            nm = self.auto("block" if kind in COMPOSITE or kind in self.blocks else kind)
        return f"{scope}.{nm}" if scope else nm

    def g(self, r, key, env, default=None):
        v = r.get(key, default)
        return Expr.ev(v, env) if isinstance(v, str) else v

    def one(self, kind, r, nm, inputs, scope, env, local):
        shape = self.byname[inputs[0]]["shape"]
        C, H, W = shape
        name = self.full(nm, kind, scope)
        g = lambda k, d=None: self.g(r, k, env, d)
        act = g("act", self.act_default)
        if kind in ("conv", "pwconv", "dwconv"):
            k = self.pair(g("k", 3 if kind == "dwconv" else 1)) if kind != "pwconv" else [1, 1]
            s = self.pair(g("s", 1))
            d = as_int(g("d", 1), "d")
            pad = g("padding", "same")
            if kind == "dwconv":
                N = C * as_int(g("multiplier", 1), "multiplier")
                groups = C
            else:
                N = self.width(g("c"), g("scale", True))
                groups = as_int(g("groups", 1), "groups")
            if C % groups or N % groups:
                raise ValueError(f"{name}: groups {groups} do not divide {C}->{N}")
            pp = self.pair(pad) if not isinstance(pad, str) else [pad, pad]
            Ho = self.out_dim(H, k[0], s[0], pp[0], d)
            Wo = self.out_dim(W, k[1], s[1], pp[1], d)
            wts = k[0] * k[1] * (C // groups) * N
            bn = g("bn", self.bn_default)
            bias = g("bias", False)
            return self.add_node(name, kind, inputs, (N, Ho, Wo), wts * Ho * Wo, wts, N if bn else 0,
                                 N if bias else 0, f"k{k} s{s} g{groups} {act}")["name"]
        if kind == "pool":
            if g("global", False):
                return self.add_node(name, kind, inputs, (C, 1, 1))["name"]
            k = self.pair(g("k"))
            s = self.pair(g("s", g("k")))
            pad = g("padding", "same")
            pp = self.pair(pad) if not isinstance(pad, str) else [pad, pad]
            ceil = g("ceil", False)
            Ho = self.out_dim(H, k[0], s[0], pp[0], 1, ceil)
            Wo = self.out_dim(W, k[1], s[1], pp[1], 1, ceil)
            return self.add_node(name, kind, inputs, (C, Ho, Wo), info=f"{g('op')} k{k} s{s}")["name"]
        if kind == "fc":
            M = C * H * W
            N = as_int(g("c", self.classes), "c") if "c" in r else self.classes
            if "c" in r and g("scale", False):
                N = self.width(g("c"), True)
            bias = g("bias", True)
            return self.add_node(name, kind, inputs, (N, 1, 1), M * N, M * N, 0, N if bias else 0)["name"]
        if kind in ("add", "mul", "concat"):
            shapes = [self.byname[x]["shape"] for x in inputs]
            if kind == "concat":
                if len({s_[1:] for s_ in shapes}) != 1:
                    raise ValueError(f"{name}: concat shapes {shapes}")
                out = (sum(s_[0] for s_ in shapes), shapes[0][1], shapes[0][2])
            elif kind == "add":
                if len(set(shapes)) != 1:
                    raise ValueError(f"{name}: add shapes {shapes}")
                out = shapes[0]
            else:
                out = shapes[0]
                gs = shapes[1]
                if gs[0] != out[0] or not (gs[1:] == (1, 1) or gs == out):
                    raise ValueError(f"{name}: mul shapes {shapes}")
            return self.add_node(name, kind, inputs, out, info=str(act))["name"]
        if kind == "split":
            sizes = [as_int(Expr.ev(x, env), "sizes") for x in r["sizes"]]
            if sum(sizes) != C:
                raise ValueError(f"{name}: split {sizes} of {C}")
            self.add_node(name, kind, inputs, shape)
            for i, sz in enumerate(sizes):
                self.add_node(f"{name}.{i}", "part", [name], (sz, H, W))
            local[name.split(".")[-1]] = name
            return f"{name}.{len(sizes) - 1}"
        if kind in ("shuffle", "act", "dropout"):
            return self.add_node(name, kind, inputs, shape, info=str(act))["name"]
        if kind == "flatten":
            return self.add_node(name, kind, inputs, (C * H * W, 1, 1))["name"]
        # ---- composites
        if kind == "se":
            return self.se(name, inputs[0], C, g("ratio", F(1, 4)), C, g("divisor", 8), g("act", "relu"),
                           g("gate", "hsigmoid"))
        if kind == "mbconv":
            return self.mbconv(name, inputs[0], r, env)
        if kind == "separable":
            x = self.one("dwconv", {"k": r.get("k", 3), "s": r.get("s", 1), "act": r.get("act", self.act_default)},
                         "dw", inputs, name, env, {})
            return self.one("conv", {"c": r["c"], "k": 1, "act": r.get("act", self.act_default),
                                     "scale": r.get("scale", True)}, "pw", [x], name, env, {})
        if kind in self.blocks:
            return self.user_block(name, kind, r, inputs[0], env)
        raise ValueError(f"unknown kind {kind}")

    def se(self, scope, x, C, ratio, base, divisor, act, gate):
        ratio, divisor = F(ratio), as_int(divisor, "divisor")
        sq = int(math.floor(F(base) * ratio))
        if divisor > 1:
            d = divisor
            v = F(sq)
            n = max(d, int(math.floor(v + F(d, 2))) // d * d)
            if n < F(9, 10) * v:
                n += d
            sq = n
        else:
            sq = max(1, sq)
        shape = self.byname[x]["shape"]
        p = self.add_node(f"{scope}.se.pool", "pool", [x], (C, 1, 1))
        r1 = self.add_node(f"{scope}.se.reduce", "conv", [p["name"]], (sq, 1, 1), C * sq, C * sq, 0, sq, act)
        r2 = self.add_node(f"{scope}.se.expand", "conv", [r1["name"]], (C, 1, 1), C * sq, C * sq, 0, C, gate)
        return self.add_node(f"{scope}.se.mul", "mul", [x, r2["name"]], shape)["name"]

    def mbconv(self, name, x, r, env):
        g = lambda k, d=None: self.g(r, k, env, d)
        Cin, H, W = self.byname[x]["shape"]
        act = g("act", self.act_default)
        if "exp" in r:
            E = self.width(g("exp"), g("scale", True))
        else:
            t = frac(g("t"))
            E = self.round_w(Cin * t) if Cin * t != int(Cin * t) or self.wrule != "floor" else int(Cin * t)
        N = self.width(g("c"), g("scale", True))
        k, s = g("k", 3), g("s", 1)
        bn = g("bn", self.bn_default)
        h = x
        if E != Cin:
            h = self.one("conv", {"c": E, "k": 1, "act": act, "scale": False, "bn": bn}, "expand", [h], name, env, {})
        h = self.one("dwconv", {"k": k, "s": s, "act": act, "bn": bn}, "dw", [h], name, env, {})
        if g("se"):
            base = Cin if g("se_base", "exp") == "in" else E
            h = self.se(name, h, E, g("se"), base, g("se_divisor", 8), g("se_act", "relu"), g("se_gate", "hsigmoid"))
        h = self.one("conv", {"c": N, "k": 1, "act": "linear", "scale": False, "bn": bn}, "project", [h], name, env, {})
        if s == 1 and Cin == N and g("residual", True):
            h = self.add_node(f"{name}.add", "add", [x, h], self.byname[h]["shape"])["name"]
        return h

    def user_block(self, name, kind, r, x, env):
        b = self.blocks[kind]
        benv = dict(env)
        for p in b.get("params", []):
            if p in r:
                benv[p] = Expr.ev(r[p], env) if isinstance(r[p], str) else r[p]
        benv["in_c"] = self.byname[x]["shape"][0]
        local = {"in": x}
        saved = self.counter
        self.counter = {}
        prev = x
        for row in b["rows"]:
            prev = self.row(row, prev, scope=name, env=benv, local=local)
        self.counter = saved
        return prev

    # --- totals
    def totals(self):
        madds = sum(n["macs"] for n in self.nodes)
        w = sum(n["weights"] for n in self.nodes)
        bn = sum(n["bn"] for n in self.nodes)
        b = sum(n["bias"] for n in self.nodes)
        return dict(madds=madds, weights=w, bn_channels=bn, biases=b, paper_params=w,
                    torchvision_params=w + 2 * bn + b, with_bias=w + b)


def load(path):
    with open(path) as f:
        return yaml.safe_load(f)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--variant")
    ap.add_argument("--alpha", default=1)
    ap.add_argument("--depth", default=1)
    ap.add_argument("--resolution", type=int)
    ap.add_argument("--layers", action="store_true")
    a = ap.parse_args(argv)
    net = Net(load(a.file), a.alpha, a.depth, a.resolution, a.variant).run()
    if a.layers:
        for n in net.nodes:
            print(f"{n['name']:34s} {n['kind']:8s} {str(n['shape']):18s} macs={n['macs']:>12,} w={n['weights']:>10,} "
                  f"bn={n['bn']} b={n['bias']} {n['info']} <- {n['inputs']}")
    t = net.totals()
    print(f"{a.file} variant={a.variant} alpha={net.alpha} depth={net.depth} res={net.res}: " +
          " ".join(f"{k}={v:,}" for k, v in t.items()))
    return net


if __name__ == "__main__":
    main()
