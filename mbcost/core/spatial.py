"""Feature-map sizes: how a window (kernel or pool) of size k, stride s and dilation d, with
a padding rule, maps an input size to an output size. Shared by every kind with a window and
by the ONNX importer (which matches a model's pads to the rule that gives its output size)."""
from __future__ import annotations

from ..errors import GraphError
from .graph import Layer, Shape, Tokens, Scores, layout
from .kind import fmt_shape


def out_size(layer: Layer, size: int, k: int, s: int, d: int = 1, pad: int | None = None) -> int:
    """'same': ceil(in / s) (TensorFlow's rule); 'valid': floor((in − k′) / s) + 1; an integer
    padding p: floor((in + 2p − k′) / s) + 1 (PyTorch's rule, with ceil_mode for pools), where
    k′ = d·(k − 1) + 1 is the dilated kernel."""
    span = d * (k - 1) + 1
    if pad is None and layer.padding == "same":
        n = -(-size // s)
    else:
        p = 0 if pad is None else pad
        room = size + 2 * p - span
        n = (-(-room // s) if layer.ceil else room // s) + 1
        if layer.ceil and (n - 1) * s >= size + p:  # PyTorch: the last window must start inside
            n -= 1
    if n < 1:
        how = f"{layer.padding} padding" if isinstance(layer.padding, str) else f"padding {pad}"
        raise GraphError(f"feature map shrinks below 1×1: the {span}-wide kernel ({how}) does not "
                         f"fit the {size}-wide input", field=layer.name)
    return n


def require_map(layer: Layer, shape: Shape, does: str = "slides a window over") -> None:
    """Refuse tokens or scores where a layer needs an H×W map."""
    if not is_map(shape):
        article = "an" if layer.kind[0] in "aeiou" else "a"
        raise GraphError(f"{article} {layer.kind} {does} a map, but its input is {layout(shape)} "
                         f"({fmt_shape(shape)}): give it a map (a 'map' row turns tokens back into one)",
                         field=layer.name)


def spatial(layer: Layer, shape: Shape) -> tuple[int, int]:
    """The output H×W of a layer's window over an input map."""
    require_map(layer, shape)
    (kh, kw), (sh, sw), (dh, dw) = layer.k, layer.s, layer.d
    ph, pw = layer.padding if isinstance(layer.padding, tuple) else (None, None)
    return out_size(layer, shape[0], kh, sh, dh, ph), out_size(layer, shape[1], kw, sw, dw, pw)


def is_map(shape: Shape) -> bool:
    return not isinstance(shape, (Tokens, Scores))


def same_map(layer: Layer, inputs: list[Shape], what: str) -> tuple[int, int]:
    """The inputs' common H×W (a concat's or a join's), or an error naming the odd one out."""
    hw = inputs[0][:2]
    for name, s in zip(layer.inputs[1:], inputs[1:]):
        if s[:2] != hw or layout(s) != layout(inputs[0]):
            raise GraphError(f"cannot {what} {name} ({fmt_shape(s)}) with {layer.inputs[0]} "
                             f"({fmt_shape(inputs[0])}): the feature maps differ in size", field=layer.name)
    return hw
