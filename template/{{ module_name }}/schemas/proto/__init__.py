"""The WebSocket protocol in protobuf: ``ws.proto``, the code generated from it, and the codec.

``ws_pb2.py`` and ``ws_pb2.pyi`` are generated (``docs/websocket-api.md`` says how); never edit
them by hand. :mod:`.codec` turns binary frames into the protocol's models and back.
"""
