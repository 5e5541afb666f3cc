"""AXIS's own benchmark: the standard clip, the pipeline benchmark, the vectorizer comparison
and the CI regression gate.

Absolute times on shared machines are noisy, so every time is also given as a ratio to a
small calibration workload (:mod:`talos.bench.calibration`) measured in the same run.
"""
