"""Built-in architecture files, installed with the package (see docs/format.md)."""
