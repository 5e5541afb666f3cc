"""Architecture diagrams generated from the code: draw.io sources and PNGs in ``docs/images``.

``axis diagrams`` (or ``make diagrams``) regenerates them; :func:`talos.diagrams.generate.stale`
tells which files no longer match what the code would produce.
"""
