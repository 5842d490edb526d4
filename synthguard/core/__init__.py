"""Shared numerical building blocks (no knowledge of attacks)."""
