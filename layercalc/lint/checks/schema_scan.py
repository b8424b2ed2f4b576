"""Unknown layer types and arguments in every entry, not only the first.

The engine stops at the first error of a file. These problems do not depend
on each other, so this check walks every entry of the spec and of every block:

* ``S004`` schema.unknown-layer: a type that is neither registered nor a block;
* ``S005`` schema.unknown-argument: an argument the type (or block) does not take;
* when the expansion failed, the argument values of the top-level layers are
  resolved too (``S002``, ``S003``, ``S006``, ``S007``).

When the expansion succeeded, :mod:`layercalc.lint.checker` resolves the
arguments of every expanded layer instead.
"""

from __future__ import annotations

from types import SimpleNamespace

from ...errors import SpecError, did_you_mean
from ..problem import Problem

CODES = ("S004", "S005")


def check(ctx):
    from ...layers import REGISTRY
    from ...layers.resolve import resolve_args

    spec = ctx.spec
    for scope in ctx.scopes:
        for slot in scope.slots:
            e = slot.entry
            args = e.args or {}
            if e.type in spec.blocks:
                params = spec.blocks[e.type].params
                for key in args:
                    if key not in params:
                        hint = did_you_mean(str(key), params)
                        m = args.kmarks[key]
                        yield Problem(ctx.file, m.line, m.col, "S005",
                                      f"block '{e.type}' has no param '{key}'" + (f"; {hint}" if hint else ""),
                                      f"its params are: {', '.join(params) or '(none)'}")
                continue
            rule = REGISTRY.get(e.type)
            if rule is None:
                hint = did_you_mean(e.type, list(REGISTRY) + list(spec.blocks))
                yield Problem(ctx.file, e.mark.line, e.mark.col, "S004",
                              f"unknown layer type '{e.type}'" + (f"; {hint}" if hint else ""),
                              "use a torch.nn type name (see `layercalc layers`) or a block defined under `blocks:`")
                continue
            if ctx.graph is None and scope.block is None:
                node = SimpleNamespace(name=slot.name, args=e.args, env=spec.env, mark=e.mark)
                try:
                    resolve_args(rule, node)
                except SpecError as exc:
                    yield Problem.from_error(exc)
                continue
            names = [a.name for a in rule.args]
            for key in args:
                if key not in names:
                    hint = did_you_mean(str(key), names)
                    m = args.kmarks[key]
                    yield Problem(ctx.file, m.line, m.col, "S005",
                                  f"{rule.type} '{slot.name}': {rule.type} has no argument '{key}'"
                                  + (f"; {hint}" if hint else ""),
                                  f"its arguments are: {', '.join(names) or '(none)'}")
