"""`python -m bot` is the same as the `lk3` command."""

from bot.cli import main

raise SystemExit(main())
