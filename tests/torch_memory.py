"""What PyTorch keeps for backward, measured with ``torch.autograd.graph.saved_tensors_hooks``.

Conventions (those of layercalc's ``saved_activation_bytes``): train mode; the model's inputs do not
require grad; a tensor is counted once per storage (``untyped_storage()``, so two views of one
buffer count once, at the size of the whole buffer); parameters and buffers are excluded; each
storage is counted at the first layer that saves it, in execution order.
"""

from __future__ import annotations

import torch


def saved_by_layer(model, inputs, autocast=None):
    """{layer name: bytes saved for backward} (first saver of each storage) and the total."""
    model.train()
    state = {t.untyped_storage().data_ptr() for t in list(model.parameters()) + list(model.buffers())}
    seen = set()
    per_layer: dict[str, int] = {}
    details: dict[str, list] = {}

    def pack(t):
        if not isinstance(t, torch.Tensor) or t.device.type == "meta":
            return t
        storage = t.untyped_storage()
        ptr = storage.data_ptr()
        if ptr in state or ptr in seen or storage.nbytes() == 0:
            return t
        seen.add(ptr)
        name = model.current or "<outside>"
        per_layer[name] = per_layer.get(name, 0) + storage.nbytes()
        details.setdefault(name, []).append((tuple(t.shape), str(t.dtype).removeprefix("torch."), storage.nbytes(), ptr))
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        if autocast:
            with torch.autocast("cpu", dtype=autocast):
                model(*inputs)
        else:
            model(*inputs)
    return per_layer, sum(per_layer.values()), details


class LiveBytes:
    """The peak of live tensor bytes while torch runs, measured by a ``TorchDispatchMode``.

    Every tensor an aten op returns is tracked by its storage (``untyped_storage()``: views and in-place
    results share their base's storage and add nothing), at the storage's ``nbytes()``, from the op
    that makes it until the storage dies (a ``weakref.finalize`` on the storage object, which torch
    keeps alive exactly as long as the storage). The storages of ``exclude`` (the parameters and
    buffers) are never counted; ``held`` tensors (the model's inputs, which the caller holds for
    the whole call) count from the start until they die. The peak is taken after each op returns,
    when its inputs and its outputs are both alive; torch frees nothing inside an op that this could
    miss (a kernel's internal workspace is not a tensor, and the meta device allocates none).

    ``peak`` is the largest sum of live bytes; ``at_peak`` the op that reached it and the shapes, dtypes
    and bytes of what was live then (for diagnosis).
    """

    def __init__(self, exclude=(), held=()):
        self.excluded = [t.untyped_storage() for t in exclude]  # held: their ids stay theirs
        self.excluded_ids = {id(s) for s in self.excluded}
        self.live: dict[int, tuple] = {}
        self.bytes = 0
        self.peak = 0
        self.at_peak = None
        self.op = "<start>"
        for t in held:
            self.track(t)
        self.note()

    def track(self, t):
        import weakref

        s = t.untyped_storage()
        key = id(s)
        if key in self.excluded_ids or key in self.live or s.nbytes() == 0:
            return
        self.live[key] = (tuple(t.shape), str(t.dtype).removeprefix("torch."), s.nbytes(), self.op)
        self.bytes += s.nbytes()
        weakref.finalize(s, self.free, key)

    def free(self, key):
        self.bytes -= self.live.pop(key)[2]

    def note(self):
        if self.bytes > self.peak:
            self.peak = self.bytes
            self.at_peak = (self.op, sorted(self.live.values(), key=lambda v: -v[2]))

    def mode(self):
        """The dispatch mode that feeds this tracker (``with tracker.mode(): model(*inputs)``)."""
        import torch
        from torch.utils._python_dispatch import TorchDispatchMode
        from torch.utils._pytree import tree_leaves

        tracker = self

        class Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                out = func(*args, **(kwargs or {}))
                tracker.op = str(func.overloadpacket.__name__)
                for t in tree_leaves(out):
                    if isinstance(t, torch.Tensor):
                        tracker.track(t)
                tracker.note()
                return out

        return Mode()


def inference_peak(model, make_inputs):
    """The peak of live activation bytes of one eval-mode ``torch.no_grad()`` call of ``model`` on the
    inputs ``make_inputs()`` returns (held by the caller for the whole call, as in eager code),
    parameters and buffers excluded. Returns the tracker."""
    import torch

    model.eval()
    inputs = make_inputs()
    tracker = LiveBytes(exclude=list(model.parameters()) + list(model.buffers()), held=inputs)
    with torch.no_grad(), tracker.mode():
        out = model(*inputs)
    del out
    return tracker


def export_peak(path, dims=None):
    """The tracker of one inference call of the module ``layercalc export`` writes for the spec at
    ``path``, built on the meta device with ``dims`` (the math attention kernel, no MultiheadAttention
    or TransformerEncoderLayer fast path: the kernels layercalc counts)."""
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel

    from layercalc.bridge.export import export
    from tests.torch_bridge import load_module

    module = load_module(export(str(path)))
    fast = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with torch.device("meta"), sdpa_kernel(SDPBackend.MATH):
            model = module.Model(**(dims or {}))
            return inference_peak(model, lambda: module.example_inputs(**(dims or {})))
    finally:
        torch.backends.mha.set_fastpath_enabled(fast)


def training_peaks(model, inputs, optimizer) -> dict:
    """The peaks of live bytes of one training step in train mode, in steady state: a first step makes the
    gradients and the optimizer state, then the second one (``zero_grad(set_to_none=False)``: the previous
    step's gradients stay in place, zeroed) is measured from its forward to its ``step()``. Everything
    counts: the parameters, buffers and inputs (held), gradients, optimizer state, activations and what
    autograd saves, and the temporaries of backward and of the step. Returns {"forward", "backward",
    "step": the peak within each phase}; the loss is the sum of the outputs."""
    import torch

    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = optimizer(params)
    tracker = LiveBytes(held=list(model.parameters()) + list(model.buffers()) + list(inputs))
    peaks = {}

    def phase(name):
        peaks[name] = tracker.peak
        tracker.peak = tracker.bytes

    with tracker.mode():
        for step in range(2):
            opt.zero_grad(set_to_none=False)
            tracker.peak = tracker.bytes
            outs = model(*inputs)
            outs = outs if isinstance(outs, tuple) else (outs,)
            phase("forward")
            loss = sum(o.float().sum() for o in outs if o.is_floating_point())
            loss.backward()
            del outs, loss
            phase("backward")
            opt.step()
            phase("step")
    return peaks
