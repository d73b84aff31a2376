"""The cross-check tier: mbcost's counts against PyTorch and ONNX Runtime (`make crosscheck`).

It needs torch, torchvision, timm, onnx and onnxruntime, which the core install and `make test` do not. Without
them the tier is skipped on a developer's machine — but never in CI (CI=true): there a missing
package is a collection error, so the tier cannot pass by checking nothing.
"""
import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/conftest.py's helpers

NEEDED = ("torch", "torchvision", "timm", "onnx", "onnxruntime")
MISSING = [m for m in NEEDED if importlib.util.find_spec(m) is None]

if MISSING and os.environ.get("CI") == "true":
    raise pytest.UsageError(f"the cross-check needs {', '.join(MISSING)} (make crosscheck installs them)")
collect_ignore_glob = ["test_*.py"] if MISSING else []


def pytest_configure(config):
    """One torch thread per core in each xdist worker. torch starts as many intra-op threads as
    the machine has cores, so two workers on two cores ran four, and their OpenMP threads spinning
    for each other made every test 3–5× slower than alone (the round trips: 567 s in the tier
    against 160 s one at a time). The variable reaches the CLI runs the tests start as well."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1 and not MISSING:
        threads = str(max(1, (os.cpu_count() or 1) // workers))
        os.environ.setdefault("OMP_NUM_THREADS", threads)
        import torch

        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.passed_call = report.passed


@pytest.fixture(autouse=True)
def _free_passed_exports(request):
    """Delete a passing test's tmp_path as soon as it ends.

    The tier exports a few hundred ONNX files of real networks (VGG-16's is 528 MB), and pytest keeps
    every test's tmp_path until the session is over: one run held 17 GB and filled CI's disk, so
    tests after it failed for want of space, not for a wrong count. A failed test's files stay, to be
    looked at.
    """
    yield
    tmp = request.node.funcargs.get("tmp_path")
    if tmp is not None and getattr(request.node, "passed_call", False):
        shutil.rmtree(tmp, ignore_errors=True)
