"""Fidelity and utility metrics (kinds ``fidelity`` and ``utility``)."""
