"""Server push: topics, messages to users and broadcasts, on every instance of the service.

:mod:`.topics` declares who may subscribe to what, :mod:`.brokers` carries messages between
instances (Redis when ``REDIS_URL`` is set, else this process) and keeps each topic's recent
history, :mod:`.manager` holds this instance's sockets and delivers to them. Code anywhere (a
handler, a script, a worker) pushes through ``connection_manager`` (see ``docs/server-push.md``).
"""
