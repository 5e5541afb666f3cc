"""Evaluation of traced output against generated ground truth."""
