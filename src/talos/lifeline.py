"""Child processes that end with the process that made them.

A process-pool worker blocks reading its task queue, and it holds that queue's writing end
too, so it never sees end of input when the process that made the pool dies: a ``kill -9`` of
``axis serve`` used to leave every frame-pool worker (hundreds of MB) alive for good. Use
:func:`start` as the pool's initializer: it starts a daemon thread that ends the worker
(``os._exit``) within :data:`CHECK_S` of its owner's end, and only then unpickles and runs the
real initializer. Unpickling the steps imports the engine (OpenCV, SciPy, ...), seconds on a
busy machine, and a worker killed in that window must not survive either; so this module
imports nothing heavy.

psutil's ``is_running`` also compares the start time, so a recycled pid does not keep a worker
alive; a zombie owner counts as gone.
"""

from __future__ import annotations

import os
import pickle
import threading
import time

import psutil

CHECK_S = 0.5  # how often a worker looks for its owner, s


def watch(owner_pid: int) -> None:
    """End this process within :data:`CHECK_S` of process ``owner_pid``'s end."""
    try:
        owner = psutil.Process(owner_pid)
    except psutil.NoSuchProcess:
        os._exit(1)

    def loop() -> None:
        while True:
            time.sleep(CHECK_S)
            try:
                alive = owner.is_running() and owner.status() != psutil.STATUS_ZOMBIE
            except psutil.NoSuchProcess:
                alive = False
            if not alive:
                os._exit(1)  # no clean-up: the results have nobody to go to

    threading.Thread(target=loop, name="lifeline", daemon=True).start()


def start(owner_pid: int, initializer: bytes) -> None:
    """Pool initializer: :func:`watch` the owner, then run ``initializer``, a pickled
    ``(function, args)`` pair."""
    watch(owner_pid)
    function, args = pickle.loads(initializer)
    function(*args)
