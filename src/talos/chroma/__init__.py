"""CHROMA, the colorist of TALOS: ``lines.json`` + a style profile → colored PNG frames and MP4.

:mod:`talos.chroma.profiles` loads style profiles, :mod:`talos.chroma.render` draws one frame,
:mod:`talos.chroma.video` encodes the MP4, :mod:`talos.chroma.colorize` runs a whole job.
"""
