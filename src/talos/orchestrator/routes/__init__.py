"""The Orchestrator's routes, one module per resource: ``health`` (no key), ``jobs`` and
``dlq`` (X-API-Key when configured), ``callbacks`` (the job's callback token)."""
