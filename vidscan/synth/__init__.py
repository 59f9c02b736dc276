"""Synthetic videos with exact ground truth, for the demo, the tests and the benchmarks."""

from vidscan.synth.program import Event, GroundTruth, Program, Shot, Transition, TrueBoundary, truth_of
from vidscan.synth.render import render

__all__ = ["Event", "GroundTruth", "Program", "Shot", "Transition", "TrueBoundary", "render", "truth_of"]
