"""Console scripts: ``arpo`` (the project's own jobs). Thin: parse flags, call the API, print."""

from rllib_arpo.cli.arpo import arpo

__all__ = ["arpo"]
