"""The one exception type users see for bad input.

Every problem with a user's file, keyword, reference file or argument is raised as
:class:`JwstLazyInputError`, naming the file, the place inside it (extension or
keyword) and what was expected, so that a traceback is never the only clue.
"""

from __future__ import annotations

import os


class JwstLazyInputError(ValueError):
    """Bad input: names the file, the extension/keyword and what was expected.

    Parameters
    ----------
    problem : str
        What is wrong, in words (e.g. ``"missing extension"``).
    path : str or os.PathLike, optional
        The file concerned.
    where : str, optional
        The extension, keyword or argument concerned (e.g. ``"SCI"``, ``"NGROUPS"``).
    expected : str, optional
        What was expected there (e.g. ``"uint16 array with 4 dimensions"``).
    """

    def __init__(
        self,
        problem: str,
        path: str | os.PathLike | None = None,
        where: str | None = None,
        expected: str | None = None,
    ) -> None:
        self.problem = problem
        self.path = os.fspath(path) if path is not None else None
        self.where = where
        self.expected = expected
        parts = []
        if self.path is not None:
            parts.append(f"{self.path}")
        if where is not None:
            parts.append(f"[{where}]")
        head = " ".join(parts)
        message = f"{head}: {problem}" if head else problem
        if expected is not None:
            message += f" (expected {expected})"
        super().__init__(message)


class MissingReferenceError(JwstLazyInputError):
    """No reference file of a needed type could be found for an exposure."""
