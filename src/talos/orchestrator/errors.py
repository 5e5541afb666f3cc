"""What the Orchestrator's operations raise; the API maps them to 404 and 409."""

from __future__ import annotations


class JobNotFound(LookupError):
    """No such job (or dead-letter entry)."""


class CallbackConflict(RuntimeError):
    """The request does not fit the job's state: a callback from a module the job does not
    run or for a stage never started, or a replay of a job that is not failed."""
