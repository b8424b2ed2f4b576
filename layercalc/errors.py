"""Errors that carry their place in the spec.

Every problem with a spec is a :class:`SpecError` holding a :class:`Mark`
(file, 1-based line and column) taken from the YAML node it concerns, a stable
code (see :mod:`layercalc.codes`), what was received, what was expected and how
to fix it. The CLI prints ``str(error)``, which reads::

    model.yaml:7:5: Conv2d 'stem': kernel_size=0 is invalid; expected an integer >= 1. Fix: use a positive kernel size. [S006]
"""

from __future__ import annotations

from typing import NamedTuple


class Mark(NamedTuple):
    """A place in a spec file: 1-based line and column (a tuple: cheap to make by the thousand)."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class SpecError(Exception):
    """An invalid spec, located at ``mark``.

    ``message`` says what was received and what was expected; ``fix`` says how
    to fix it. ``code`` is a stable diagnostic code from :mod:`layercalc.codes`.
    """

    def __init__(self, mark: Mark, message: str, fix: str | None = None, code: str = "S000"):
        self.mark = mark
        self.message = message
        self.fix = fix
        self.code = code
        super().__init__(self.render())

    def render(self, with_code: bool = True) -> str:
        text = f"{self.mark}: {self.message}"
        if self.fix:
            text += ("" if text.endswith((".", "?", "!")) else ".") + f" Fix: {self.fix}"
        if with_code:
            text += f" [{self.code}]"
        return text

    def __str__(self) -> str:
        return self.render()


class LayerError(Exception):
    """Raised by a layer rule; the engine turns it into a located :class:`SpecError`.

    ``arg`` names the argument at fault (its YAML position is used), or None
    for the layer entry itself (for example an input shape it cannot take).
    """

    def __init__(self, message: str, fix: str | None = None, arg: str | None = None, code: str = "G003"):
        self.message = message
        self.fix = fix
        self.arg = arg
        self.code = code
        super().__init__(message)


def did_you_mean(word: str, choices) -> str:
    """A ' Did you mean X?' hint, or ''."""
    import difflib

    lower = {str(c).lower(): c for c in choices}
    if word.lower() in lower:  # RELU -> ReLU before any merely similar name (ELU)
        close = [lower[word.lower()]]
    else:
        close = difflib.get_close_matches(word, [str(c) for c in choices], n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""
