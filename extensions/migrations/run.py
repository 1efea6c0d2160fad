"""Entry point Copier runs for ``_migrations`` (both stages of every update, except from a
release to itself, when none can be due: see copier.yml).

Copier passes the stage and both template versions as environment variables (``STAGE``,
``VERSION_PEP440_FROM``, ``VERSION_PEP440_TO``) and runs this script in the project folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Run as a script from the template checkout: make `extensions` importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from extensions.migrations.framework import MigrationError, run
from extensions.migrations.registry import MIGRATIONS


def main() -> int:
    stage = os.environ.get("STAGE", "")
    if stage not in ("before", "after"):
        print(f"migrations: unknown stage {stage!r}", file=sys.stderr)
        return 2
    try:
        run(
            MIGRATIONS,
            Path.cwd(),
            stage,
            os.environ["VERSION_PEP440_FROM"],
            os.environ["VERSION_PEP440_TO"],
        )
    except (MigrationError, KeyError) as error:
        print(f"migrations: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
