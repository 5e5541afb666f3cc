"""TALOS: an AI animation pipeline. AXIS is its line-art engine (:mod:`talos.axis`)."""

__version__ = "0.1.0"
