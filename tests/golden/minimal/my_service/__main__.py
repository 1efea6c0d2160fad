"""``python -m my_service``: see the ``cli`` module."""

from my_service.cli import main

raise SystemExit(main())
