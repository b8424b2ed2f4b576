"""Explanations of lint codes (`layercalc lint --explain`): text from the code table."""

from __future__ import annotations


def explain_text(query: str) -> str | None:
    """The explanation of a code, a slug, or every code of a prefix (``W``); None when nothing matches."""
    import textwrap

    from ..codes import CODES
    from .config import OPT_IN

    q = query.strip()
    matches = [c for c in CODES.values() if c.code == q.upper() or c.slug == q.lower()]
    if not matches:
        matches = [c for c in CODES.values() if c.code.startswith(q.upper()) or c.slug.startswith(q.lower() + ".")]
    if not matches:
        return None
    parts = []
    for c in matches:
        head = f"{c.code} {c.slug} ({c.level}{', off by default' if c.code in OPT_IN else ''})"
        lines = [head, "", c.summary[0].upper() + c.summary[1:] + "."]
        if c.explanation:
            lines += ["", textwrap.fill(c.explanation, width=88, break_on_hyphens=False)]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)
