"""Migrations that ``copier update`` runs between template versions (see framework.py)."""
