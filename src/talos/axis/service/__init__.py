"""AXIS as an HTTP service: ``create_app`` in :mod:`talos.axis.service.app`.

Thin routes (``routes/``) over services (``jobs``, ``edits``, ``inputs``, ``callbacks``),
persistence (``models``, ``db``, ``migrations/``) and executors (``executors``, ``runner``).
"""
