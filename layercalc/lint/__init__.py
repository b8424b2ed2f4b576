"""`layercalc lint`: diagnostics for CI."""
