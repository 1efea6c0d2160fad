"""The ASGI application served by ``python -m my_service``."""

from my_service.factory import create_app

app = create_app()
