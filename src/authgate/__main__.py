"""`python -m authgate` runs the command-line interface."""

from authgate.cli.main import run

run()
