"""Small sizes at which every bundled spec runs in torch in a moment (the differential tests)."""

#: Small sizes of every bundled spec: (dims, vars).
SMALL = {
    "alexnet": ({"B": 2}, {"num_classes": 10}),
    "bert-base": ({"B": 2, "T": 8}, {"vocab": 50, "d": 16, "layers": 2, "heads": 2, "positions": 16}),
    "gpt2-small": ({"B": 2, "T": 8}, {"vocab": 50, "context": 16, "d": 16, "layers": 2, "heads": 2}),
    "gpt3-175b-layer": ({"B": 2, "T": 8}, {"d": 16, "heads": 4}),
    "gpt3-175b": ({"B": 1, "T": 8}, {"vocab": 50, "context": 16, "d": 16, "layers": 2, "heads": 4}),
    "lenet5": ({"B": 3}, {}),
    "llama2-7b": ({"B": 2, "T": 8}, {"vocab": 50, "d": 16, "layers": 2, "heads": 4, "kv_heads": 2, "ff": 24}),
    "mobilenet_v2": ({"B": 1}, {}),
    "resnet-cifar": ({"B": 2}, {}),
    "resnet18": ({"B": 1}, {}),
    "resnet50": ({"B": 1}, {}),
    "vgg16": ({"B": 1}, {}),
    "char-lstm": ({"B": 2, "T": 5}, {"hidden": 8, "embed": 6}),
    "gru-encoder": ({"B": 2, "T": 5}, {"vocab": 40, "embed": 6, "hidden": 8}),
}
