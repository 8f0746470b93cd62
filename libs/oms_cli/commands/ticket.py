"""`oms ticket ...`: after-sales tickets. Each subcommand lives in its own module."""

from __future__ import annotations

import typer

app = typer.Typer(help="After-sales tickets.", no_args_is_help=True)
