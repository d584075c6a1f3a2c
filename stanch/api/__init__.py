"""The HTTP API: FastAPI under ``/v1``, built by ``stanch.api.app.create_app``."""
