<%!
def literal(value):
    """A revision id (or several, or none) as the Python source ruff format writes."""
    if value is None:
        return "None"
    if isinstance(value, (list, tuple)):
        items = ", ".join('"%s"' % item for item in value)
        return "(%s,)" % items if len(value) == 1 else "(%s)" % items
    return '"%s"' % value
%>"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401  (the operations below may use them)
import sqlmodel  # noqa: F401
from alembic import op  # noqa: F401
${imports if imports else ""}
revision: str = ${literal(up_revision)}
down_revision: str | Sequence[str] | None = ${literal(down_revision)}
branch_labels: str | Sequence[str] | None = ${literal(branch_labels)}
depends_on: str | Sequence[str] | None = ${literal(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
