"""The TALOS Orchestrator: runs jobs through PRISM → AXIS → CHROMA, retries, dead-letters.

* :mod:`.models` / :mod:`.db` — its own tables (jobs, stages, attempts, DLQ), own metadata;
* :mod:`.retry` — which failures are transient, and the backoff between attempts (tenacity);
* :mod:`.flows` — which stages a job has and what each stage's request is;
* :mod:`.engine` — the state machine: a background loop dispatches due stages, times out
  silent ones and resumes from the database after a restart; callbacks advance jobs;
* :mod:`.dlq` — dead-letter entries and replay;
* :mod:`.views` — rows as API JSON; :mod:`.errors` — not found / conflict;
* :mod:`.app` — the HTTP API (``create_app(settings)``), its routes in :mod:`.routes` (one
  module per resource, app state through :mod:`.deps`); :mod:`.schemas` — its bodies.
"""
