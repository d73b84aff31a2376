# Rough hand check of ShuffleNet V1 complexity (not a source); see TABLES.md §7.
# Rough hand check of ShuffleNet V1 Table 1/2 complexity (helper arithmetic, not a source).
import math
def net(g, s, conv1=None, fc=True, res=224):
    widths = {1: 144, 2: 200, 3: 240, 4: 272, 8: 384}[g]
    outs = [int(widths * s * k) for k in (1, 2, 4)]
    c1 = conv1 if conv1 is not None else int(24 * s) if s < 1 else 24 * max(1, int(s))  # assumption
    m = 0; p = 0
    h = res // 2; m += 3 * 3 * 3 * c1 * h * h; p += 27 * c1          # conv1 s2
    h //= 2                                                           # maxpool s2 -> 56
    cin = c1
    for stage, (cout, reps) in enumerate(zip(outs, (4, 8, 4))):
        for i in range(reps):
            stride = 2 if i == 0 else 1
            mid = cout // 4
            g1 = 1 if (stage == 0 and i == 0) else g
            branch_out = cout - cin if stride == 2 else cout
            ho = h // stride
            m += (cin // g1) * mid * h * h; p += (cin // g1) * mid          # 1x1 gconv (in res)
            m += 9 * mid * ho * ho; p += 9 * mid                             # dw 3x3
            m += (mid // g) * branch_out * ho * ho; p += (mid // g) * branch_out  # 1x1 gconv
            h = ho; cin = cout
    if fc:
        m += cin * 1000; p += cin * 1000 + 1000
    return m, p
for s, c1 in ((1, 24), (0.5, 12), (0.25, 6), (2, 48), (1.5, 24)):
    print(f"{s}x (conv1={c1}):", "  ".join(f"g={g}: {net(g, s, c1)[0]/1e6:.2f}M MAdds {net(g, s, c1)[1]/1e6:.3f}M params" for g in (1, 2, 3, 4, 8)))
