"""The engine's exceptions (debugger/engine.py re-exports them)."""


class DebuggerError(LookupError):
    """A request the engine cannot carry out (one line for the user)."""


class BreakpointRefused(DebuggerError):
    """A location that exists, where the engine cannot stop."""


class QuitDebugger(Exception):
    """Raised by on_stop to end the session."""
