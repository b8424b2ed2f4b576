"""One diagnostic: a place in a file, a stable code, a message and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass

from ..codes import CODES


@dataclass(frozen=True)
class Problem:
    """A problem found in ``file`` at 1-based ``line`` and ``col``.

    ``message`` says what was found and what was expected; ``fix`` how to fix
    it. The level (error or warning) and the slug come from the code's entry
    in :data:`layercalc.codes.CODES`.
    """

    file: str
    line: int
    col: int
    code: str
    message: str
    fix: str | None = None

    @property
    def level(self) -> str:
        return CODES[self.code].level

    @property
    def slug(self) -> str:
        return CODES[self.code].slug

    @property
    def text(self) -> str:
        """The message followed by the fix, as one sentence for one-line formats."""
        if not self.fix:
            return self.message
        return self.message + ("" if self.message.endswith((".", "?", "!")) else ".") + f" Fix: {self.fix}"

    def sort_key(self):
        return (self.file, self.line, self.col, self.code, self.message)

    @classmethod
    def from_error(cls, exc) -> "Problem":
        """A problem from a :class:`~layercalc.errors.SpecError`."""
        code = exc.code if exc.code in CODES else "S000"
        return cls(exc.mark.file, max(1, exc.mark.line), max(1, exc.mark.col), code, exc.message, exc.fix)

    def to_dict(self) -> dict:
        return {"path": self.file, "line": self.line, "col": self.col, "code": self.code, "slug": self.slug,
                "level": self.level, "message": self.message, "fix": self.fix}
