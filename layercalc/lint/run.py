"""The whole pipeline for a list of PATH arguments: discover -> lint each file -> one result."""

from __future__ import annotations

from .checker import lint_file
from .config import Settings
from .discover import discover_specs
from .result import LintResult


def lint_paths(paths: list[str], settings: Settings, specs_only: bool = False) -> tuple[LintResult, list[str]]:
    """Lint every spec that ``paths`` (files, directories, globs, ``-``) name; return the result
    and the notes of discovery (paths that matched nothing). YAML files found in directories and
    globs that are not layercalc specs are passed over (and, with ``specs_only``, named ones
    too): they are in ``result.skipped`` with the reason."""
    files, notes, skipped = discover_specs(paths, specs_only)
    result = LintResult(strict=settings.strict)
    result.skipped = skipped
    for path in files:
        result.add(path, lint_file(path, settings.for_file(path)))
    return result, notes
