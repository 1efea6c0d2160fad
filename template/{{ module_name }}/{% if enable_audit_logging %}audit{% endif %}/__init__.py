"""The audit trail: every HTTP request and WebSocket message, written to ``user_actions``.

- :mod:`.records` turns a request or a message into a row, with sensitive values redacted
  (:mod:`.redaction`);
- :class:`.writer.AuditWriter` queues rows and writes them in batches, off the request path;
- :class:`.middleware.AuditMiddleware` records HTTP requests; :class:`.websocket.WebSocketAudit`,
  a traffic listener (:mod:`..hooks`) the factory registers, records each WebSocket message the
  endpoint answers.
"""
