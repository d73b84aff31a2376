"""Shared weights against torch (issue 28): a module called several times holds its parameters
once and costs its mult-adds at every call — mbcost's `weights:` rows equal Σ numel and
FlopCounterMode / 2 of the same torch module (tests/crosscheck/_peer_cases.py; the files are
tests/data/peer_cases.yaml's)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

import mbcost
from _models import TORCHVISION, torch_counts

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
import _peer_cases  # noqa: E402

CASES = yaml.safe_load((HERE.parent / "data" / "peer_cases.yaml").read_text())


@pytest.mark.parametrize("case_id, calls, madds, params", [
    # one Linear(16, 16) on 12 tokens, three calls: 3·12·16·16; 16·16 + 16
    ("shared_linear_3x", 3, 9_216, 272),
    # one Conv2d(64, 64, 3, 1, 1) on 28×28, six calls: 6·9·64·64·784; 9·64·64 + 64
    ("torchinfo_recursive", 6, 173_408_256, 36_928),
])
def test_a_module_called_n_times_is_its_parameters_once_and_its_mult_adds_n_times(tmp_path, case_id, calls,
                                                                                    madds, params):
    f = tmp_path / f"{case_id}.yaml"
    f.write_text(yaml.safe_dump({"name": case_id, **CASES[case_id]["net"]}, sort_keys=False))
    case = _peer_cases.CASES[case_id]
    t_madds, t_params, _ = torch_counts(case.module(), (1, *case.input))
    r = mbcost.analyze(f, convention=TORCHVISION)
    assert (r.madds, r.params) == (t_madds, t_params) == (madds, params)
    reused = [x for x in r.layers if x.layer.shared]
    assert len(reused) == calls - 1 and all(x.params == 0 for x in reused)
