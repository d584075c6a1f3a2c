"""Former home of what the API's handlers share; it is now the runtime object, ``stanch.runtime.Stanch``.

Handlers receive it with the dependency ``stanch.runtime.stanch_of``. These names stay so that code
written against them goes on working: ``Services`` is ``Stanch``, ``services(request)`` is
``stanch_of(request)``.
"""

from __future__ import annotations

from stanch.runtime import MAX_JSON_BYTES, MAX_UPLOAD_BYTES, ApiLimits, Stanch, stanch_of

Services = Stanch
services = stanch_of

__all__ = ["MAX_JSON_BYTES", "MAX_UPLOAD_BYTES", "ApiLimits", "Services", "services"]
