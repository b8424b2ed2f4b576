"""The vision specs in specs/ reproduce torchvision's published figures.

torchvision publishes, for each classification model, ``num_params`` and
``_ops`` ("GFLOPS" in its docs): multiply-accumulates of the convolutions and
linear layers at 1x3x224x224, in billions, rounded to 3 decimals. That is
layercalc's ``macs`` convention, so ``round(macs / 1e9, 3)`` must equal the
published value. The exact MACs are pinned too: they are FlopCounterMode's
total / 2 on the same architecture built in plain torch.nn (see
tests/test_torch_models.py for ResNet-18 and MobileNetV2), or derived by hand
in the spec's header comment (LeNet-5, ResNet-20).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

import layercalc

SPECS = Path(__file__).resolve().parent.parent / "specs"


@dataclass(frozen=True)
class Published:
    spec: str
    params: int
    gmacs: float | None  # torchvision's published `_ops`; None when there is no published figure
    macs: int  # exact MACs at B=1
    output: list


CASES = [
    # torchvision ResNet18_Weights.IMAGENET1K_V1: num_params 11,689,512, _ops 1.814.
    # MACs: stem 118,013,952 + layer1 462,422,016 + layer2..4 3 * 411,041,792 + fc 512,000.
    Published("resnet18.yaml", 11_689_512, 1.814, 1_814_073_344, [1, 1000]),
    # torchvision ResNet50_Weights.IMAGENET1K_V1: num_params 25,557,032, _ops 4.089.
    Published("resnet50.yaml", 25_557_032, 4.089, 4_089_184_256, [1, 1000]),
    # torchvision VGG16_Weights.IMAGENET1K_V1: num_params 138,357,544, _ops 15.47.
    # MACs: 13 convs 15,346,630,656 + classifier 25088*4096 + 4096*4096 + 4096*1000 = 123,633,664.
    Published("vgg16.yaml", 138_357_544, 15.470, 15_470_264_320, [1, 1000]),
    # torchvision AlexNet_Weights.IMAGENET1K_V1: num_params 61,100,840, _ops 0.714.
    # MACs: convs 655,566,528 + classifier 9216*4096 + 4096*4096 + 4096*1000 = 58,621,952.
    Published("alexnet.yaml", 61_100_840, 0.714, 714_188_480, [1, 1000]),
    # torchvision MobileNet_V2_Weights.IMAGENET1K_V1: num_params 3,504,872, _ops 0.301.
    Published("mobilenet_v2.yaml", 3_504_872, 0.301, 300_774_272, [1, 1000]),
    # LeNet-5 (spec header): params 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706;
    # MACs 117,600 + 240,000 + 48,000 + 10,080 + 840 = 416,520.
    Published("lenet5.yaml", 61_706, None, 416_520, [1, 10]),
    # ResNet-20 with option-B (1x1 conv + BN) shortcuts (spec header): 269,722 with
    # option A + 2,752 for the two shortcuts = 272,474 params;
    # MACs 442,368 + 14,155,776 + 2 * 13,107,200 + 640 = 40,813,184.
    Published("resnet-cifar.yaml", 272_474, None, 40_813_184, [1, 10]),
]


def _id(case: Published) -> str:
    return case.spec.removesuffix(".yaml")


@pytest.fixture(scope="module")
def reports():
    cache = {}

    def get(spec: str, **kw):
        key = (spec, tuple(sorted((kw.get("dims") or {}).items())))
        if key not in cache:
            cache[key] = layercalc.analyze(SPECS / spec, **kw)
        return cache[key]

    return get


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_params_exact(case, reports):
    totals = reports(case.spec).totals
    assert totals["params"] == case.params
    assert totals["trainable_params"] == case.params
    assert totals["param_bytes"] == 4 * case.params  # float32


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_macs(case, reports):
    macs = reports(case.spec).totals["macs"]
    assert macs == case.macs
    if case.gmacs is not None:
        assert round(macs / 1e9, 3) == case.gmacs


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_final_output_shape(case, reports):
    report = reports(case.spec)
    assert list(report.outputs.values()) == [case.output]
    assert report.layers[-1].output_shape == case.output


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_batch_dim_scales_macs_not_params(case, reports):
    one, eight = reports(case.spec), reports(case.spec, dims={"B": 8})
    assert eight.dims == {"B": 8}
    assert eight.totals["macs"] == 8 * one.totals["macs"]
    assert eight.totals["params"] == one.totals["params"]
    assert eight.totals["buffers"] == one.totals["buffers"]
    assert list(eight.outputs.values()) == [[8] + case.output[1:]]


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_rows_add_up_to_the_totals(case, reports):
    report = reports(case.spec)
    for key in ("params", "buffers", "macs", "flops"):
        assert sum(getattr(row, key) for row in report.layers) == report.totals[key]


def test_resnet18_stage_shapes(reports):
    # The spec header's shape table: each stage's last layer.
    report = reports("resnet18.yaml")
    assert report.layer("maxpool").output_shape == [1, 64, 56, 56]
    last = {}
    for row in report.layers:
        last[row.name.split(".")[0]] = row.output_shape
    assert [last[s] for s in ("layer1", "layer2", "layer3", "layer4")] == [
        [1, 64, 56, 56], [1, 128, 28, 28], [1, 256, 14, 14], [1, 512, 7, 7]]


def test_resnet50_downsample_is_conv1x1_with_stride_and_batchnorm(reports):
    report = reports("resnet50.yaml")
    for stage, stride in (("layer1", 1), ("layer2", 2), ("layer3", 2), ("layer4", 2)):
        conv = report.layer(f"{stage}.down.downsample")
        bn = report.layer(f"{stage}.down.downsample_bn")
        assert conv.type == "Conv2d" and bn.type == "BatchNorm2d"
        cin, cout = conv.input_shapes[0][1], conv.output_shape[1]
        assert conv.param_shapes == {"weight": (cout, cin, 1, 1)}  # bias=False
        assert conv.input_shapes[0][2] == stride * conv.output_shape[2]


def test_mobilenet_v2_shortcuts(reports):
    # The residual Add only where stride == 1 and in == out: 10 of the 17 blocks
    # (1 + 2 + 3 + 2 + 2 of the groups of 2, 3, 4, 3, 3 blocks).
    report = reports("mobilenet_v2.yaml")
    adds = [row for row in report.layers if row.type == "Add"]
    assert len(adds) == 10
    for row in adds:
        assert row.input_shapes[0] == row.input_shapes[1] == row.output_shape
    relu6 = [row for row in report.layers if row.type == "ReLU6"]
    assert len(relu6) == 1 + 1 + 2 * 16 + 1  # stem, t=1 block (no expansion), 16 blocks with two, last conv


def test_lenet5_shapes(reports):
    # The spec header's table.
    report = reports("lenet5.yaml")
    shapes = {name: report.layer(name).output_shape for name in ("C1.conv", "S2", "C3.conv", "S4", "C5.conv", "F6",
                                                                "output")}
    assert shapes == {"C1.conv": [1, 6, 28, 28], "S2": [1, 6, 14, 14], "C3.conv": [1, 16, 10, 10],
                      "S4": [1, 16, 5, 5], "C5.conv": [1, 120, 1, 1], "F6": [1, 84], "output": [1, 10]}


def test_resnet_cifar_depth_var(reports):
    # 6n + 2 weighted layers; --var n=9 is ResNet-56 (with option-B shortcuts: 855,770 params =
    # 272,474 + 6 * (16*16*9*2 + 64) + 6 * (32*32*9*2 + 128) + 6 * (64*64*9*2 + 256)).
    r20 = reports("resnet-cifar.yaml")
    weighted = [r for r in r20.layers if r.type in ("Conv2d", "Linear") and "shortcut" not in r.name]
    assert len(weighted) == 20
    r56 = layercalc.analyze(SPECS / "resnet-cifar.yaml", vars={"n": 9})
    assert len([r for r in r56.layers if r.type in ("Conv2d", "Linear") and "shortcut" not in r.name]) == 56
    assert r56.totals["params"] == 272_474 + 6 * (16 * 16 * 9 * 2 + 64) + 6 * (32 * 32 * 9 * 2 + 128) \
        + 6 * (64 * 64 * 9 * 2 + 256)
