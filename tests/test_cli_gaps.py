"""Specification of the ``gaps`` command of the headless CLI (``python -m geo gaps``)."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

import geo.centres
import geo.territories
from geo.centres import CENTRES_ENV
from geo.cli import main

NATIONAL_KEYS = {"population", "population_beyond_km", "share_beyond_km", "median_km", "p90_km"}
TERRITORY_KEYS = {
    "code",
    "name",
    "population",
    "sites",
    "covered",
    "population_beyond_km",
    "median_km",
    "accessibility",
}


def use_loaded_data(mp: pytest.MonkeyPatch, communes, departements, regions, centres) -> None:
    """Serve the embedded territories and registry from the session fixtures.

    Loading is specified in test_territories, test_centres and test_cli; reusing the loaded
    frames keeps each command from re-reading the GeoParquet and CSV files.
    """
    mp.delenv(CENTRES_ENV, raising=False)
    mp.setattr(
        geo.territories,
        "load_territories",
        lambda data_dir=None: geo.territories.Territories(communes, departements, regions),
    )
    mp.setattr(geo.territories, "load_communes", lambda data_dir=None: communes)
    mp.setattr(geo.centres, "load_centres", lambda path=None, communes=None: centres)


@pytest.fixture(autouse=True)
def embedded_data(monkeypatch, communes, departements, regions, centres):
    """Every test runs on the embedded data (see :func:`use_loaded_data`)."""
    use_loaded_data(monkeypatch, communes, departements, regions, centres)


@pytest.fixture(scope="module")
def filnemus(communes, departements, regions, centres) -> dict:
    """Output of `gaps --filiere FILNEMUS --format json`, run once for the tests that read it."""
    buf = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(buf):
        use_loaded_data(mp, communes, departements, regions, centres)
        assert main(["gaps", "--filiere", "FILNEMUS", "--format", "json"]) == 0
    return json.loads(buf.getvalue())


def gaps_json(capsys, *args: str) -> dict:
    """Run `gaps ARGS --format json`, check it succeeds, return the parsed output."""
    assert main(["gaps", *args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_gaps_json_has_documented_keys(filnemus):
    """The JSON has national and per-territory measures with the documented keys."""
    out = filnemus
    assert out["level"] == "departement"
    assert out["selection"]["filieres"] == ["FILNEMUS"]
    assert set(out["national"]) >= NATIONAL_KEYS
    assert list(out["national"]["population_beyond_km"]) == ["50", "100", "200"]
    assert list(out["national"]["share_beyond_km"]) == ["50", "100", "200"]
    assert all(set(r) >= TERRITORY_KEYS for r in out["territories"])


def test_gaps_default_level_lists_101_departements(filnemus):
    """Without --level, the 101 départements are listed."""
    assert len(filnemus["territories"]) == 101


def test_gaps_counts_the_filiere_sites(filnemus, centres):
    """`sites` is the number of FILNEMUS rows of the registry."""
    out = filnemus
    assert out["sites"] == (centres["filiere"] == "FILNEMUS").sum() > 0


def test_gaps_region_level(capsys):
    """`--level region` lists the 18 régions."""
    out = gaps_json(capsys, "--filiere", "FILNEMUS", "--level", "region")
    assert out["level"] == "region"
    assert len(out["territories"]) == 18


def test_gaps_csv_header(capsys):
    """`--format csv` prints one row per département under a header starting with the counts."""
    assert main(["gaps", "--filiere", "FILNEMUS", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("code,name,population,sites,covered")
    assert len(lines) == 1 + 101


def test_gaps_group_10_is_filnemus(capsys, filnemus):
    """`--group 10` (neuromuscular diseases) gives exactly `--filiere FILNEMUS`."""
    assert gaps_json(capsys, "--group", "10") == filnemus


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--group", "17"], "aucune filière"),
        (["--group", "18"], "groupe inconnu"),
        (["--filiere", "NOPE"], "filière inconnue"),
        (["--labels", "nope"], "label inconnu"),
        (["--thresholds", "abc"], "seuils invalides"),
        (["--thresholds", "0,50"], "seuils invalides"),
    ],
    ids=["empty-group", "unknown-group", "unknown-filiere", "unknown-label", "nan", "zero"],
)
def test_gaps_rejects_bad_selection(capsys, args, message):
    """A bad selection returns 2 with a French message on stderr and nothing on stdout."""
    assert main(["gaps", *args]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("erreur : ")
    assert message in captured.err
    assert captured.out == ""


def test_gaps_thresholds(capsys):
    """`--thresholds 30,60` keys the counts and shares by "30" and "60"."""
    out = gaps_json(capsys, "--filiere", "FILNEMUS", "--thresholds", "30,60")
    assert list(out["national"]["population_beyond_km"]) == ["30", "60"]
    assert list(out["national"]["share_beyond_km"]) == ["30", "60"]
    assert all(list(r["population_beyond_km"]) == ["30", "60"] for r in out["territories"])


def test_gaps_labels_restrict_sites(capsys, centres):
    """`--labels crmr_coordonnateur` keeps only coordinating sites."""
    out = gaps_json(capsys, "--filiere", "FILNEMUS", "--labels", "crmr_coordonnateur")
    expected = (
        (centres["filiere"] == "FILNEMUS") & (centres["label"] == "crmr_coordonnateur")
    ).sum()
    assert out["selection"]["labels"] == ["crmr_coordonnateur"]
    assert out["sites"] == expected
    assert 0 < expected < (centres["filiere"] == "FILNEMUS").sum()


def test_gaps_vintage_restricts_sites(capsys, centres):
    """`--vintage 2023-2028` keeps only the sites of that labellisation round."""
    out = gaps_json(capsys, "--vintage", "2023-2028")
    expected = (centres["vintage"] == "2023-2028").sum()
    assert out["selection"]["vintages"] == ["2023-2028"]
    assert out["sites"] == expected
    assert sum(r["sites"] for r in out["territories"]) == expected
    assert 0 < expected < len(centres)
