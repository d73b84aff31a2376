# Rough hand check of head costs (not a source; helper arithmetic only; see TABLES.md §7).
# Usage: python3 handcheck_heads.py [BN_PARAMS_PER_CHANNEL]   (2 = count BN gamma+beta, 0 = not)
# Conventions: TF 'SAME' padding (out = ceil(in/stride)); a conv's MAdds = k*k*(cin/groups)*cout*Hout*Wout;
# conv biases only on prediction/logit layers (and SE); BN, activations, pooling, resizes, adds cost 0 MAdds.
import math, sys
BNP = int(sys.argv[1]) if len(sys.argv) > 1 else 2
def out(h, s): return math.ceil(h / s)  # TF SAME padding
class Net:
    def __init__(s): s.p = 0; s.m = 0
    def conv(s, h, w, cin, cout, k, stride=1, groups=1, bias=False, bn=True):
        ho, wo = out(h, stride), out(w, stride)
        kk = k * k * (cin // groups) * cout
        s.p += kk + (cout if bias else 0) + (BNP * cout if bn else 0)
        s.m += kk * ho * wo
        return ho, wo
def mnv1(n, r, upto=13, a=1.0):
    c = lambda x: int(x * a)
    h = w = r
    h, w = n.conv(h, w, 3, c(32), 3, 2)
    cfg = [(64,1),(128,2),(128,1),(256,2),(256,1),(512,2)] + [(512,1)]*5 + [(1024,2),(1024,1)]
    cin = c(32); taps = {}
    for i, (co, s) in enumerate(cfg[:upto], 1):
        h, w = n.conv(h, w, cin, cin, 3, s, groups=cin)
        h, w = n.conv(h, w, cin, c(co), 1)
        cin = c(co); taps[i] = (h, w, cin)
    return taps
def extras(n, h, w, cin, lite, depths=(512, 256, 256, 128)):
    maps = []
    for d in depths:
        n.conv(h, w, cin, d // 2, 1)
        if lite:
            h, w = n.conv(h, w, d // 2, d // 2, 3, 2, groups=d // 2)
            n.conv(h, w, d // 2, d, 1)
        else:
            h, w = n.conv(h, w, d // 2, d, 3, 2)
        cin = d; maps.append((h, w, d))
    return maps
def heads(n, maps, anchors, slots, lite, k_ssd=1):
    for (h, w, c), a in zip(maps, anchors):
        for outc in (a * slots, a * 4):
            if lite:
                n.conv(h, w, c, c, 3, groups=c)
                n.conv(h, w, c, outc, 1, bias=True, bn=False)
            else:
                n.conv(h, w, c, outc, k_ssd, bias=True, bn=False)
A = [3, 6, 6, 6, 6, 6]
# V2 Table 5: heads + extras on MobileNetV2 taps at 320 (layer_15 expansion 576@20, layer_19 1280@10), 80 classes
for lite in (False, True):
    for slots in (81, 80, 91):
        for anchors in (A, [6]*6):
            n = Net(); maps = [(20, 20, 576), (10, 10, 1280)]
            maps += extras(n, 10, 10, 1280, lite)
            e = (n.p, n.m)
            heads(n, maps, anchors, slots, lite, k_ssd=3)
            print(f"V2T5 {'SSDLite' if lite else 'SSD(3x3)'} slots={slots} anchors0={anchors[0]}: extras {e[0]:,}/{e[1]:,}  extras+heads params {n.p:,} madds {n.m:,}")
# V1 Table 13: SSD300 MobileNet, TF OD API layout, 1x1 heads, 91 slots
for slots in (91, 81):
    n = Net(); t = mnv1(n, 300); bb = (n.p, n.m)
    maps = [t[11], t[13]] + extras(n, *t[13], lite=False)
    heads(n, maps, A, slots, lite=False, k_ssd=1)
    print(f"V1T13 SSD300 slots={slots}: backbone {bb[0]:,}/{bb[1]:,} total params {n.p:,} madds {n.m:,} maps {maps}")
# V2 Table 6: MNet V1 + SSDLite at 320
for slots in (91, 81):
    n = Net(); t = mnv1(n, 320); bb = (n.p, n.m)
    maps = [t[11], t[13]] + extras(n, *t[13], lite=True)
    heads(n, maps, A, slots, lite=True)
    print(f"V2T6 MNetV1+SSDLite320 slots={slots}: backbone {bb[0]:,}/{bb[1]:,} total params {n.p:,} madds {n.m:,}")
def mnv2(n, r):
    h = w = r
    h, w = n.conv(h, w, 3, 32, 3, 2); cin = 32; layer = 1; taps = {}
    for t, c, reps, s in [(1,16,1,1),(6,24,2,2),(6,32,3,2),(6,64,4,2),(6,96,3,1),(6,160,3,2),(6,320,1,1)]:
        for i in range(reps):
            layer += 1; st = s if i == 0 else 1; e = cin * t
            if t != 1:
                n.conv(h, w, cin, e, 1); taps[f'layer_{layer}/expansion_output'] = (h, w, e)
            h, w = n.conv(h, w, e, e, 3, st, groups=e)
            n.conv(h, w, e, c, 1); cin = c
    layer += 1; n.conv(h, w, cin, 1280, 1); taps[f'layer_{layer}'] = (h, w, 1280)
    return taps
for slots in (91, 81):
    n = Net(); t = mnv2(n, 320); bb = (n.p, n.m)
    maps = [t['layer_15/expansion_output'], t['layer_19']] + extras(n, *t['layer_19'], lite=True)
    heads(n, maps, A, slots, lite=True)
    print(f"V2T6 MNetV2+SSDLite320 slots={slots}: backbone {bb[0]:,}/{bb[1]:,} total params {n.p:,} madds {n.m:,}")
# V1 Table 13 Faster-RCNN MobileNet: RPN on Conv2d_11 (stride 16), conv12-13 per proposal (TF OD API split)
def frcnn(H, W, props=300, crop=14, maxpool=True, slots=91, rpn_depth=512, anchors=12):
    n = Net(); t = mnv1(n, H, upto=11) if H == W else None
    if H != W:
        n2 = Net(); # non-square: redo with h,w
        h, w = H, W
        h, w = n2.conv(h, w, 3, 32, 3, 2); cin = 32
        cfg = [(64,1),(128,2),(128,1),(256,2),(256,1),(512,2)] + [(512,1)]*5
        for co, s in cfg:
            h, w = n2.conv(h, w, cin, cin, 3, s, groups=cin); h, w = n2.conv(h, w, cin, co, 1); cin = co
        n = n2; fh, fw = h, w
    else:
        fh, fw, _ = t[11]
    bb = (n.p, n.m)
    n.conv(fh, fw, 512, rpn_depth, 3, bias=True, bn=False)          # RPN 3x3 (first_stage_box_predictor_depth)
    n.conv(fh, fw, rpn_depth, anchors * 2, 1, bias=True, bn=False)    # objectness
    n.conv(fh, fw, rpn_depth, anchors * 4, 1, bias=True, bn=False)    # boxes
    first = (n.p, n.m)
    s = Net(); c = crop // 2 if maxpool else crop
    h, w = s.conv(c, c, 512, 512, 3, 2, groups=512); s.conv(h, w, 512, 1024, 1)
    s.conv(h, w, 1024, 1024, 3, groups=1024); s.conv(h, w, 1024, 1024, 1)
    s.p += 1024 * slots + slots + 1024 * (slots - 1) * 4 + (slots - 1) * 4; s.m += 1024 * slots + 1024 * (slots - 1) * 4
    print(f"FRCNN {H}x{W} crop={crop} maxpool={maxpool}: backbone(conv1-11) {bb[1]:,} first-stage {first[1]:,}  per-proposal {s.m:,}  total madds {first[1] + props * s.m:,}  params {first[0] + s.p:,}")
for H, W in [(300, 300), (600, 600), (300, 400), (600, 800), (600, 1024)]:
    for mp in (True, False):
        frcnn(H, W, maxpool=mp)
def mkdiv(v, d=8):
    nv = max(d, int(v + d / 2) // d * d)
    return nv + d if nv < 0.9 * v else nv
def mnv3large(n, r, reduce=False):
    h = w = r
    h, w = n.conv(h, w, 3, 16, 3, 2); cin = 16; taps = {}
    spec = [(1,16,3,1,0),(4,24,3,2,0),(3,24,3,1,0),(3,40,5,2,1),(3,40,5,1,1),(3,40,5,1,1),(6,80,3,2,0),(2.5,80,3,1,0),
            (184/80,80,3,1,0),(184/80,80,3,1,0),(6,112,3,1,1),(6,112,3,1,1),(6,160,5,2,1),(6,160,5,1,1),(6,160,5,1,1)]
    for idx, (ef, c, k, s, se) in enumerate(spec, 1):
        if reduce and idx >= 13: c //= 2
        e = mkdiv(cin * ef)
        if e > cin:
            n.conv(h, w, cin, e, 1)
        taps[f'layer_{idx+1}/expansion_output'] = (h, w, e)
        h, w = n.conv(h, w, e, e, k, s, groups=e)
        if se:
            q = mkdiv(e / 4); n.p += e * q + q + q * e + e; n.m += 2 * e * q
        n.conv(h, w, e, c, 1); cin = c
    last = 480 if reduce else 960
    n.conv(h, w, cin, last, 1); taps['layer_17'] = (h, w, last)
    return taps
for reduce in (False, True):
    for slots in (91, 81):
        n = Net(); t = mnv3large(n, 320, reduce); bb = (n.p, n.m)
        maps = [t['layer_14/expansion_output'], t['layer_17']] + extras(n, *t['layer_17'], lite=True)
        heads(n, maps, A, slots, lite=True)
        print(f"V3T6 V3-Large{'†' if reduce else ''}+SSDLite320 slots={slots}: backbone {bb[0]:,}/{bb[1]:,} total params {n.p:,} madds {n.m:,} maps {maps[:2]}")
print('--- DeepLab (V2 Table 7), 513x513, 21 classes')
def sd(d, s): return int((d - 1) * s + 1)
def mnv2_os(n, r, os_, upto=18):
    h = w = r; stride = 2
    h, w = n.conv(h, w, 3, 32, 3, 2); cin = 32; layer = 1
    for t, c, reps, s in [(1,16,1,1),(6,24,2,2),(6,32,3,2),(6,64,4,2),(6,96,3,1),(6,160,3,2),(6,320,1,1)]:
        for i in range(reps):
            layer += 1; st = s if i == 0 else 1
            if st == 2 and stride >= os_: st = 1
            elif st == 2: stride *= 2
            e = cin * t
            if t != 1: n.conv(h, w, cin, e, 1)
            h, w = n.conv(h, w, e, e, 3, st, groups=e); n.conv(h, w, e, c, 1); cin = c
            if layer == upto: return h, w, cin
def mnv1_os(n, r, os_):
    h = w = r; stride = 2
    h, w = n.conv(h, w, 3, 32, 3, 2); cin = 32
    for co, s in [(64,1),(128,2),(128,1),(256,2),(256,1),(512,2)] + [(512,1)]*5 + [(1024,2),(1024,1)]:
        if s == 2 and stride >= os_: s = 1
        elif s == 2: stride *= 2
        h, w = n.conv(h, w, cin, cin, 3, s, groups=cin); h, w = n.conv(h, w, cin, co, 1); cin = co
    return h, w, cin
def deeplab(backbone, r, os_, aspp, sep=False, classes=21):
    n = Net(); h, w, c = backbone(n, r, os_)
    n.conv(1, 1, c, 256, 1)                       # image pooling 1x1 (+BN)
    n.conv(h, w, c, 256, 1)                       # aspp0
    nb = 2
    if aspp:
        for _ in (1, 2, 3):
            if sep:
                n.conv(h, w, c, c, 3, groups=c); n.conv(h, w, c, 256, 1)
            else:
                n.conv(h, w, c, 256, 3)
            nb += 1
    n.conv(h, w, 256 * nb, 256, 1)                # concat_projection
    n.conv(h, w, 256, classes, 1, bias=True, bn=False)   # logits
    return n.p, n.m, (h, w)
scales = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
for name, bb in (('MNetV1', mnv1_os), ('MNetV2*', mnv2_os)):
    for aspp, sep in ((True, False), (True, True), (False, False)):
        for os_ in (16, 8):
            p, m, hw = deeplab(bb, 513, os_, aspp, sep)
            mf = sum(2 * deeplab(bb, sd(513, s), os_, aspp, sep)[1] for s in scales)
            print(f"{name} ASPP={aspp} sep={sep} OS={os_}: feat {hw} params {p:,} madds(1 scale) {m:,}  MF(6 scales x2 flips) {mf:,}")
print('--- V3 paper Table 7 row 1 style: MNetV2* + R-ASPP(256), 19 classes, OS16')
def deeplab_hw(H, W, os_, classes=19):
    n = Net(); h, w = H, W
    # reuse mnv2_os with non-square: quick inline
    stride = 2; h, w = n.conv(h, w, 3, 32, 3, 2); cin = 32; layer = 1
    for t, c, reps, s in [(1,16,1,1),(6,24,2,2),(6,32,3,2),(6,64,4,2),(6,96,3,1),(6,160,3,2),(6,320,1,1)]:
        for i in range(reps):
            layer += 1; st = s if i == 0 else 1
            if st == 2 and stride >= os_: st = 1
            elif st == 2: stride *= 2
            e = cin * t
            if t != 1: n.conv(h, w, cin, e, 1)
            h, w = n.conv(h, w, e, e, 3, st, groups=e); n.conv(h, w, e, c, 1); cin = c
    n.conv(1, 1, cin, 256, 1); n.conv(h, w, cin, 256, 1); n.conv(h, w, 512, 256, 1)
    n.conv(h, w, 256, classes, 1, bias=True, bn=False)
    return n.p, n.m, (h, w)
for H, W in ((1024, 2048), (1025, 2049), (512, 1024), (513, 1025)):
    print(H, W, deeplab_hw(H, W, 16))
print('--- V1 Tables 10/12/14: MobileNetV1 body conv1..conv13 (no FC); add FC = 1024*alpha*classes')
for a, r in ((1.0,224),(1.0,192),(0.75,224),(0.75,192),(0.5,224),(0.25,224),(1.0,160),(1.0,128),(0.75,128),(0.5,128),(0.25,128)):
    n = Net(); mnv1(n, r, 13, a)
    fc = int(1024 * a)
    print(f"alpha={a} R={r}: body madds {n.m:,} params {n.p:,}; +FC120 madds {n.m + fc*120:,} params {n.p + fc*120 + 120:,}; +FC1000 madds {n.m + fc*1000:,}")
