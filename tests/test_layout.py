"""The package layout shows the pipeline and enforces one direction of imports:

    core  ←  analyses  ←  render  ←  cli        (api, the front door, may use them all)
    core  ←  interop  (torch and ONNX; may use analyses; cli and api use it)

Parsed from the source (every import, module-level or inside a function), so a lazy import
cannot hide a back edge."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mbcost"

# what each layer must never import, mbcost's own layers and third-party packages alike
FORBIDDEN = {
    "core": {"mbcost.analyses", "mbcost.render", "mbcost.cli", "mbcost.api",
             "pandas", "rich", "typer", "click", "matplotlib", "onnx", "torch"},
    "analyses": {"mbcost.render", "mbcost.cli", "mbcost.api", "rich", "typer", "click", "matplotlib"},
    "render": {"mbcost.cli", "mbcost.api", "typer", "click"},
    "interop": {"mbcost.render", "mbcost.cli", "mbcost.api", "pandas", "rich", "typer", "click",
                "matplotlib"},
}


def imports_of(path: Path) -> set[str]:
    """Absolute names of everything a module imports, relative imports resolved."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            out.add(name)
            out.update(f"{name}.{a.name}" for a in node.names)  # `from . import configs`
    return out


def _violations(layer: str) -> list[str]:
    bad = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for name in imports_of(path):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[layer]):
                bad.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    return bad


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_imports_point_one_way(layer):
    assert _violations(layer) == []


def test_the_check_sees_a_back_edge(tmp_path, monkeypatch):
    # a function-level import of render from core is what the rule exists to catch
    fake = tmp_path / "mbcost" / "core"
    fake.mkdir(parents=True)
    (fake / "engine.py").write_text("def f():\n    from ..render.report import report_text\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", tmp_path / "mbcost")
    assert sorted(_violations("core")) == ["mbcost/core/engine.py imports mbcost.render.report",
                                           "mbcost/core/engine.py imports mbcost.render.report.report_text"]


def test_every_layer_is_a_package_on_disk():
    assert {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()} >= \
        {"core", "analyses", "render", "cli", "interop"}


@pytest.mark.parametrize("argv", [["report", "mobilenet_v2"], ["report", "mobilenet_v2", "-f", "csv"],
                                  ["check", "mobilenet_v2", "--max-madds", "301M"]])
def test_report_and_check_start_without_the_heavy_libraries(argv):
    # start-up stays at the import floor: no pandas, rich, matplotlib, onnx or torch on these paths
    import subprocess
    import sys

    code = ("import sys\nfrom mbcost.cli import main\nmain(%r)\n"
            "print(sorted(m for m in ('pandas', 'rich', 'matplotlib', 'onnx', 'torch') if m in sys.modules),"
            " file=sys.stderr)\n" % argv)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.stderr.strip().splitlines()[-1] == "[]", p.stderr
