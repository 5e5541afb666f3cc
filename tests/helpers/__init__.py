"""Helpers shared by the test suite (not tests; pytest collects nothing here).

- :mod:`tests.helpers.processes`: the ``axis`` command and TALOS servers as real processes on
  free loopback ports: start, wait until they answer, stop, read their logs.
- :mod:`tests.helpers.api`: talking to a running service: polling a job, the one error body,
  a callback receiver.
- :mod:`tests.helpers.databases`: a fresh PostgreSQL database per test module.
"""
