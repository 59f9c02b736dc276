"""``vidscan models``: list CLIP models and fetch weights ahead of offline runs."""

from __future__ import annotations

import click

from vidscan.errors import UsageError


@click.group(short_help="List open_clip models and download their weights.")
def models() -> None:
    """List open_clip models and download their weights (for offline machines)."""


@models.command("list", short_help="Models and their pretrained tags; * marks weights on this machine.")
@click.option("--model", help="Only this architecture.")
def list_models(model: str | None) -> None:
    """Architectures with pretrained tags; '*' marks weights already on this machine."""
    from vidscan.extras import require

    require("clip")
    import open_clip
    from rich.console import Console
    from rich.table import Table

    from vidscan.embed.clip import cached_checkpoint

    table = Table("model", "pretrained tags (* = cached here)")
    names = [model] if model else sorted({m for m, _ in open_clip.list_pretrained()})
    for name in names:
        tags = open_clip.list_pretrained_tags_by_model(name)
        if not tags:
            raise UsageError(f"no pretrained weights are known for {name!r}")
        table.add_row(name, ", ".join(f"{t}*" if cached_checkpoint(name, t) else t for t in tags))
    Console().print(table)


@models.command("download")
@click.argument("model")
@click.argument("tag")
@click.option("--cache-dir", help="Where to put the weights (default: the Hugging Face cache).")
def download(model: str, tag: str, cache_dir: str | None) -> None:
    """Download MODEL's TAG weights now, so later runs work offline."""
    from vidscan.embed.clip import download_weights
    from vidscan.extras import require

    require("clip")

    path = download_weights(model, tag, cache_dir)  # offline or failed: one line, exit 4, within seconds
    click.echo(f"downloaded {model}/{tag} to {path}")
