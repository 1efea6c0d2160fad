"""Every migration the template ships, oldest first. Add new ones here (with a test)."""

from __future__ import annotations

from extensions.migrations.framework import Migration

MIGRATIONS: list[Migration] = []
