"""Privacy attacks; each check returns results of kind ``risk``."""

# anonymeter's modules import each other in a cycle that only resolves when its evaluators
# package is imported first.
import anonymeter.evaluators  # noqa: F401
