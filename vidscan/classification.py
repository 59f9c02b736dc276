"""The classify pipeline: segments (or smoothed per-frame runs) labelled zero-/few-shot.

Boundaries come from the scene detector on the weight-free features at every frame (exact
cuts); labels come from the labelling embedder's samples (CLIP at 2 frames/s by default, or
the same features when only examples are given). Both are computed in one decode pass and
cached, so ``classify`` after ``scenes`` on the same file does not decode again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from vidscan.atomic import output_group
from vidscan.cache import EmbeddingCache
from vidscan.detect.base import Boundary, BoundaryDetector
from vidscan.embed.base import Embedder
from vidscan.errors import UsageError
from vidscan.formats import extension, format_for, write_table
from vidscan.labels import LabelScorer, LabelSet, label_segments, label_totals, load_config, merge_same_label, parse_label_list, runs, viterbi
from vidscan.labels.config import LabelSpec, check_names
from vidscan.labels.aggregate import set_label
from vidscan.labels.examples import embed_examples, example_folders
from vidscan.labels.probe import LinearProbe, load_probe
from vidscan.broadcast.breaks import CUE_FAMILIES, BreakAnalysis
from vidscan.broadcast.fusion import CueRule, cue_log_likelihood, cue_values, describe_cues, fuse
from vidscan.broadcast.grid import CueGrid
from vidscan.extract import default_sampling, embed_requests
from vidscan.options import DecodeSpec, DetectorSpec, EmbedderSpec, LabellingSpec, built_detector, built_embedder
from vidscan.scene_level import add_scene_level, switch_level
from vidscan.segment import build_timeline, segment_video, split_at
from vidscan.progress import Progress
from vidscan.timeline import Timeline
from vidscan.video import Sampling


@dataclass
class ClassifyResult:
    timeline: Timeline
    totals: pd.DataFrame

    def totals_dict(self) -> dict[str, Any]:
        return {
            "video": self.timeline.video.path,
            "duration_s": round(self.timeline.duration_s, 6),
            "labels": self.totals.to_dict(orient="records"),
        }

    def write(self, path: str | Path, fmt: str | None = None) -> list[Path]:
        """Write the labelled timeline and, beside it, its totals in the same format
        (:func:`totals_path`), both or neither; returns their paths."""
        fmt = format_for(path, fmt)
        target, totals = Path(path), totals_path(path, fmt)
        with output_group([target, totals]):
            self.timeline.write(target, fmt)
            self.write_totals(totals, fmt)
        return [target, totals]

    def write_totals(self, path: str | Path, fmt: str | None = None) -> None:
        """The totals table alone (one row per label) in ``fmt`` or the format its extension names."""
        write_table(path, format_for(path, fmt), self.totals, self.totals_dict(), rows_key="labels")


def totals_path(path: str | Path, fmt: str) -> Path:
    """Where :meth:`ClassifyResult.write` puts the totals beside the timeline ``path``:
    ``<stem>.totals<ext>``, in the timeline's format ``fmt``."""
    target = Path(path)
    stem = target.name[: -len(target.suffix)] if target.suffix else target.name
    return target.with_name(f"{stem}.totals{extension(fmt)}")


def resolve_labels(labels: LabelSet | str | None, config: str | Path | None, examples: str | Path | None) -> LabelSet:
    """One label set from ``--labels``, ``--config`` and/or ``--examples`` (which must agree)."""
    if labels is not None and config is not None:
        raise UsageError("give either --labels or --config, not both")
    if isinstance(labels, str):
        labels = parse_label_list(labels)
    elif config is not None:
        labels = load_config(config)
    if examples is not None:
        folders = example_folders(examples)
        if labels is None:
            names = list(folders)
            check_names(names)
            return LabelSet([LabelSpec(n, [], folders[n]) for n in names], source=str(examples))
        missing = [n for n in labels.names if n not in folders]
        if missing:
            raise UsageError(f"examples folder {examples} has no sub-folder for label(s) {', '.join(missing)}")
        for spec in labels.labels:
            spec.examples = folders[spec.name]
    if labels is None:
        raise UsageError("say what to look for: --labels ad,game,commentary, --config FILE or --examples DIR")
    return labels


def choose_embedder(labels: LabelSet) -> str:
    """CLIP when there are prompts to read and no examples; the weight-free features when
    examples are given (they work offline and need no text tower), or when the labels are
    defined by broadcast cues (their prompts are read only with ``--embedder clip``)."""
    has_examples = any(spec.examples for spec in labels.labels)
    return "clip" if labels.has_prompts and not has_examples and not labels.has_cues else "features"


def visual_scorer(label_set: LabelSet, emb: Embedder, warn: Callable[[str], None] | None = None) -> LabelScorer | None:
    """The pictures' scorer for ``label_set``: as :func:`label_scorer`, except that labels
    defined by broadcast cues are scored from the pictures only when every label has examples,
    or prompts and ``emb`` reads text; otherwise (None) the cues alone decide, and ``warn``
    says which prompts or examples went unused."""
    if not label_set.has_cues:
        return label_scorer(label_set, emb, warn)
    if all(spec.examples for spec in label_set.labels) or (all(spec.prompts for spec in label_set.labels) and emb.has_text):
        return label_scorer(label_set, emb, warn)
    if label_set.has_visual and warn is not None:
        how = "with --embedder clip" if not emb.has_text else "when every label has prompts or examples"
        warn(f"labels come from the broadcast cues: the prompts/examples are used {how}")
    return None


def cue_rules(label_set: LabelSet) -> list[CueRule]:
    """Each label's broadcast-cue rule, in label order."""
    return [CueRule(spec.name, tuple(spec.cues), tuple(spec.without)) for spec in label_set.labels]


def record_cues(timeline: Timeline, times: np.ndarray, grid: CueGrid, analysis: BreakAnalysis, rules: list[CueRule],
                values: dict[str, np.ndarray], missing: list[str]) -> None:
    """Say on every segment (both levels) which cues drove its label, and in the timeline's
    stats which breaks were found, from which cues."""
    by_label = {rule.label: rule for rule in rules}
    for seg in [*timeline.segments, *timeline.alternate]:
        rule = by_label.get(seg.label or "")
        if rule is not None:
            inside = slice(*np.searchsorted(times, [seg.start_s - 1e-9, seg.end_s - 1e-9]))
            seg.cues = describe_cues(rule, values, inside, analysis, seg.start_s) or None
    timeline.stats["breaks"] = [b.to_dict() for b in analysis.breaks]
    timeline.stats["cues"] = {
        "used": analysis.used,
        "audio": grid.has_audio,
        "logo": grid.logo is not None,
        "ad_break_s": round(analysis.ad_seconds, 4),
        "unavailable": missing,
        "notes": grid.notes,
    }
    timeline.settings["cues"] = {rule.label: {"cues": list(rule.cues), "without": list(rule.without)} for rule in rules}


def label_scorer(label_set: LabelSet, emb: Embedder, warn: Callable[[str], None] | None = None) -> LabelScorer:
    """Zero-shot and/or few-shot scoring of ``label_set`` with ``emb`` (prompts need a text tower)."""
    has_examples = any(spec_.examples for spec_ in label_set.labels)
    use_prompts = label_set.has_prompts and emb.has_text
    if label_set.has_prompts and not emb.has_text and not has_examples:
        emb.embed_text([])  # raises: zero-shot needs a text tower
    if label_set.has_prompts and not emb.has_text and warn is not None:
        warn(f"the {emb.name!r} embedder has no text tower: prompts are ignored, labels come from the examples")
    example_vecs = None
    if has_examples:
        example_vecs = {label.name: embed_examples(label.examples, emb, label.name) for label in label_set.labels if label.examples}
        missing = [n for n in label_set.names if n not in example_vecs]
        if missing and not use_prompts:
            raise UsageError(f"no examples for label(s) {', '.join(missing)}")
        if missing:
            example_vecs = None  # examples for only some labels cannot be compared fairly
    return LabelScorer.build(label_set, emb, example_vecs, use_prompts=use_prompts)


def probe_labels(probe: LinearProbe, source: str | Path, labels: object = None, config: object = None, examples: object = None) -> LabelSet:
    """The label set a probe brings (its own names); any other source of labels is a usage error."""
    if labels is not None or config is not None or examples is not None:
        raise UsageError("a probe brings its own labels: give --probe without --labels, --config or --examples")
    return LabelSet([LabelSpec(name) for name in probe.names], source=str(source))


def probe_embedder(probe: LinearProbe, device: str | None = None) -> EmbedderSpec:
    """The spec of the embedder the probe was trained on (on ``device`` when given)."""
    options = probe.embedder_options()
    given = {k: options[k] for k in ("name", "model", "pretrained", "fit") if k in options}
    return EmbedderSpec(**given, **({"device": device} if device else {}))


def probe_scorer(probe: str | Path | LinearProbe, labels: object, config: object, examples: object,
                 embedder: str | EmbedderSpec | Embedder | None) -> tuple[LinearProbe, LabelSet, Embedder]:
    """The probe (read from its file when given a path), its label set and the embedder to label
    with: the probe's own by default; another one must produce the same embeddings."""
    loaded = probe if isinstance(probe, LinearProbe) else load_probe(probe)
    source = loaded.source or "the probe"
    label_set = probe_labels(loaded, source, labels, config, examples)
    emb = built_embedder(probe_embedder(loaded) if embedder is None else embedder)
    loaded.check_embedder(emb, f"probe {source}" if loaded.source else source)
    return loaded, label_set, emb


def frame_scorer(emb: Embedder, labels: LabelSet | str | None = None, config: str | Path | None = None, examples: str | Path | None = None,
                 probe: str | Path | LinearProbe | None = None, warn: Callable[[str], None] | None = None) -> LabelScorer | LinearProbe:
    """What labels each frame, from whichever source was given: a probe (its own labels; the
    embedder must be its own), or prompts and/or examples (as :func:`resolve_labels`).
    The one place dataset, map and classify turn their label options into a scorer."""
    if probe is not None:
        return probe_scorer(probe, labels, config, examples, emb)[0]
    return label_scorer(resolve_labels(labels, config, examples), emb, warn)


def labelling_embedder(labels: LabelSet | str | None = None, config: str | Path | None = None, examples: str | Path | None = None,
                       probe: str | Path | LinearProbe | None = None) -> EmbedderSpec:
    """The embedder a label source needs: the probe's own, CLIP for prompts without examples,
    else the weight-free features (:func:`choose_embedder`)."""
    if probe is not None:
        return probe_embedder(probe if isinstance(probe, LinearProbe) else load_probe(probe))
    return EmbedderSpec(choose_embedder(resolve_labels(labels, config, examples)))


def classify(
    path: str | Path,
    labels: LabelSet | str | None = None,
    *,
    config: str | Path | None = None,
    examples: str | Path | None = None,
    embedder: str | EmbedderSpec | Embedder | None = None,
    detector: str | DetectorSpec | BoundaryDetector = DetectorSpec(),
    sampling: Sampling | str | None = None,
    decode: DecodeSpec | str = DecodeSpec(),
    labelling: LabellingSpec = LabellingSpec(),
    level: str = "scene",
    cache: EmbeddingCache | None = None,
    progress: Progress | None = None,
    warn: Callable[[str], None] | None = None,
    keep_embeddings: bool = False,
    probe: str | Path | LinearProbe | None = None,
    cue_families: Iterable[str] = CUE_FAMILIES,
    audio: bool = True,
) -> ClassifyResult:
    """Label the segments of one video (or, with ``labelling.per_frame``, its smoothed frames).

    Give labels as ``"ad,game,commentary"`` (zero-shot with default prompt templates), a
    :class:`LabelSet` or a TOML ``config``; and/or ``examples``, a folder with one sub-folder
    of images per label (few-shot; works with the weight-free embedder, offline).
    ``embedder`` labels the frames (default: CLIP when there are prompts and no examples, else
    the weight-free features); ``detector``, ``sampling`` and ``decode`` as for
    :func:`vidscan.detect_scenes`. ``labelling`` (a :class:`LabellingSpec`) says how scores
    become segments: per-frame smoothing, ``min_confidence``, ``merge``, and ``boundaries``:
    ``"frames"`` (default) finds scene changes on every frame with the weight-free features
    (exact cuts); ``"samples"`` finds them on the labelling embedder's own samples (no
    every-frame pass: much faster with sparse sampling, cuts placed to within one sample).
    ``level="scene"`` (default) labels scenes (a label per ad break, not per camera cut);
    ``"shot"`` labels every shot. Both levels are labelled; ``level`` picks the rows.
    ``keep_embeddings`` keeps the labelling embedder's samples on ``timeline.embedded``.
    ``probe`` (a :class:`LinearProbe` or the path of one from ``vidscan train-probe``) labels
    the frames instead of prompts or examples; the labels are the probe's, the embedder its
    own unless one is given (and then it must be the one the probe was trained on).
    With the ``coarse`` decode strategy the every-frame embeddings (the boundary pass, or the
    labels when they are sampled at every frame) are obtained coarse-to-fine; the sparse
    labelling samples are decoded exactly. ``auto`` (the default) decodes every frame in one
    pass shared with the labelling samples, or chooses per file when every request is per frame.
    Labels defined by broadcast cues (``cues``/``without`` in a config, vidscan.broadcast.fusion)
    make classify find ad breaks and measure the sound too; ``cue_families`` says which cues
    the break finder reads (vidscan.broadcast.breaks.CUE_FAMILIES, all by default) and
    ``audio=False`` ignores the sound track.
    """
    t0 = time.perf_counter()
    spec = labelling
    decode = DecodeSpec.of(decode)
    detector = built_detector(detector)  # its options checked before any decoding
    if probe is not None:
        scorer, label_set, emb = probe_scorer(probe, labels, config, examples, embedder)
    else:
        label_set = resolve_labels(labels, config, examples)
        emb = built_embedder(choose_embedder(label_set) if embedder is None else embedder)
        scorer = visual_scorer(label_set, emb, warn)

    if isinstance(sampling, str):
        sampling = Sampling.parse(sampling)
    label_sampling = sampling or default_sampling(emb)
    requests: list[tuple[Embedder, Sampling]] = [(emb, label_sampling)]
    boundary_emb, boundary_at = emb, 0  # which request's samples the shot detector reads
    if not spec.per_frame and not emb.cheap and spec.boundaries == "frames":
        boundary_emb = EmbedderSpec("features").build()  # weight-free: exact cuts at every frame
        requests.append((boundary_emb, Sampling.all_frames()))
        boundary_at = len(requests) - 1
    session = None
    if label_set.has_cues:
        from vidscan.broadcast.session import CueSession, timeline_cuts  # the audio stack loads only when cues are asked for

        session = CueSession(path, use=cue_families, audio=audio, warn=warn)
    if session is not None:
        requests += session.requests
    try:
        videos, every = embed_requests(path, requests, decode=decode, progress=progress, cache=cache)
    except BaseException:
        if session is not None:
            session.close()
        raise
    labelled = videos[0]
    frames_video = videos[boundary_at]
    names = label_set.names if scorer is None else scorer.names

    timeline = None
    if not spec.per_frame:
        timeline = segment_video(frames_video, detector, boundary_emb, decode.backend, t0)
    cue_info = None
    if session is not None:
        cuts = timeline_cuts(timeline) if timeline is not None else np.zeros(0)
        grid, analysis = session.analyse(videos[-1], frames_video if frames_video.sampling.mode == "all" else None, cuts)
        rules = cue_rules(label_set)
        values = cue_values(labelled.times, grid, analysis)
        cue_log_l, missing = cue_log_likelihood(rules, values, len(labelled.times))
        visual = scorer.log_probs(labelled.embeddings) if scorer is not None else None
        log_p = fuse(visual, cue_log_l)
        cue_info = (grid, analysis, rules, values, missing)
        if timeline is not None:
            split_at(timeline, frames_video, [t for b in analysis.breaks for t in (b.start_s, b.end_s)])
    else:
        assert scorer is not None
        log_p = scorer.log_probs(labelled.embeddings)
    probs = np.exp(log_p)

    if spec.per_frame:
        penalty = spec.smooth * labelled.samples_per_second
        path_ = viterbi(log_p, penalty) if spec.smooth > 0 else np.argmax(log_p, axis=1)
        bounds = [Boundary(start, "label") for _, start, _ in runs(path_)[1:]]
        timeline = build_timeline(labelled, bounds)
        for seg, (_, start, end) in zip(timeline.segments, runs(path_)):
            set_label(seg, probs[start:end].mean(axis=0), names, spec.min_confidence)
        timeline.settings = {"sampling": label_sampling.describe(), "backend": decode.backend, "embedder": emb.describe()}
    else:
        assert timeline is not None
        label_segments(timeline, labelled.times, probs, names, spec.min_confidence)
        # Scenes for labelling are runs of shots with a similar label distribution (square-rooted,
        # so distances are Hellinger distances), not of similar colours: a wide shot, a close-up
        # and the crowd are one game block.
        shot_probs = np.sqrt(np.array([[seg.probabilities[n] for n in names] for seg in timeline.segments]))
        add_scene_level(timeline, labelled.times, labelled.embeddings, shot_vectors=shot_probs,
                        penalty=spec.scene_penalty, min_scene_len=spec.scene_min_len)
        scenes = Timeline(timeline.video, timeline.alternate)
        label_segments(scenes, labelled.times, probs, names, spec.min_confidence)
        switch_level(timeline, level)
    if cue_info is not None:
        record_cues(timeline, labelled.times, *cue_info)
    if spec.merge:
        merge_same_label(timeline)
    timeline.settings["classify"] = {
        "mode": ("cues" if scorer is None else f"{scorer.mode}+cues") if session is not None else scorer.mode,
        "per_frame": spec.per_frame,
        "smooth_s": spec.smooth if spec.per_frame else None,
        "min_confidence": spec.min_confidence,
        "merge": spec.merge,
        "label_sampling": label_sampling.describe(),
        "label_embedder": emb.describe(),
        **label_set.describe(),
    }
    if isinstance(scorer, LinearProbe):
        timeline.settings["classify"]["probe"] = {"file": label_set.source, "embedder": scorer.embedder.get("identity"),
                                                  "sampling": scorer.sampling, "training": scorer.report.to_dict() if scorer.report else None}
    if every is not None:
        every.record(timeline)
    timeline.stats.setdefault("timings_s", {})["classify_total_s"] = round(time.perf_counter() - t0, 4)
    timeline.stats["from_cache"] = all(v.from_cache for v in videos)
    timeline.embedded = labelled if keep_embeddings else None
    return ClassifyResult(timeline, label_totals(timeline, names))
