"""The package version (stage 0: read by the top level and by saved files)."""

__all__ = ["__version__"]

__version__ = "0.1.0"
