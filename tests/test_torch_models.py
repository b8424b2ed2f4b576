"""Differential test of whole models: specs/resnet18.yaml and specs/mobilenet_v2.yaml
against the same architectures built in plain torch.nn (skipped without torch).

torchvision is not a dependency, so the two models are defined here, compactly
but module for module as torchvision.models.resnet18 and mobilenet_v2 build
them. The only liberty: the residual sum (``out += identity`` / ``x + conv(x)``),
``torch.flatten`` and MobileNetV2's functional ``adaptive_avg_pool2d`` are
written as modules, so that forward hooks see every step that the spec lists
as a layer. None of them has parameters or MACs.

Compared: per layer, in execution order, the type, output shape, parameters and
buffers, and the MACs of every convolution and linear layer; in total, the
parameters, buffers and MACs, where torch's MACs are
``FlopCounterMode`` total / 2 with mkldnn disabled.
"""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import layercalc  # noqa: E402

SPECS = Path(__file__).resolve().parent.parent / "specs"


class Add(nn.Module):
    def forward(self, a, b):
        return a + b


# --- ResNet-18, as torchvision.models.resnet ----------------------------------------------------


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.add = Add()

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(self.add(out, identity))


class ResNet18(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.inplanes = 64
        self.layer1 = self._make_layer(64, 2)
        self.layer2 = self._make_layer(128, 2, stride=2)
        self.layer3 = self._make_layer(256, 2, stride=2)
        self.layer4 = self._make_layer(512, 2, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(512, num_classes)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.flatten(self.avgpool(x)))


# --- MobileNetV2, as torchvision.models.mobilenetv2 (width 1.0) ----------------------------------


def conv_bn_relu6(inp, oup, kernel_size=3, stride=1, groups=1):
    """torchvision's Conv2dNormActivation with norm BatchNorm2d and activation ReLU6."""
    return nn.Sequential(nn.Conv2d(inp, oup, kernel_size, stride, (kernel_size - 1) // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(oup), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, expand_ratio):
        super().__init__()
        hidden_dim = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers = []
        if expand_ratio != 1:
            layers.append(conv_bn_relu6(inp, hidden_dim, kernel_size=1))
        layers += [conv_bn_relu6(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim),
                   nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup)]
        self.conv = nn.Sequential(*layers)
        self.add = Add()

    def forward(self, x):
        return self.add(x, self.conv(x)) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    SETTINGS = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2],
                [6, 320, 1, 1]]  # t, c, n, s

    def __init__(self, num_classes=1000):
        super().__init__()
        features = [conv_bn_relu6(3, 32, stride=2)]
        inp = 32
        for t, c, n, s in self.SETTINGS:
            for i in range(n):
                features.append(InvertedResidual(inp, c, s if i == 0 else 1, t))
                inp = c
        features.append(conv_bn_relu6(inp, 1280, kernel_size=1))
        self.features = nn.Sequential(*features)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(nn.Dropout(p=0.2), nn.Linear(1280, num_classes))

    def forward(self, x):
        return self.classifier(self.flatten(self.avgpool(self.features(x))))


# --- measuring torch ---------------------------------------------------------------------------


def run_torch(model: nn.Module, x):
    """Run ``model`` once; return the leaf calls in execution order and the total MACs.

    Each call is (module name, type, output shape, params, buffers, MACs of that
    call), MACs being FlopCounterMode's per-module count / 2, for modules called once.
    """
    from torch.utils.flop_counter import FlopCounterMode

    names = {m: n for n, m in model.named_modules()}
    calls = []

    def hook(module, args, output):
        calls.append((names[module], type(module).__name__, list(output.shape),
                      sum(p.numel() for p in module.parameters()), sum(b.numel() for b in module.buffers())))

    handles = [m.register_forward_hook(hook) for m in model.modules() if not list(m.children())]
    model.eval()
    mkldnn = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = False  # so that the counter sees aten.convolution
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(x)
    finally:
        torch.backends.mkldnn.enabled = mkldnn
        for h in handles:
            h.remove()
    per_module = counter.get_flop_counts()
    total = counter.get_total_flops()
    assert total % 2 == 0
    times = {}
    for name, *_ in calls:
        times[name] = times.get(name, 0) + 1
    rows = []
    for name, typ, shape, params, buffers in calls:
        key = f"{type(model).__name__}.{name}"  # the counter names modules from the root's class
        macs = sum(per_module.get(key, {}).values()) // 2 if times[name] == 1 else None
        rows.append((name, typ, shape, params, buffers, macs))
    return rows, total // 2


MODELS = [
    ("resnet18.yaml", ResNet18, 1),
    ("resnet18.yaml", ResNet18, 2),
    ("mobilenet_v2.yaml", MobileNetV2, 1),
]


@pytest.fixture(scope="module", params=MODELS, ids=lambda m: f"{m[0].removesuffix('.yaml')}-B{m[2]}")
def pair(request):
    spec, make, batch = request.param
    torch.manual_seed(0)
    model = make()
    ours = layercalc.analyze(SPECS / spec, dims={"B": batch})
    calls, macs = run_torch(model, torch.randn(batch, 3, 224, 224))
    return ours, model, calls, macs


def test_totals_match_torch(pair):
    ours, model, _, macs = pair
    assert ours.totals["params"] == sum(p.numel() for p in model.parameters())
    assert ours.totals["buffers"] == sum(b.numel() for b in model.buffers())
    assert ours.totals["macs"] == macs


def test_layers_match_torch_in_execution_order(pair):
    ours, _, calls, _ = pair
    assert [(r.type, r.output_shape) for r in ours.layers] == [(c[1], c[2]) for c in calls]


def test_per_layer_params_buffers_macs_match_torch(pair):
    ours, _, calls, _ = pair
    assert len(ours.layers) == len(calls)
    for row, (name, typ, shape, params, buffers, macs) in zip(ours.layers, calls):
        assert (row.params, row.buffers) == (params, buffers), (row.name, name)
        if typ in ("Conv2d", "Linear"):
            assert row.macs == macs, (row.name, name)
        else:
            assert row.macs == 0, row.name
