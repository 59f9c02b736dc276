"""The one options model (issue 16): typed specs that check their values when made, hold the
defaults the command line shows, survive the trip to batch workers, and keep the batch
fingerprint of runs made before them."""

from __future__ import annotations

import dataclasses
import pickle

import click
import pytest

import vidscan
from vidscan.batch import BatchSettings
from vidscan.cli.main import cli, main
from vidscan.errors import EXIT_USAGE, UsageError
from vidscan.labels.config import parse_label_list
from vidscan.options import DecodeSpec, DetectorSpec, EmbedderSpec, LabellingSpec, default_of


@pytest.mark.parametrize("make, message", [
    (lambda: EmbedderSpec("no-such-embedder"), "unknown embedder 'no-such-embedder'; choose from clip, features"),
    (lambda: EmbedderSpec(device="tpu"), "device must be one of auto, cpu, cuda"),
    (lambda: DetectorSpec("no-such-detector"), "unknown detector"),
    (lambda: DetectorSpec("transnetv2", penalty=1.0), "--penalty does not apply to the transnetv2 detector"),
    (lambda: DetectorSpec(min_scene_len=-1), "min_scene_len must be a finite number"),
    (lambda: DecodeSpec(backend="no-such-backend"), "unknown decoder backend"),
    (lambda: DecodeSpec(strategy="sparse"), "decode must be one of auto, full, coarse"),
    (lambda: DecodeSpec("decord", "coarse"), "coarse-to-fine decoding works with the pyav decoder"),
    (lambda: LabellingSpec(boundaries="shots"), "boundaries must be one of frames, samples"),
    (lambda: LabellingSpec(min_confidence=2), "min_confidence must be a finite number"),
    (lambda: LabellingSpec().replaced(smoothing=1.0), "unknown labelling option"),
])
def test_a_spec_checks_its_values_when_made(make, message):
    with pytest.raises(UsageError, match=message):
        make()


def test_specs_are_frozen_and_survive_pickling_to_workers():
    specs = [EmbedderSpec("clip", pretrained="none", device="cpu"), DetectorSpec("kernel", penalty=0.5),
             DecodeSpec(strategy="coarse"), LabellingSpec(per_frame=True, smooth=3.0)]
    for spec in specs:
        assert pickle.loads(pickle.dumps(spec)) == spec
        with pytest.raises(dataclasses.FrozenInstanceError):
            spec.name = "x"  # type: ignore[misc]
    settings = BatchSettings(embedder=specs[0], detector=specs[1], decode=specs[2], labelling=specs[3])
    assert pickle.loads(pickle.dumps(settings)).describe() == settings.describe()


def test_an_embedder_gets_only_the_options_it_takes():
    assert EmbedderSpec("features", model="RN50", device="cpu").options() == {}
    assert EmbedderSpec("clip", model="RN50", pretrained=None, device="cpu").options() == {
        "model": "RN50", "pretrained": None, "device": "cpu", "fit": "squash"}
    assert EmbedderSpec("clip", pretrained="none").random_weights and not EmbedderSpec("features", pretrained="none").random_weights
    assert DetectorSpec("adaptive", device="cuda").options() == {}  # a device only for detectors that run a network
    assert DetectorSpec("transnetv2", device="cpu").options() == {"device": "cpu"}


def test_names_are_shorthand_for_specs():
    assert BatchSettings(embedder="clip", detector="kernel", decode="coarse") == BatchSettings(
        embedder=EmbedderSpec("clip"), detector=DetectorSpec("kernel"), decode=DecodeSpec(strategy="coarse"))
    assert DecodeSpec.of("coarse") == DecodeSpec(strategy="coarse") and DecodeSpec.of(None) == DecodeSpec()


def _option(command: str, name: str) -> click.Option:
    return next(p for p in cli.commands[command].params if p.name == name)


@pytest.mark.parametrize("command", ["scenes", "classify", "batch"])
def test_the_command_line_shows_the_specs_defaults(command):
    """Each default is written once, on the spec; the command line reads it from there."""
    for option, (spec, field) in {"embedder": (EmbedderSpec, "name"), "model": (EmbedderSpec, "model"),
                                  "pretrained": (EmbedderSpec, "pretrained"), "device": (EmbedderSpec, "device"),
                                  "clip_fit": (EmbedderSpec, "fit"), "detector": (DetectorSpec, "name"),
                                  "backend": (DecodeSpec, "backend"), "decode": (DecodeSpec, "strategy")}.items():
        assert _option(command, option).default == default_of(spec, field), option
    if command != "scenes":
        assert _option(command, "smooth").default == default_of(LabellingSpec, "smooth")
        assert _option(command, "boundaries").default == default_of(LabellingSpec, "boundaries")


def test_batch_fingerprints_keep_the_layout_made_before_the_specs():
    """A batch record made by an earlier version must still match (or every video is redone)."""
    coarse = BatchSettings(detector=DetectorSpec("kernel", penalty=0.5), decode=DecodeSpec(strategy="coarse"), sampling="fps:2").describe()
    coarse.pop("vidscan")
    assert coarse == {"embedder": "features", "sampling": "fps:2", "detector": {"name": "kernel", "min_scene_len": None, "penalty": 0.5},
                      "decoder": "pyav", "formats": ["csv", "json"], "decode": "coarse"}
    labelled = BatchSettings(labels=parse_label_list("a,b"), embedder="clip",
                             labelling=LabellingSpec(per_frame=True, smooth=3.0, merge=True)).describe()
    assert labelled["clip"] == {"model": "ViT-B-32", "pretrained": "laion2b_s34b_b79k", "device": "auto", "fit": "squash"}
    assert labelled["classify"] == {"per_frame": True, "smooth": 3.0, "min_confidence": 0.0, "merge": True, "boundaries": "frames"}
    # --decode auto (the default since it came) may decode differently from the full decode an
    # earlier record was made with, so it is part of the fingerprint; full still is not.
    assert set(labelled) == {"vidscan", "embedder", "sampling", "detector", "decoder", "formats", "clip", "labels", "examples", "classify", "decode"}
    assert labelled["decode"] == "auto"
    full = BatchSettings(labels=parse_label_list("a,b"), embedder="clip", decode="full",
                         labelling=LabellingSpec(per_frame=True, smooth=3.0, merge=True)).describe()
    assert "decode" not in full


def test_the_old_decoder_spelling_works_hidden_with_a_note(shots_video, tmp_path, capsys):
    scenes_help = cli.commands["scenes"].get_help(click.Context(cli.commands["scenes"]))
    assert "--backend" in scenes_help and "--decoder" not in scenes_help
    out_new, out_old = tmp_path / "new.csv", tmp_path / "old.csv"
    assert main(["scenes", str(shots_video[0]), "--backend", "pyav", "-o", str(out_new), "-q", "--no-cache"]) == 0
    capsys.readouterr()
    assert main(["scenes", str(shots_video[0]), "--decoder", "pyav", "-o", str(out_old), "-q", "--no-cache"]) == 0
    assert "--decoder is now --backend" in capsys.readouterr().err
    assert out_old.read_text() == out_new.read_text()
    assert main(["scenes", str(shots_video[0]), "--decoder", "nope", "-q"]) == EXIT_USAGE


def test_library_entry_points_take_specs_names_or_built_objects(shots_video):
    path, truth = shots_video
    by_name = vidscan.detect_scenes(path, detector="kernel")
    by_spec = vidscan.detect_scenes(path, embedder=EmbedderSpec(), detector=DetectorSpec("kernel"), decode=DecodeSpec())
    built = vidscan.detect_scenes(path, embedder=vidscan.create_embedder("features"), detector=vidscan.create_detector("kernel"))
    assert [s.start_frame for s in by_name.segments] == [s.start_frame for s in by_spec.segments] == [s.start_frame for s in built.segments]
    assert by_name.settings["detector"]["detector"] == "kernel"


class HalfLength:
    """A module-level detector (so worker processes can receive it): a cut in the middle."""

    def __new__(cls, **options):
        from vidscan.detect.base import Boundary, BoundaryDetector

        class Detector(BoundaryDetector):
            name = "half"

            def fit(self, signal, samples_per_second, luma=None, diffs=None):
                self.found = [Boundary(len(signal) // 2)]
                return self

            def predict(self):
                return self.found

            def params(self):
                return {"detector": self.name}

        return Detector()


def test_a_detector_registered_in_the_calling_program_reaches_batch_workers(shots_video, tmp_path):
    """Workers start afresh (spawn): the caller's registrations travel with the settings."""
    from vidscan.batch import BatchOptions, discover_inputs, run_batch
    from vidscan.detect import DETECTORS, register_detector

    register_detector("half", HalfLength)
    try:
        settings = BatchSettings(detector="half", use_cache=False)
        report = run_batch(discover_inputs([str(shots_video[0])]), tmp_path / "out", settings, BatchOptions(workers=1))
    finally:
        DETECTORS.unregister("half")
    assert report.failed == 0 and report.done == 1
    timeline = next((tmp_path / "out" / "videos").glob("*/timeline.csv"))
    assert len(timeline.read_text().strip().splitlines()) == 1 + 2  # header and the two halves


def test_a_registration_workers_cannot_receive_is_one_usage_error(shots_video, tmp_path):
    from vidscan.batch import BatchOptions, discover_inputs, run_batch
    from vidscan.detect import DETECTORS, register_detector

    register_detector("local-lambda", lambda **options: HalfLength())
    try:
        with pytest.raises(UsageError, match="'local-lambda' registered in this program cannot be sent to batch workers"):
            run_batch(discover_inputs([str(shots_video[0])]), tmp_path / "out", BatchSettings(detector="local-lambda"), BatchOptions(workers=1))
    finally:
        DETECTORS.unregister("local-lambda")
    assert not (tmp_path / "out").exists()
