"""Generators: the protocol, generator specifications, built-in generators, and loading by name."""

from synthguard.generators.base import (
    Generator,
    GeneratorSpec,
    get_generator,
    list_generators,
    load_generator_spec,
)

__all__ = ["Generator", "GeneratorSpec", "get_generator", "list_generators", "load_generator_spec"]
