"""`mbcost plot`: the three figures in the three formats, opened and checked — PNG size, PDF page
size, and for SVG the axis labels and legend entries as text."""
import re
import struct

import matplotlib  # noqa: F401  (in the test extra: the plot tests never skip)
import pytest

from conftest import assert_one_line_error

# render/plot.py: one column 3.4 × 2.6 in, both columns 7.0 × 2.8 in; PNG at 300 dpi
FIGURES = {
    "sweep": (["plot", "sweep", "mobilenet_v2"], (3.4, 2.6),
              ["mult-adds (millions)", "ImageNet top-1 (%)", "α = 0.35", "α = 1.4", "published (TF-slim)",
               "paper (bn=0, no bias, 1000 classes)"]),
    "layers": (["plot", "layers", "mobilenet_v1"], (7.0, 2.8),
               # the V1 paper's Table 2 shares: Conv 1×1 94.86%, Conv DW 3×3 3.06%
               ["mult-adds (millions)", "layer (network order)", "Conv 1×1 (94.9%)", "Conv DW 3×3 (3.1%)",
                "mobilenet_v1, α = 1.0, 224×224"]),
    "diff": (["plot", "diff", "mobilenet_v1", "mobilenet_v1_shallow"], (7.0, 2.8),
             ["mult-adds (millions)", "A total", "B total", "block7.pw", "shrank"]),
}


def png_size(path):
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def svg_text(path):
    # svg.fonttype none: text is kept as <text> elements; entities as matplotlib writes them
    text = path.read_text()
    return text.replace("&#215;", "×").replace("&#945;", "α").replace("&#183;", "·")


@pytest.mark.parametrize("figure", sorted(FIGURES))
@pytest.mark.parametrize("ext", ["png", "svg", "pdf"])
def test_every_figure_in_every_format(cli, tmp_path, figure, ext):
    args, (w, h), texts = FIGURES[figure]
    out = tmp_path / f"fig.{ext}"
    r = cli(*args, "-o", out)
    assert r.code == 0, r.err
    if ext == "png":
        assert png_size(out) == (round(w * 300), round(h * 300))
    elif ext == "pdf":
        data = out.read_bytes()
        assert data.startswith(b"%PDF")
        box = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
        assert box and (float(box[1]), float(box[2])) == pytest.approx((w * 72, h * 72))  # points
    else:
        text = svg_text(out)
        size = re.search(r'<svg[^>]*width="([\d.]+)pt" height="([\d.]+)pt"', text)
        assert (float(size[1]), float(size[2])) == pytest.approx((w * 72, h * 72))  # points
        for t in texts:
            assert t in text, t


def test_latency_curves_need_and_use_a_device(cli, tmp_path):
    out = tmp_path / "lat.svg"
    assert_one_line_error(cli("plot", "sweep", "mobilenet_v2", "--x", "latency", "-o", out), "--device")
    assert not out.exists()
    r = cli("plot", "sweep", "mobilenet_v2", "--x", "latency", "--by", "resolution", "--device", "pixel1", "-o", out)
    assert r.code == 0, r.err
    text = svg_text(out)
    assert "latency (ms)" in text and "224×224" in text and "96×96" in text


@pytest.mark.parametrize("args, parts", [
    (["plot", "sweep", "mobilenet_v2", "-o", "fig.gif"], ["--output", ".png, .svg, .pdf"]),
    (["plot", "sweep", "mobilenet_v2"], ["--output"]),
    (["plot", "sweep", "mobilenet_v1_conv", "--y", "top1", "-o", "fig.svg"], ["no published accuracy"]),
    (["plot", "diff", "mobilenet_v1", "-o", "fig.svg"], ["two architectures"]),
    (["plot", "layers", "mobilenet_v1", "--metric", "top1", "-o", "fig.svg"], ["--metric"]),
])
def test_plot_bad_input_writes_nothing(cli, tmp_path, monkeypatch, args, parts):
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(cli(*args), *parts)
    assert list(tmp_path.iterdir()) == []
