"""CLIP embeddings through open_clip: a model name plus a pretrained tag or a checkpoint.

Weights are never fetched silently on an offline machine: a tag is first looked up in the
local caches (Hugging Face hub cache, open_clip's URL cache); only if it is missing and the
hub answers a quick probe is it downloaded. Otherwise :class:`ModelUnavailableError` says,
in one line and within seconds, how to provide the weights.

Checkpoints are read by vidscan itself (:func:`read_checkpoint`: safetensors, or
``torch.load(weights_only=True)``), never by open_clip's loader, so a pickle that would run
code is refused whatever torch and open_clip versions are installed (torch < 2.6 defaults to
``weights_only=False`` and older open_clip does not pass it); open_clip's layout conversions
are then applied to those tensors (:func:`open_clip_layout`), and big_vision ``.npz`` files go
to open_clip's numpy reader. Preprocessing runs on tensors
(frames arrive already resized by the decoder), on the GPU when there is one, in fp16 there.
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import os
import pickle
import socket
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np

from vidscan.embed.base import Embedder, check_frames
from vidscan.extras import require
from vidscan.embed.registry import CLIP_FITS, DEFAULT_CLIP_MODEL, DEFAULT_CLIP_PRETRAINED
from vidscan.errors import ModelUnavailableError, UsageError

if TYPE_CHECKING:
    import torch

_RANDOM = ("none", "random")
#: Seconds the hub probe may take (name lookup included) before the hub counts as unreachable.
HUB_PROBE_TIMEOUT_S = 3.0


def resolve_device(device: str = "auto") -> str:
    """``auto`` -> ``cuda`` when available, else ``cpu``; an impossible request is a usage error."""
    import torch

    device = (device or "auto").lower()
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError("--device cuda was requested but no CUDA GPU is available; use --device cpu or auto")
    if device not in ("cpu",) and not device.startswith("cuda"):
        raise UsageError(f"unknown device {device!r}; use auto, cpu or cuda")
    return device


def _looks_like_path(pretrained: str) -> bool:
    return os.sep in pretrained or pretrained.endswith((".pt", ".pth", ".bin", ".safetensors")) or Path(pretrained).exists()


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type when empty): errors stay one line."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def hub_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) asks for no network at all."""
    return any(os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on") for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def hub_reachable(timeout: float = HUB_PROBE_TIMEOUT_S) -> bool:
    """Whether a TCP connection to the hub (``$HF_ENDPOINT``, else huggingface.co) opens within
    ``timeout`` seconds. The name lookup runs in a thread too (``getaddrinfo`` has no timeout of
    its own), so a machine without network answers in ``timeout``, not after the hub client's
    minutes of retries."""
    if hub_offline():
        return False
    url = urlsplit(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    if not url.hostname:
        return False
    try:
        port = url.port or (80 if url.scheme == "http" else 443)
    except ValueError:
        return False
    result: list[bool] = []

    def connect() -> None:
        try:
            with socket.create_connection((url.hostname, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    probe = threading.Thread(target=connect, name="vidscan-hub-probe", daemon=True)
    probe.start()
    probe.join(timeout)
    return bool(result and result[0])


def download_weights(model: str, tag: str, cache_dir: str | None = None) -> str:
    """Download ``model``/``tag`` into the Hugging Face cache (or ``cache_dir``) and return its
    path; :class:`ModelUnavailableError` (one line, how to get the weights) when offline or when
    the download fails. The hub client's retry warnings are silenced: the error says it all.
    The probe comes first, before open_clip is even imported (seconds): offline, the answer is
    immediate, and a misspelt tag is only reported where the download can run."""
    if not hub_reachable():
        raise ModelUnavailableError(offline_message(model, tag))
    import open_clip

    if tag not in open_clip.list_pretrained_tags_by_model(model):
        raise UsageError(f"unknown model/tag {model}/{tag}; see 'vidscan models list'")
    cfg = open_clip.get_pretrained_cfg(model, tag)
    hub_logger = logging.getLogger("huggingface_hub")
    level = hub_logger.level
    hub_logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings(), _quiet_root_logger():
            warnings.simplefilter("ignore")
            path = open_clip.download_pretrained(cfg, cache_dir=cache_dir)
    except Exception as exc:  # noqa: BLE001 - network and hub errors come in many types
        raise ModelUnavailableError(f"download of {model}/{tag} failed ({first_line(exc)}); {offline_message(model, tag)}") from None
    finally:
        hub_logger.setLevel(level)
    if not path or not os.path.isfile(path):
        raise ModelUnavailableError(offline_message(model, tag))
    return str(path)


def read_checkpoint(path: str | Path) -> dict[str, "torch.Tensor"]:
    """The tensors of a local checkpoint (a state dict, possibly under ``"state_dict"``), read
    without running code: safetensors, or ``torch.load(weights_only=True)`` passed explicitly
    (torch < 2.6 defaults to False). A file that needs more than tensors is refused."""
    import torch

    path = str(path)
    try:
        if path.endswith(".safetensors"):
            from safetensors.torch import load_file

            checkpoint: Any = load_file(path, device="cpu")
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # objects other than tensors, or not a pickle at all
        raise ModelUnavailableError(
            f"cannot load CLIP weights {path}: not a plain weights file (vidscan reads .safetensors and state "
            "dicts of tensors saved with torch.save, never other pickled objects, which could run code)") from None
    except Exception as exc:  # noqa: BLE001 - a bad file fails in many ways (zip, header, truncation)
        raise ModelUnavailableError(f"cannot load CLIP weights {path}: {first_line(exc)}") from None
    if isinstance(checkpoint, dict) and isinstance(checkpoint.get("state_dict"), dict):
        checkpoint = checkpoint["state_dict"]
    if not isinstance(checkpoint, dict) or not checkpoint or \
            not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in checkpoint.items()):
        raise ModelUnavailableError(f"cannot load CLIP weights {path}: not a state dict of tensors")
    if all(k.startswith("module.") for k in checkpoint):  # saved from DistributedDataParallel
        checkpoint = {k[len("module."):]: v for k, v in checkpoint.items()}
    return checkpoint


def cached_checkpoint(model: str, tag: str, cache_dir: str | None = None) -> str | None:
    """Path of already-downloaded weights for ``model``/``tag``, or None."""
    import open_clip

    cfg = open_clip.get_pretrained_cfg(model, tag)
    hub = cfg.get("hf_hub", "")
    if hub:
        from huggingface_hub import try_to_load_from_cache

        parts = hub.strip("/").split("/")
        repo_id, filename = "/".join(parts[:2]), "/".join(parts[2:])
        for name in [filename] if filename else ["open_clip_model.safetensors", "open_clip_pytorch_model.bin"]:
            found = try_to_load_from_cache(repo_id, name, cache_dir=cache_dir)
            if isinstance(found, str) and os.path.exists(found):
                return found
    url = cfg.get("url", "")
    if url:
        folder = cache_dir or os.path.expanduser("~/.cache/clip")
        candidate = os.path.join(folder, os.path.basename(url))
        if os.path.exists(candidate):
            return candidate
    return None


@contextlib.contextmanager
def _quiet_root_logger():
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def offline_message(model: str, tag: str) -> str:
    return (
        f"CLIP weights {model}/{tag} are not on this machine and cannot be downloaded (offline). "
        f"Fetch them once where there is internet with 'vidscan models download {model} {tag}' "
        "(they go to the Hugging Face cache, ~/.cache/huggingface), pass a local checkpoint with "
        "--pretrained /path/to/open_clip_model.safetensors, or work without weights: --embedder features, with example "
        "images for labels (classify --examples DIR) and an image for search (search VIDEO --image FILE)"
    )


def no_weights_anywhere(cache_dir: str | None = None) -> bool:
    """True when no CLIP weights of any model are on this machine: nothing named ``open_clip_*``
    in the Hugging Face cache (or ``cache_dir``) and nothing in ``~/.cache/clip``. Cheap (no
    open_clip import, which costs seconds), so an offline machine that never fetched weights
    is told at once; with anything there, the exact lookup decides."""
    from huggingface_hub.constants import HF_HUB_CACHE  # after require("clip")

    hub = Path(cache_dir or HF_HUB_CACHE).expanduser()
    if any(hub.glob("models--*/snapshots/*/open_clip_*")) or any(hub.glob("models--*/snapshots/*/*/open_clip_*")):
        return False
    if cache_dir and any(Path(cache_dir).expanduser().glob("*.pt")):
        return False
    return not any(Path("~/.cache/clip").expanduser().glob("*.pt"))


def check_weights_quickly(model: str, pretrained: str | None, cache_dir: str | None = None) -> None:
    """Fail in well under a second, before open_clip and torch are imported, when the weights
    ``pretrained`` names certainly cannot be had: a checkpoint path that is not a file, or a tag
    on a machine that is offline and holds no CLIP weights at all (or torch and open_clip are
    not installed)."""
    require("clip")
    if pretrained is None or str(pretrained).lower() in _RANDOM:
        return
    pretrained = str(pretrained)
    if _looks_like_path(pretrained):
        if not Path(pretrained).expanduser().is_file():
            raise ModelUnavailableError(f"checkpoint not found: {pretrained}")
        return
    if _ships_with_open_clip(model) and no_weights_anywhere(cache_dir) and not hub_reachable():
        raise ModelUnavailableError(offline_message(model, pretrained))


def _ships_with_open_clip(model: str) -> bool:
    """Whether ``model`` is one of open_clip's own architectures (its config file is in the
    installed package), found without importing open_clip; a misspelt name is left to the
    exact check, which suggests the right one."""
    import importlib.util

    spec = importlib.util.find_spec("open_clip")
    if spec is None or not spec.origin:
        return False
    return (Path(spec.origin).parent / "model_configs" / f"{model}.json").is_file()


def open_clip_layout(net: "torch.nn.Module", state: dict[str, "torch.Tensor"]) -> dict[str, "torch.Tensor"]:
    """``state`` in the layout ``net`` expects: open_clip's own conversions (third-party and
    older layouts, scalar/1-d logit scales, stale position ids, resized position embeddings),
    the steps its ``load_checkpoint`` takes after reading, applied here to tensors vidscan read
    safely itself."""
    from open_clip import model as clip_model

    try:
        from open_clip.convert import convert_state_dict  # open_clip >= 2.27
    except ImportError:
        convert_state_dict = None
    if convert_state_dict is not None:
        state = convert_state_dict(net, state)
    if "positional_embedding" in state and not hasattr(net, "positional_embedding"):
        state = clip_model.convert_to_custom_text_state_dict(state)
    for name in ("logit_scale", "logit_bias"):
        mine = getattr(net, name, None)
        if name in state and mine is not None and mine.ndim != state[name].ndim:
            state[name] = state[name].reshape(mine.shape)
    position_ids = "text.transformer.embeddings.position_ids"
    if position_ids in state and not hasattr(net, position_ids):
        del state[position_ids]
    clip_model.resize_pos_embed(state, net)
    clip_model.resize_text_pos_embed(state, net)
    return state


def load_weights(net: "torch.nn.Module", checkpoint: str, model: str) -> None:
    """Put the tensors of ``checkpoint`` (read by :func:`read_checkpoint`) into ``net``, all of them:
    a checkpoint of another architecture is a :class:`ModelUnavailableError`, not random layers."""
    if str(checkpoint).endswith((".npz", ".npy")):  # big_vision (SigLIP) arrays: numpy, never pickle
        from open_clip.convert import load_big_vision_weights

        try:
            load_big_vision_weights(net, str(checkpoint))
        except Exception as exc:  # noqa: BLE001 - a layout open_clip cannot map fails in many ways
            raise ModelUnavailableError(f"cannot load CLIP weights {checkpoint}: they do not fit {model}: {first_line(exc)}") from None
        return
    state = open_clip_layout(net, read_checkpoint(checkpoint))
    try:
        result = net.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # shapes that do not match
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        raise ModelUnavailableError(f"cannot load CLIP weights {checkpoint}: they do not fit {model}: {lines[-1] if lines else exc}") from None
    if result.missing_keys or result.unexpected_keys:
        first = (result.missing_keys or result.unexpected_keys)[0]
        raise ModelUnavailableError(
            f"cannot load CLIP weights {checkpoint}: they do not fit {model}: {len(result.missing_keys)} tensors missing, "
            f"{len(result.unexpected_keys)} unexpected (e.g. {first!r})")


class ClipEmbedder(Embedder):
    """open_clip image (and text) towers; see the module docstring.

    ``fit`` decides how a non-square frame becomes the model's square input: ``squash``
    (default: resize the whole frame, keeping scoreboards, logos and tickers at the edges that
    a centre crop would drop), ``crop`` (CLIP's training-time centre crop) or ``pad``
    (letterbox).
    """

    name = "clip"
    has_text = True

    def __init__(
        self,
        model: str = DEFAULT_CLIP_MODEL,
        pretrained: str | None = DEFAULT_CLIP_PRETRAINED,
        device: str = "auto",
        fit: str = CLIP_FITS[0],
        batch_size: int | None = None,
        cache_dir: str | None = None,
    ) -> None:
        require("clip")
        import open_clip
        import torch

        if model.endswith(".json"):
            # A custom architecture: an open_clip model config file; its name is the file stem.
            if not Path(model).is_file():
                raise UsageError(f"model config not found: {model}")
            open_clip.add_model_config(model)
            model = Path(model).stem
        if model not in open_clip.list_models():
            close = difflib.get_close_matches(model, open_clip.list_models(), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else " (see 'vidscan models list')"
            raise UsageError(f"unknown CLIP model {model!r}{hint}")
        if fit not in CLIP_FITS:
            raise UsageError(f"fit must be one of {', '.join(CLIP_FITS)}, got {fit!r}")
        self.model_name = model
        self.fit = fit
        self.device = resolve_device(device)
        self.batch_size = batch_size or (256 if self.device.startswith("cuda") else 32)
        self._weights_id, checkpoint, tag_cfg = self._resolve_weights(model, pretrained, cache_dir)
        options: dict[str, Any] = {}
        if tag_cfg:  # what open_clip would take from the tag: activation and normalisation
            options["force_quick_gelu"] = bool(tag_cfg.get("quick_gelu", False))
            if tag_cfg.get("mean") and tag_cfg.get("std"):
                options.update(image_mean=tuple(tag_cfg["mean"]), image_std=tuple(tag_cfg["std"]))
        with warnings.catch_warnings(), _quiet_root_logger():
            warnings.simplefilter("ignore")  # open_clip warns about random init; the CLI says it itself
            try:
                net, _, _ = open_clip.create_model_and_transforms(model, pretrained=None, device=self.device, **options)
            except Exception as exc:  # noqa: BLE001 - e.g. a Hugging Face text tower whose config is not cached
                raise ModelUnavailableError(f"cannot build CLIP model {model}: {first_line(exc)}") from None
        if checkpoint is not None:
            load_weights(net, checkpoint, model)
        self.random_weights = checkpoint is None
        net.eval()
        self.half = self.device.startswith("cuda")
        if self.half:
            net = net.half()
        self.model = net
        cfg = getattr(net.visual, "preprocess_cfg", {}) or {}
        size = cfg.get("size", getattr(net.visual, "image_size", 224))
        self.image_size = int(size[0] if isinstance(size, (tuple, list)) else size)
        mean = cfg.get("mean", (0.48145466, 0.4578275, 0.40821073))
        std = cfg.get("std", (0.26862954, 0.26130258, 0.27577711))
        self._mean = torch.tensor(mean, device=self.device).view(1, 3, 1, 1)
        self._std = torch.tensor(std, device=self.device).view(1, 3, 1, 1)
        self.logit_scale = float(net.logit_scale.exp().item()) if hasattr(net, "logit_scale") else 100.0
        self._tokenizer = open_clip.get_tokenizer(model)
        with torch.inference_mode():
            probe = torch.zeros(1, 3, self.image_size, self.image_size, device=self.device, dtype=torch.half if self.half else torch.float)
            self._dim = int(net.encode_image(probe).shape[-1])

    @staticmethod
    def _resolve_weights(model: str, pretrained: str | None, cache_dir: str | None) -> tuple[str, str | None, dict[str, Any] | None]:
        """(identity of the weights, local file to read them from, the tag's open_clip config)."""
        import open_clip

        if pretrained is None or str(pretrained).lower() in _RANDOM:
            return "random-init", None, None
        pretrained = str(pretrained)
        if _looks_like_path(pretrained):
            path = Path(pretrained).expanduser()
            if not path.is_file():
                raise ModelUnavailableError(f"checkpoint not found: {pretrained}")
            stat = path.stat()
            return f"file:{path.resolve()}:{stat.st_size}:{int(stat.st_mtime)}", str(path), None
        tags = open_clip.list_pretrained_tags_by_model(model)
        if pretrained not in tags:
            raise UsageError(f"unknown pretrained tag {pretrained!r} for {model}; known tags: {', '.join(tags) or 'none'}")
        local = cached_checkpoint(model, pretrained, cache_dir) or download_weights(model, pretrained, cache_dir)
        return f"tag:{pretrained}", local, open_clip.get_pretrained_cfg(model, pretrained)

    @property
    def dim(self) -> int:
        return self._dim

    def identity(self) -> str:
        return f"clip:{self.model_name}:{self._weights_id}:{self.fit}:{self.image_size}"

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out.update(model=self.model_name, weights=self._weights_id, fit=self.fit, device=self.device, fp16=self.half)
        return out

    def frame_size(self, width: int, height: int) -> tuple[int, int]:
        s = self.image_size
        if self.fit == "squash":
            return s, s
        scale = s / min(width, height) if self.fit == "crop" else s / max(width, height)
        return max(s if self.fit == "crop" else 2, round(width * scale / 2) * 2), max(s if self.fit == "crop" else 2, round(height * scale / 2) * 2)

    def _to_input(self, frames: np.ndarray):
        """uint8 [N,H,W,3] -> normalised float [N,3,S,S] on the device."""
        import torch
        import torch.nn.functional as F

        x = torch.from_numpy(np.ascontiguousarray(frames))
        if self.device.startswith("cuda"):
            x = x.pin_memory().to(self.device, non_blocking=True)
        x = x.permute(0, 3, 1, 2).float().div_(255.0)
        s = self.image_size
        h, w = x.shape[-2:]
        if self.fit == "crop" and (h, w) != (s, s):
            if min(h, w) != s:
                scale = s / min(h, w)
                x = F.interpolate(x, size=(max(s, round(h * scale)), max(s, round(w * scale))), mode="bilinear", antialias=True, align_corners=False)
                h, w = x.shape[-2:]
            top, left = (h - s) // 2, (w - s) // 2
            x = x[..., top : top + s, left : left + s]
        elif self.fit == "pad" and (h, w) != (s, s):
            if max(h, w) != s:
                scale = s / max(h, w)
                x = F.interpolate(x, size=(max(1, round(h * scale)), max(1, round(w * scale))), mode="bilinear", antialias=True, align_corners=False)
                h, w = x.shape[-2:]
            canvas = self._mean.expand(x.shape[0], 3, s, s).clone()  # pad with the mean: zero after normalising
            top, left = (s - h) // 2, (s - w) // 2
            canvas[..., top : top + h, left : left + w] = x
            x = canvas
        elif (h, w) != (s, s):
            x = F.interpolate(x, size=(s, s), mode="bilinear", antialias=True, align_corners=False)
        x = (x - self._mean) / self._std
        return x.half() if self.half else x

    def embed(self, frames: np.ndarray) -> np.ndarray:
        import torch

        frames = check_frames(frames)
        if len(frames) == 0:
            return np.zeros((0, self.dim), np.float32)
        out = []
        with torch.inference_mode():
            for i in range(0, len(frames), self.batch_size):
                feats = self.model.encode_image(self._to_input(frames[i : i + self.batch_size]))
                feats = torch.nn.functional.normalize(feats.float(), dim=-1)
                out.append(feats.cpu().numpy())
        return np.concatenate(out).astype(np.float32)

    def embed_text(self, texts: list[str]) -> np.ndarray:
        import torch

        with torch.inference_mode():
            tokens = self._tokenizer(list(texts)).to(self.device)
            feats = self.model.encode_text(tokens)
            return torch.nn.functional.normalize(feats.float(), dim=-1).cpu().numpy().astype(np.float32)
