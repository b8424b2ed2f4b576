"""The reference executor: small forward passes that cross-check the rules engine.

It reads the spec on its own and shares nothing about layers with the rules (``layercalc.layers``),
the engine or the cost table: ``layercalc/verify.py`` compares the two sides. A test keeps this
package free of imports of the rules.

Adding a layer type (every registered rule needs one; the coverage tests say which are missing):

1. **Signature** - one entry in ``SIGNATURES`` of :mod:`.signatures`, written from torch's
   constructor (or function): ``(name, default, form)`` per argument in torch's order, ``REQUIRED``
   for arguments that must be written, ``INFER`` for those that follow from the input
   (``in_features``). Forms: ``"int"``, ``"float"``, ``"bool"``, ``("str", choices)``,
   ``("ints", n)`` (an int or a list of 1 or n ints, read as an n-tuple), ``"shape"``, and the
   others listed in that module.
2. **Kernel** - a function ``kernel(ctx, *inputs) -> Tensor`` (or ``(Tensor, {"h_n": Tensor})`` for
   extra outputs) in the family's module, listed in its ``KERNELS`` dict (:mod:`.registry` collects
   the families). ``ctx.NAME`` reads an argument as parsed above; ``ctx.param(name, shape)`` and
   ``ctx.buffer(name, shape, value=...)`` create torch's tensors by torch's names; the kernel counts
   ``ctx.macs += ...`` (multiply-accumulates of dense products) and ``ctx.flops += ...`` (every other
   operation, or use :class:`.ops.Ops`, which counts for you) where it does the work. Output shapes
   are the shapes of what the loops produced, never a formula; what torch refuses raises
   ``ValueError`` with a sentence ("reflect padding of 3 must be below the dimension's size 3").
3. **Probe** (optional) - an entry in ``PROBES`` of :mod:`.probe` when shrinking every dimension of
   the input is not enough to make a small configuration of the same structure.
4. **Coverage** - a layer of the type in ``specs/coverage/<family>.yaml``, with its defaults left out
   once and its main arguments given once; ``python -m layercalc verify specs/coverage/`` must agree.
"""
