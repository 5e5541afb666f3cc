"""AXIS, the line-art engine of TALOS: video in, editable vector strokes out."""
