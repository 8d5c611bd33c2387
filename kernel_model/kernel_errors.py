"""What ends a run of the machine, as the kernel would end it."""


class SoftLockup(Exception):
    """A CPU ran its whole instruction budget without leaving guest code."""


class KernelPanic(Exception):
    """panic(): the kernel stopped the machine (its last line is the message)."""
