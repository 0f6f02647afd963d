"""``python -m bot``: the same as the ``pollbot`` command."""

from bot.cli import main

raise SystemExit(main())
