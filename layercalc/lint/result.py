"""The outcome of a run: the problems of every file, counts, and the exit status."""

from __future__ import annotations

from dataclasses import dataclass, field

from .problem import Problem


@dataclass
class FileResult:
    path: str
    problems: list[Problem]

    @property
    def errors(self) -> int:
        return sum(p.level == "error" for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(p.level == "warning" for p in self.problems)


@dataclass
class LintResult:
    """Accumulates :class:`FileResult` in the order the files were linted."""

    strict: bool = False
    files: list[FileResult] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why): YAML files that are not specs

    def add(self, path: str, problems: list[Problem]) -> None:
        self.files.append(FileResult(path, problems))

    @property
    def problems(self) -> list[Problem]:
        """All problems, sorted by file and position."""
        return sorted((p for f in self.files for p in f.problems), key=Problem.sort_key)

    @property
    def errors(self) -> int:
        return sum(f.errors for f in self.files)

    @property
    def warnings(self) -> int:
        return sum(f.warnings for f in self.files)

    def fails(self, problem: Problem) -> bool:
        """Whether this problem makes the run fail (errors; warnings too under --strict)."""
        return problem.level == "error" or self.strict

    @property
    def success(self) -> bool:
        return not any(self.fails(p) for f in self.files for p in f.problems)

    def exit_code(self, exit_zero: bool = False) -> int:
        return 0 if exit_zero or self.success else 1

    def summary(self) -> str:
        n = len(self.files)
        files = f"{n} file{'s' * (n != 1)}"
        if not self.errors and not self.warnings:
            return f"{files} checked: no problems."
        bad = sum(1 for f in self.files if f.problems)
        parts = []
        if self.errors:
            parts.append(f"{self.errors} error{'s' * (self.errors != 1)}")
        if self.warnings:
            parts.append(f"{self.warnings} warning{'s' * (self.warnings != 1)}")
        text = f"{' and '.join(parts)} in {bad} of {files}"
        if self.strict and self.warnings:
            text += " (--strict: warnings fail)"
        return text + "."
