"""``python -m vidscan``: the ``vidscan`` command, for environments whose scripts folder is not on PATH."""

from vidscan.cli.main import entry

if __name__ == "__main__":
    entry()
