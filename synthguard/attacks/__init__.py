"""Privacy attacks; each check returns results of kind ``risk``."""
