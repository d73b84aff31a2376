"""The ONNX importer's bookkeeping of layouts (mbcost/interop/axes.py): the Reshapes and
Transposes exporters write around attention, followed as regroupings of an mbcost tensor's
dimensions — without onnx, so it runs in `make test`."""
import pytest

from mbcost.core.graph import Scores, Tokens
from mbcost.interop import axes as ax
from mbcost.interop.onnx_import import _maplike, _tokenlike, canonical


def test_timms_qkv_reshape_and_permute_give_three_parts_of_heads():
    # timm's Attention on 197 tokens of 192 (DeiT-Tiny): qkv 1×197×576 → reshape(1, 197, 3, 3, 64)
    # → permute(2, 0, 3, 1, 4): 3 × 1 × 3 heads × 197 tokens × 64; the first axis is the outer part
    # of the 576 channels (q, k, v), the heads the next, the head width the inner
    v = ax.reshape(ax.tokens_view(197, 1, 576), [1, 197, 3, 3, 64])
    assert v == ((), (("N", 197),), (("C", 3),), (("C", 3),), (("C", 64),))
    v = ax.transpose(v, [2, 0, 3, 1, 4])
    assert v == ((("C", 3),), (), (("C", 3),), (("N", 197),), (("C", 64),))
    # one of the three along the first axis: its channels are a third, the rest of the layout stays
    assert ax.shrink(v[0], 1, 3) == ()
    assert ax.count(v, {"C"}) == 576 and ax.count(v, ax.POSITIONS) == 197


def test_heads_merge_back_into_channels_and_adjacent_factors_of_a_role_merge():
    # A·V's 1×3×197×64 → transpose(1, 2) → reshape(1, 197, 192): the heads and head width are the
    # 192 channels again, as one factor
    v = ((), (("C", 3),), (("N", 197),), (("C", 64),))
    assert ax.reshape(ax.transpose(v, [0, 2, 1, 3]), [1, 197, 192]) == ((), (("N", 197),), (("C", 192),))


def test_mobilevits_unfolding_puts_the_pixels_of_a_patch_in_sequences():
    # timm's MobileViT unfold of a 1×64×32×32 map in 2×2 patches:
    # reshape(64·16, 2, 16, 2) → transpose(1, 2) → reshape(1, 64, 256, 4) → transpose(1, 3)
    # → reshape(4, 256, 64): 4 sequences (the pixels of a patch) of 256 tokens (the patches)
    v = ax.map_view(32, 32, 64)
    v = ax.transpose(ax.reshape(v, [64 * 16, 2, 16, 2]), [0, 2, 1, 3])
    v = ax.transpose(ax.reshape(v, [1, 64, 256, 4]), [0, 3, 2, 1])
    v = ax.reshape(v, [4, 256, 64])
    assert v == ((("H", 2), ("W", 2)), (("H", 16), ("W", 16)), (("C", 64),))
    assert _tokenlike(v, (32, 32, 64))  # the importer makes it a tokens layer of patch (2, 2)
    assert ax.count(v[:1], {"H"}) == ax.count(v[:1], {"W"}) == 2


def test_a_flattened_map_is_token_like_only_with_its_channels_last():
    v = ax.reshape(ax.map_view(14, 14, 768), [1, 768, 196])  # ViT's Reshape before its Transpose
    assert not _tokenlike(v, (14, 14, 768))
    assert _tokenlike(ax.transpose(v, [0, 2, 1]), (14, 14, 768))
    # channels-last maps (ConvNeXt's LayerNorm, Swin's layout) stay maps: rank 4, not S×T×C
    assert not _tokenlike(ax.transpose(ax.map_view(14, 14, 768), [0, 2, 3, 1]), (14, 14, 768))


def test_tokens_laid_out_as_a_map_channels_first_or_last():
    t = Tokens(196, 768)
    v = ax.reshape(ax.transpose(canonical(t), [0, 2, 1]), [1, 768, 14, 14])
    assert _maplike(v, t) == (14, 14)
    assert _maplike(ax.reshape(canonical(t), [1, 14, 14, 768]), t) == (14, 14)  # Swin's windows put back
    assert _maplike(ax.reshape(canonical(t), [1, 196, 768]), t) is None


def test_canonical_layouts_are_the_exporters():
    # a map 1×C×H×W, tokens S×T×C, scores S×heads×T_q×T_kv (mbcost.interop.onnx_export.dims)
    assert canonical((7, 7, 32)) == ((), (("C", 32),), (("H", 7),), (("W", 7),))
    assert canonical(Tokens(16, 48, 4)) == ((("S", 4),), (("N", 16),), (("C", 48),))
    s = Scores(64, 16, 2, Tokens(16, 48, 4))
    assert canonical(s) == ((("S", 4),), (("G", 2),), (("N", 16),), (("K", 16),))
    assert canonical(Scores(196, 49, 4, (14, 14, 64))) == ((), (("G", 4),), (("H", 14), ("W", 14)), (("K", 49),))


@pytest.mark.parametrize("view, dims, why", [
    (ax.map_view(6, 4, 8), [1, 8, 4, 6], "mixes a row dimension of 6"),  # 6×4 read as 4×6
    (ax.tokens_view(10, 1, 6), [1, 4, 15], "mixes a token dimension of 10"),
    (ax.tokens_view(10, 1, 6), [1, 10, 6, 2], "holds more than its input"),
])
def test_a_reshape_that_is_no_regrouping_is_refused(view, dims, why):
    with pytest.raises(ax.Unfollowable, match=why):
        ax.reshape(view, dims)


def test_a_part_must_not_cut_across_inner_dimensions():
    heads = (("C", 4), ("C", 16))  # 4 heads of 16 on one axis
    assert ax.shrink(heads, 32, 64) == (("C", 2), ("C", 16))  # two whole heads
    with pytest.raises(ax.Unfollowable, match="cuts across"):
        ax.shrink(heads, 8, 64)  # half a head


def test_the_refusal_names_each_op_type_once_with_its_first_node():
    # 44 Einsums and 3 BNs with reasons of their own (the node each describes): each type once, its
    # count, the first node's reason and real name — one readable line, whatever the model's size
    from mbcost.interop.onnx_import import _problems

    problems = [("Einsum", f"/blocks.{i}/attn/Einsum", "unknown op") for i in range(44)] + \
        [("BatchNormalization", f"/b{i}/norm/BatchNormalization", f"a BatchNormalization on /b{i}/Concat " + "x" * 300)
         for i in range(3)]
    line = _problems(problems)
    assert line.startswith("47 nodes mbcost cannot cost: Einsum ×44 (first node /blocks.0/attn/Einsum: unknown op), "
                           "BatchNormalization ×3 (first node /b0/norm/BatchNormalization: a BatchNormalization on "
                           "/b0/Concat x")
    assert line.endswith("x…)") and len(line) < 400  # the 330-character reason clipped to 160
    assert _problems(problems[:1]) == "1 node mbcost cannot cost: Einsum (node /blocks.0/attn/Einsum: unknown op)"
