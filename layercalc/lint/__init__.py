"""`layercalc lint`: every problem of every spec, for CI, pre-commit and editors.

A pipeline in four steps, each its own module:

* :mod:`.discover` turns PATH arguments (files, directories, globs) into spec files;
* :mod:`.config` reads budgets and code selection from the command line and
  ``[tool.layercalc]`` in the nearest pyproject.toml (with per-file overrides);
* :mod:`.checker` loads one file and runs the engine, then the checks of
  :mod:`.checks` (unused names, style, budgets), yielding :class:`.problem.Problem`;
* :mod:`.result` gathers the problems and decides the exit status, and
  :mod:`.reporters` prints them (text, github, json, sarif, junit).

The codes, their slugs and explanations live in :mod:`layercalc.codes`.
Library use::

    from layercalc.lint.checker import lint_text
    from layercalc.lint.config import Settings
    problems = lint_text(open("model.yaml").read(), "model.yaml", Settings())
"""
