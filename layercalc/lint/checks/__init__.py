"""The checks of `layercalc lint` beyond the engine's errors, listed here by hand.

Each module has a docstring (its user documentation), the codes it yields
(``CODES``) and ``check(ctx)``, a generator of
:class:`~layercalc.lint.problem.Problem` over a :class:`Context`:

* :mod:`.schema_scan` -- unknown layer types and arguments in every entry (S004,
  S005, and argument values of top-level layers when expansion failed), so one
  run reports all of them and not only the first;
* :mod:`.unused` -- unused names (W001), outputs (W004) and blocks (W005);
* :mod:`.style` -- bias before BatchNorm (W002), Dropout (W003) or Softmax
  (W006) producing the model's output;
* :mod:`.budgets` -- params, MACs and parameter bytes over budget (B001-B003).

The checks that read the spec's structure run even when the engine failed on a
later layer; the budgets need the engine's report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import budgets, schema_scan, style, unused

CHECKS = (schema_scan, unused, style, budgets)


@dataclass
class Context:
    """What a check may read: the parsed spec, and the graph and report when the engine got that far."""

    file: str
    spec: object  # layercalc.spec.model.Spec
    graph: object | None  # layercalc.spec.graph.Graph, None when expansion failed
    report: object | None  # layercalc.report.Report, None when the engine failed
    settings: object  # layercalc.lint.config.FileSettings
    _scopes: list | None = field(default=None, repr=False)

    @property
    def scopes(self):
        """The data flow of every scope (the spec, each block); see :mod:`.scopes`."""
        if self._scopes is None:
            from .scopes import analyze_scopes

            self._scopes = analyze_scopes(self.spec)
        return self._scopes
