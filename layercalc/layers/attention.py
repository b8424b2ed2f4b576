"""Layer rules of the attention family."""

from __future__ import annotations
