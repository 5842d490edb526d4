"""Generators: the protocol, built-in generators, and loading by name."""

from synthguard.generators.base import Generator, get_generator, list_generators

__all__ = ["Generator", "get_generator", "list_generators"]
