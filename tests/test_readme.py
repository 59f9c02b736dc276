"""README's commands and .ci/run stay in step."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.*?)\n```", text, flags=re.S)


def test_ci_runs_the_readme_test_command_verbatim():
    test_command = readme_commands()[1]
    assert "pytest" in test_command
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command.strip() in ci_lines


def test_readme_starts_with_install_and_run():
    first = readme_commands()[0]
    assert first.startswith("pip install") and "vidscan scenes" in first


def test_every_package_folder_is_a_real_package():
    """A folder without __init__.py is left out of `pip install .` (the README's first command)."""
    for folder in (ROOT / "vidscan").rglob("*"):
        if folder.is_dir() and folder.name != "__pycache__" and any(folder.glob("*.py")):
            assert (folder / "__init__.py").exists(), folder


def test_the_extending_examples_run(shots_video):
    """The README's 'Extending vidscan' code, run as written on a real file: each registered
    addition is reachable by name and makes a timeline over the whole video."""
    from vidscan.detect import DETECTORS
    from vidscan.embed.registry import EMBEDDERS

    path, truth = shots_video
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Extending vidscan", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 2
    try:
        used = []
        for code in blocks:
            scope: dict = {}
            exec(compile(code.replace('"match.mp4"', repr(str(path))), "README.md", "exec"), scope)
            timeline = scope["timeline"]
            assert timeline.segments[-1].end_frame == truth.frame_count and len(timeline.segments) > 1
            used.append((timeline.settings["detector"]["detector"], timeline.settings["embedder"]["name"]))
        assert used == [("brightness", "features"), ("adaptive", "tiny-colour")]
    finally:
        for registry, name in ((DETECTORS, "brightness"), (EMBEDDERS, "tiny-colour")):
            if name in registry.names():
                registry.unregister(name)


def fence_problems(text: str) -> list[str]:
    """Where README's code fences go wrong: a block opened inside another, a heading inside one, an unclosed end."""
    problems, inside = [], False
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            if inside and line.strip() != "```":
                problems.append(f"README.md:{number}: a {line.strip()} block opens inside another (a fence left open above)")
            inside = not inside
        elif inside and line.startswith("## "):
            problems.append(f"README.md:{number}: a heading inside a code block")
    return problems + (["README.md ends inside a code block"] if inside else [])


def test_every_code_block_is_closed_before_the_next_section():
    """An unclosed fence swallows the sections after it (a whole chapter once rendered as Python)."""
    assert fence_problems((ROOT / "README.md").read_text()) == []
    assert fence_problems("```python\nx = 1\n\n## Next\n```bash\nls\n```\n")  # the mistake it guards against
