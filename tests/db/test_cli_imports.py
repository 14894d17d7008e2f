"""`annops import`: what a person sees for partial exports and for files it cannot read."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from ops.cli import app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "labelstudio"
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def add_project(slug: str = "defects") -> None:
    code, _, stderr = invoke("project", "add", slug, "--name", "Defects")
    assert code == 0, stderr


def test_flat_export_is_refused_in_one_line_saying_what_is_missing(
    fresh_database_url: str,
) -> None:
    add_project()
    code, stdout, stderr = invoke(
        "import", "labelstudio", str(FIXTURES / "export_min.json"), "--project", "defects"
    )
    assert code == 1 and stdout == ""
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert stderr.startswith("error: export_min.json: a JSON_MIN export has no ground_truth")
    assert "export JSON" in stderr and "--reference-annotator" in stderr


def test_reference_annotator_on_the_command_line(fresh_database_url: str) -> None:
    add_project()
    code, stdout, stderr = invoke(
        "import",
        "labelstudio",
        str(FIXTURES / "export.csv"),
        "--project",
        "defects",
        "--label-field",
        "defect",
        "--users",
        str(FIXTURES / "users.json"),
        "--reference-annotator",
        "admin@example.com",
    )
    assert code == 0, stderr
    assert "imported 71 new events" in stdout
    assert "golden items: 2, 6 events on them; 2 reference annotations" in stdout
    assert "not in a csv export, so not imported: skipped annotations" in stdout
