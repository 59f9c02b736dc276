"""Zero-shot and few-shot labels for segments and frames."""

from vidscan.labels.aggregate import label_segments, label_totals, merge_same_label
from vidscan.labels.config import UNKNOWN, LabelSet, LabelSpec, load_config, parse_label_list
from vidscan.labels.scoring import LabelScorer
from vidscan.labels.smoothing import runs, viterbi

__all__ = [
    "UNKNOWN",
    "LabelScorer",
    "LabelSet",
    "LabelSpec",
    "label_segments",
    "label_totals",
    "load_config",
    "merge_same_label",
    "parse_label_list",
    "runs",
    "viterbi",
]
