"""The subcommands of ``kthreadd-emu``: one module each, with
``add_parser(subparsers)`` and ``run(args) -> int``."""
