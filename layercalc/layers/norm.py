"""Layer rules of the norm family."""

from __future__ import annotations
