"""What this service is called and what it does (shown on the OpenAPI page)."""

TITLE = "My Service"
DISTRIBUTION = "my-service"
DESCRIPTION = """\
A FastAPI service with an HTTP API and a WebSocket package API.
"""
