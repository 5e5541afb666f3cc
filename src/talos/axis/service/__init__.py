"""AXIS as an HTTP service: ``create_app`` in :mod:`talos.axis.service.app`.

Thin routes (``routes/``) over services (``jobs``, ``edits``, ``shots``), persistence
(``tables``, ``migrations/``) and executors (``executors``, ``runner``). The plumbing every
module shares (errors, API keys, databases, callbacks, input URLs) is :mod:`talos.web`.
"""
