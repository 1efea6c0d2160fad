"""The WebSocket package API on ``/web``."""
