"""Exceptions that map to exit codes.

A user mistake (bad file, bad option, bad schema) raises :class:`InputError`; the CLI prints its
message on one line and exits with code 2. Messages name files, columns and problems, never values
of real rows.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["InputError"]


class InputError(Exception):
    """A problem with the user's inputs or options (exit code 2).

    Parameters
    ----------
    problems : str or iterable of str
        One or more problem descriptions; all are reported at once, on one line.
    hint : str, optional
        What to do about it.
    """

    def __init__(self, problems: str | Iterable[str], hint: str | None = None) -> None:
        self.problems: tuple[str, ...] = (problems,) if isinstance(problems, str) else tuple(problems)
        self.hint = hint
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """The whole error as one line (no newlines, problems separated by ``; ``)."""
        text = "; ".join(p.replace("\n", " ") for p in self.problems)
        if self.hint:
            text = f"{text}. {self.hint}"
        return text
