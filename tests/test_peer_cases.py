"""The counters' own unit-test cases (tests/data/peer_cases.yaml): `mbcost compare` on each case's
architecture file gives every counter's measured total on the same torch module, and says so
where the counter crashes instead of predicting a number.

The totals were measured by the counters themselves (tests/crosscheck/_counters.py on the
modules of tests/crosscheck/_peer_cases.py); the cross-check tier measures them again and checks
they still are what this file records (tests/crosscheck/test_peer_cases.py)."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

CASES = yaml.safe_load((Path(__file__).parent / "data" / "peer_cases.yaml").read_text())
COUNTERS = ("ptflops", "ptflops-aten", "fvcore", "thop", "torchinfo", "calflops", "flopcounter")


def write_case(tmp_path: Path, case_id: str) -> Path:
    f = tmp_path / f"{case_id}.yaml"
    f.write_text(yaml.safe_dump({"name": case_id, **CASES[case_id]["net"]}, sort_keys=False, allow_unicode=True))
    return f


def test_the_cases_come_from_every_counters_tests_and_record_every_counter():
    # ptflops' common_test.py: conv, conv_t, fc, fc_multidim, interpolate by size and scale, ten_matmul;
    # thop's conv2d (with and without bias), linear, relu; fvcore's 2-d convs (7), linear (2),
    # batchnorm, ThreeNet, group_norm and upsample handles; torchinfo's LinearModel,
    # SingleInputNet, RecursiveNet, ReuseLinear, SharedModuleInNestedList; 14 ops; the issue's
    sources = Counter(c["from"].split()[0].rstrip(":") for c in CASES.values())
    assert sources == {"ptflops": 7, "thop": 4, "fvcore": 13, "torchinfo": 5, "ops": 14, "issue": 1}
    for case_id, case in CASES.items():
        assert tuple(case["counters"]) == COUNTERS, case_id
        assert all(isinstance(v, int) or v == "crash" for v in case["counters"].values()), case_id


@pytest.mark.parametrize("case_id", list(CASES))
def test_compare_gives_each_counters_own_total(cli, tmp_path, case_id):
    d = cli("compare", write_case(tmp_path, case_id), "-f", "json").json()
    got = {p["profile"]: "crash" if p["crash"] else p["total"] for p in d["profiles"] if p["profile"] != "paper"}
    assert got == CASES[case_id]["counters"]


def test_a_crash_is_said_not_predicted(cli, tmp_path):
    # calflops reads next(model.parameters()) before it counts: a parameter-free module raises
    r = cli("compare", write_case(tmp_path, "thop_relu"))
    assert r.code == 0
    line = next(ln for ln in r.out.splitlines() if ln.startswith("calflops"))
    assert "no total: calflops raises StopIteration on a module without parameters" in line
    assert "calflops/flops_counter.py:121" in line


def test_the_transposed_conv_conventions_differ_as_the_counters_do():
    # fvcore_deconv2d_stride2: ConvTranspose2d(10, 3, 3, s 2, p 1) on 15×15 → 29×29. Per input
    # position 9·10·3·225 = 60,750 (fvcore, and ptflops with its bias 3·29·29 = 2,523:
    # 63,273); per output position 9·10·3·841 = 227,070 (thop; torchinfo adds its bias
    # parameters × 841: 227,070 + 3·841 = 229,593)
    c = CASES["fvcore_deconv2d_stride2"]["counters"]
    assert c["fvcore"] == 9 * 10 * 3 * 15 * 15 == 60_750
    assert c["ptflops"] == 60_750 + 3 * 29 * 29 == 63_273
    assert c["thop"] == 9 * 10 * 3 * 29 * 29 == 227_070
    assert c["torchinfo"] == (9 * 10 * 3 + 3) * 29 * 29 == 229_593
    assert c["flopcounter"] == 2 * 60_750


def test_a_shared_linear_counts_its_calls_for_every_counter_and_its_parameters_once(cli, tmp_path):
    # one Linear(16, 16) on 12 tokens called three times: 3 · 12·16·16 = 9,216 mult-adds; Σ numel
    # 16·16 + 16 = 272; FlopCounterMode/2 = 9,216
    f = write_case(tmp_path, "shared_linear_3x")
    d = cli("compare", f, "-f", "json").json()
    assert next(p["total"] for p in d["profiles"] if p["profile"] == "flopcounter") // 2 == 9_216
    r = cli("report", f, "--profile", "torchvision", "-f", "json").json()
    assert (r["totals"]["madds"], r["totals"]["params"]) == (9_216, 272)
