"""Spec loading: YAML with positions -> parsed spec -> expanded graph."""
