"""The whole pipeline for a list of PATH arguments: discover -> lint each file -> one result."""

from __future__ import annotations

from .checker import lint_file
from .config import Settings
from .discover import discover
from .result import LintResult


def lint_paths(paths: list[str], settings: Settings) -> tuple[LintResult, list[str]]:
    """Lint every spec that ``paths`` (files, directories, globs, ``-``) name; return the result
    and the notes of discovery (paths that matched nothing, files passed over)."""
    files, notes = discover(paths)
    result = LintResult(strict=settings.strict)
    for path in files:
        result.add(path, lint_file(path, settings.for_file(path)))
    return result, notes
