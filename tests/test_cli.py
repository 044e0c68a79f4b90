"""Specification of the headless command line ``python -m geo``."""

from __future__ import annotations

import json

import pytest

from geo.centres import CENTRES_ENV
from geo.cli import main


@pytest.fixture(autouse=True)
def embedded_registry(monkeypatch):
    """Every CLI test reads the embedded registry unless it passes --centres."""
    monkeypatch.delenv(CENTRES_ENV, raising=False)


def test_summary_counts_the_registry(capsys, centres):
    """`summary` prints JSON whose site count is the registry's."""
    assert main(["summary"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["sites"] == len(centres)
    assert sum(summary["by_label"].values()) == len(centres)


def test_sites_json_filters_by_filiere(capsys, centres):
    """`sites --filiere FILNEMUS --format json` returns exactly the FILNEMUS sites."""
    assert main(["sites", "--filiere", "FILNEMUS", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == (centres["filiere"] == "FILNEMUS").sum() > 0
    assert {r["filiere"] for r in rows} == {"FILNEMUS"}


@pytest.mark.parametrize(
    "args",
    [
        ["--filiere", "FILNEMUS,MHEMO"],
        ["--filiere", "FILNEMUS", "--filiere", "MHEMO"],
    ],
    ids=["comma", "repeated"],
)
def test_sites_accepts_several_filieres(capsys, centres, args):
    """Filières can be comma-separated or repeated."""
    assert main(["sites", *args, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == centres["filiere"].isin(["FILNEMUS", "MHEMO"]).sum()


def test_sites_csv_has_export_header(capsys):
    """`sites` prints CSV by default, starting with the export columns."""
    assert main(["sites", "--labels", "pemr"]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert header.startswith("id,filiere,crmr_name,label,establishment")


def test_centres_env_selects_the_registry(capsys, monkeypatch, tmp_path, centres):
    """$CENTRES_FILE is read like --centres."""
    path = tmp_path / "centres.csv"
    centres.head(3)[[c for c in centres.columns if c not in ("commune", "dep", "reg")]].to_csv(
        path, index=False
    )
    monkeypatch.setenv(CENTRES_ENV, str(path))
    assert main(["summary"]) == 0
    assert json.loads(capsys.readouterr().out)["sites"] == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"id,nom\n1,CHU\n", "Colonnes manquantes"),
        ("id,filiere\nx,DéfiScience\n".encode("latin-1"), "illisible"),
    ],
    ids=["invalid", "not-utf8"],
)
def test_bad_registry_exits_2_with_french_error(capsys, tmp_path, content, message):
    """An unusable --centres file gives exit code 2 and a French message, no traceback."""
    bad = tmp_path / "centres.csv"
    bad.write_bytes(content)
    assert main(["summary", "--centres", str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("erreur : ")
    assert message in captured.err
    assert "Traceback" not in captured.err


def test_missing_registry_exits_2(capsys, tmp_path):
    """A --centres path that does not exist is reported as « introuvable »."""
    assert main(["summary", "--centres", str(tmp_path / "absent.csv")]) == 2
    assert "introuvable" in capsys.readouterr().err


def test_registry_problems_are_listed(capsys, tmp_path, centres):
    """Every further validation problem is listed on stderr, one per line."""
    path = tmp_path / "centres.csv"
    frame = centres.head(3)[[c for c in centres.columns if c not in ("commune", "dep", "reg")]]
    frame.assign(age_group="enfants").to_csv(path, index=False)
    assert main(["summary", "--centres", str(path)]) == 2
    err = capsys.readouterr().err
    assert "(et 2 autres)" in err
    assert err.count("\n  - Ligne") == 2
