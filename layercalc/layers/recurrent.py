"""Layer rules of the recurrent family."""

from __future__ import annotations
