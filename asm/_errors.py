"""The one internal error type; assembler.py turns it into the public AsmError."""

from __future__ import annotations


class SourceError(Exception):
    """A problem in the source, located by whoever knows the statement.

    Deep helpers (expressions, operands, encoding) know only what went wrong; the
    statement loop adds the line number and text before the error leaves the package.
    """

    def __init__(self, message: str, lineno: int = 0, text: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.lineno = lineno
        self.text = text

    def locate(self, lineno: int, text: str) -> SourceError:
        """Attach a location unless an inner statement (a macro body line) already did."""
        if not self.lineno:
            self.lineno, self.text = lineno, text
        return self


class UndefinedSymbolError(SourceError):
    """A symbol nothing defines: fatal where a value is needed, not in an unused `.set`
    (unless it is a numeric local label, `9f` with no `9:` after it: GNU as refuses
    that even there)."""

    def __init__(self, message: str, local: bool = False):
        super().__init__(message)
        self.local = local
