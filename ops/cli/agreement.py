"""``annops agreement``: pilot analysis of a long ratings CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ops.cli.output import TEXT_FORMATS, TextFormat, check_format, echo_json, fail


def agreement(
    file: Annotated[Path, typer.Argument(help="long CSV item_id,annotator_id,label[,gold]")],
    format: TextFormat = "text",
    alpha_level: Annotated[
        str, typer.Option(help="Krippendorff level: nominal, ordinal, interval or ratio")
    ] = "nominal",
    kappa_weights: Annotated[
        str, typer.Option(help="Cohen's kappa weights: none, linear or quadratic")
    ] = "none",
    top_disputed: Annotated[int, typer.Option(help="disputed items to list")] = 10,
) -> None:
    """Pilot analysis: agreement, consensus and gold accuracy of a long ratings CSV."""
    from ops.agreement_report import (
        build_agreement_report,
        format_agreement_report,
        read_agreement_csv,
    )
    from ops.metrics.agreement import ALPHA_LEVELS, KAPPA_WEIGHTS

    check_format(format, TEXT_FORMATS)
    level = next((choice for choice in ALPHA_LEVELS if choice == alpha_level), None)
    if level is None:
        raise fail(f"unknown --alpha-level {alpha_level!r}; use {', '.join(ALPHA_LEVELS)}")
    weights = next((choice for choice in KAPPA_WEIGHTS if choice == kappa_weights), None)
    if weights is None:
        raise fail(f"unknown --kappa-weights {kappa_weights!r}; use {', '.join(KAPPA_WEIGHTS)}")
    if top_disputed < 0:
        raise fail(f"--top-disputed must be 0 or more, got {top_disputed}")
    try:
        report = build_agreement_report(
            read_agreement_csv(file),
            alpha_level=level,
            kappa_weights=weights,
            top_disputed=top_disputed,
        )
    except FileNotFoundError:
        raise fail(f"{file}: no such file; give the path of a CSV to analyse") from None
    except OSError as error:
        raise fail(f"{file}: cannot read it ({error.strerror or error})") from None
    except ValueError as error:
        raise fail(str(error)) from None
    if format == "json":
        echo_json(report, ascii_only=False)
    else:
        typer.echo(format_agreement_report(report), nl=False)
