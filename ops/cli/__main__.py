"""``python -m ops.cli``: the same command line as the ``annops`` script."""

from ops.cli import app

app()
