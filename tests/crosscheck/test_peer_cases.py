"""The real FLOP counters against `mbcost compare` (issue 28): each counter runs on each case in a
child process of its own (tests/crosscheck/_counters.py: they patch torch globally, and a failed
run leaves the patches in place), forked from one that built the case's module.

- The counters' own unit-test cases (tests/data/peer_cases.yaml, modules in _peer_cases.py): the
  measured total is the one the file records, and the one `compare` predicts from the YAML.
- Every built-in that torchvision or timm builds: `compare` on the built-in equals the measured
  total of the module it describes, at a small resolution (96, or the one the model needs).

The counters live in a venv of their own, over this tier's torch, torchvision and timm
(`make crosscheck` builds it: .venv-counters); MBCOST_PEERS_PYTHON names another interpreter.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mbcost.analyses.compare import compare

from _counters import COUNTERS

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
CASES = yaml.safe_load((ROOT / "tests" / "data" / "peer_cases.yaml").read_text())
PYTHON = Path(os.environ.get("MBCOST_PEERS_PYTHON") or ROOT / ".venv-counters" / "bin" / "python")

if not PYTHON.exists():
    if os.environ.get("CI") == "true":
        raise pytest.UsageError(f"the counters' venv is missing: {PYTHON} (make crosscheck builds it)")
    pytest.skip(f"no counters' venv at {PYTHON} (make crosscheck builds it)", allow_module_level=True)

# The built-ins whose module torchvision or timm builds: config → (source, model, options), and
# the resolution each is measured at (ViT, DeiT, AlexNet's and VGG's identity pool and
# EfficientFormer's attention biases need their own; MobileNetV4 and MobileViT need 128)
TORCHVISION = {
    "alexnet_torchvision": "alexnet", "convnext_tiny": "convnext_tiny",
    **{f"efficientnet_b{i}": f"efficientnet_b{i}" for i in range(8)}, "efficientnet_b2_torchvision": "efficientnet_b2",
    "googlenet_torchvision": "googlenet", **{f"mnasnet{a}": f"mnasnet{a}" for a in ("0_5", "0_75", "1_0", "1_3")},
    "mobilenet_v2": "mobilenet_v2", "mobilenet_v3_large": "mobilenet_v3_large",
    "mobilenet_v3_small": "mobilenet_v3_small", "resnet18": "resnet18", "resnet50_torchvision": "resnet50",
    **{f"shufflenet_v2_x{a}": f"shufflenet_v2_x{a}" for a in ("0_5", "1_0", "1_5", "2_0")},
    "squeezenet1_0": "squeezenet1_0", "squeezenet1_1": "squeezenet1_1", "vgg16": "vgg16", "vgg16_bn": "vgg16_bn",
    "vit_b_16": "vit_b_16",
}
TIMM = ("convnext_atto", "deit_tiny_patch16_224", "efficientformer_l1", "mobilevit_xxs", "mobilevit_xs",
        "mobilevit_s", "tf_efficientnetv2_b0", "repvit_m0_9", "mobileone_s0", "mnasnet_a1",
        *(f"mobilenetv4_{v}" for v in ("conv_small", "conv_medium", "conv_large", "hybrid_medium", "hybrid_large")))
DEPLOY = ("repvit_m0_9", "mobileone_s0")  # their inference forms (timm's reparameterize_model)
AT_224 = ("alexnet_torchvision", "vgg16", "vgg16_bn", "vit_b_16", "deit_tiny_patch16_224", "efficientformer_l1")


def resolution(config: str) -> int:
    return 224 if config in AT_224 else 128 if config.startswith(("mobilenetv4", "mobilevit")) else 96


def builtin_cases() -> list[dict]:
    out = []
    for config, name in TORCHVISION.items():
        options = {"aux_logits": False, "init_weights": False} if name == "googlenet" else {}
        out.append({"id": config, "build": ["torchvision", name, options]})
    for config in TIMM:
        out.append({"id": config, "build": ["timm", config, {"reparameterize": config in DEPLOY}]})
    return [{**c, "input": [3, resolution(c["id"]), resolution(c["id"])]} for c in out]


def measure(counters: tuple[str, ...], cases: list[dict]) -> dict:
    """{counter: {case id: {"value": n} or {"crash": why}}}, in the counters' venv."""
    run = subprocess.run([str(PYTHON), str(HERE / "_counters.py"), ",".join(counters)], input=json.dumps(cases),
                         capture_output=True, text=True, timeout=1800, cwd=HERE)
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout)


def as_recorded(result: dict):
    return result["value"] if "value" in result else "crash"


def predicted(row):
    return "crash" if row.count.crash else row.total


def test_every_ported_case_is_what_every_counter_gives(tmp_path):
    # the seven counters in one process, each on each case in a child of its own
    sys.path.insert(0, str(HERE))
    import _peer_cases

    cases = [{"id": i, "build": ["case", i, {}], "input": list(_peer_cases.CASES[i].input)} for i in CASES]
    got = measure(COUNTERS, cases)
    wrong = []
    for case_id, case in CASES.items():
        f = tmp_path / f"{case_id}.yaml"
        f.write_text(yaml.safe_dump({"name": case_id, **case["net"]}, sort_keys=False, allow_unicode=True))
        predictions = compare(f)
        for counter in COUNTERS:
            measured, recorded = as_recorded(got[counter][case_id]), case["counters"][counter]
            prediction = predicted(predictions[counter])
            if not measured == recorded == prediction:
                wrong.append(f"{counter} on {case_id}: measured {got[counter][case_id]}, recorded {recorded}, "
                             f"compare {prediction}")
    assert not wrong, "\n".join(wrong)


def test_compare_on_every_builtin_is_what_every_counter_gives():
    # one process builds each of the 45 modules once and runs the seven counters on it, each in a
    # child of its own (a process per counter built every module seven times)
    cases = builtin_cases()
    got = measure(COUNTERS, cases)
    wrong = []
    for c in cases:
        predictions = compare(c["id"], resolution=c["input"][1])
        for counter in COUNTERS:
            measured, prediction = got[counter][c["id"]], predicted(predictions[counter])
            if as_recorded(measured) != prediction:
                wrong.append(f"{counter} on {c['id']} at {c['input'][1]}: measured {measured}, compare {prediction}")
    assert len(cases) == 45 and not wrong, "\n".join(wrong)


def test_every_source_line_a_rule_cites_is_in_the_installed_counter():
    # each rule cites FILE:LINE or FILE:FIRST-LAST of the pinned counters (docs/peers.md): the
    # file must exist in the counters' venv and hold that line (a new pin that moved the code fails)
    import re

    from mbcost.core.kinds import KINDS
    from mbcost.core.peers import PEERS

    cited = [c.source for k in KINDS.values() if k.peers for c in k.peers.values()]
    cited += [p.source for p in PEERS.values()] + [p.needs_parameters for p in PEERS.values()]
    refs = {(m[1], int(m[3] or m[2])) for text in cited
            for m in re.finditer(r"\b((?:ptflops|fvcore|thop|torchinfo|calflops|torch)/[\w/]+\.py):(\d+)(?:-(\d+))?", text)}
    roots = json.loads(subprocess.run(
        [str(PYTHON), "-c", "import importlib.util as u, json, os; print(json.dumps({p: os.path.dirname("
         "u.find_spec(p).submodule_search_locations[0]) for p in ('ptflops', 'fvcore', 'thop', 'torchinfo', "
         "'calflops', 'torch')}))"], capture_output=True, text=True, check=True).stdout)
    missing = []
    for path, line in sorted(refs):
        f = Path(roots[path.split("/")[0]]) / path
        if not f.exists() or len(f.read_text().splitlines()) < line:
            missing.append(f"{path}:{line}")
    assert len(refs) > 40 and not missing, missing
