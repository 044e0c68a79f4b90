"""Specification of the comparison of two labellisations (geo.compare)."""

from __future__ import annotations

from pathlib import Path

import folium
import numpy as np
import pandas as pd
import pytest

from geo.centres import CENTRES_FILE
from geo.compare import (
    compare_registries,
    comparison_points,
    coverage_change,
    match_keys,
    normalise_text,
    read_registry_upload,
)
from geo.errors import DataFileError, RegistryError
from geo.network import points_layer

ROOT = Path(__file__).resolve().parent.parent


def row(
    sid,
    establishment,
    commune_code,
    network,
    label,
    service="",
    filiere="FILNEMUS",
    reg="11",
    lon=2.35,
    lat=48.86,
):
    """A registry row with the columns the comparison reads."""
    return {
        "id": sid,
        "filiere": filiere,
        "crmr_name": network,
        "label": label,
        "establishment": establishment,
        "service": service,
        "commune_code": commune_code,
        "commune": f"Commune {commune_code}",
        "dep": commune_code[:2],
        "reg": reg,
        "lon": lon,
        "lat": lat,
        "vintage": "2017-2022",
    }


def frame(*rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def statuses(comparison) -> dict[str, str]:
    """id (B's, else A's) → status."""
    s = comparison.sites
    return dict(zip(np.where(s["id_b"] != "", s["id_b"], s["id_a"]), s["status"], strict=True))


# --------------------------------------------------------------------------- matching


def test_normalisation_folds_case_accents_and_whitespace():
    """'  CHU  de Nîmes ' and 'chu de nimes' are the same establishment."""
    assert normalise_text("  CHU  de Nîmes ") == normalise_text("chu de nimes") == "chu de nimes"
    a = frame(row("a", "Hôpital  Necker", "75056", "Réseau Œil", "ccmr"))
    b = frame(row("b", "hopital necker ", "75056", "RÉSEAU OEIL", "ccmr"))
    assert match_keys(a).iloc[0] == match_keys(b).iloc[0]


def test_same_site_same_label_is_unchanged():
    """One row on each side with the same label."""
    c = compare_registries(
        frame(row("a1", "CHU de Lille", "59350", "N", "ccmr")),
        frame(row("b1", "chu de lille", "59350", "N", "ccmr")),
    )
    assert statuses(c) == {"b1": "unchanged"}


def test_same_site_new_label_is_relabelled():
    """A CCMR that became a constitutive site: relabelled, both labels kept."""
    c = compare_registries(
        frame(row("a1", "CHU de Lille", "59350", "N", "ccmr")),
        frame(row("b1", "CHU de Lille", "59350", "N", "crmr_constitutif")),
    )
    assert statuses(c) == {"b1": "relabelled"}
    assert c.sites.iloc[0][["label_a", "label_b"]].tolist() == ["ccmr", "crmr_constitutif"]


def test_sites_on_one_side_only_are_added_or_removed():
    """Different commune or network = different site."""
    c = compare_registries(
        frame(row("a1", "CHU de Lille", "59350", "N", "ccmr")),
        frame(
            row("b1", "CHU de Lille", "59350", "M", "ccmr"),
            row("b2", "CHU de Lille", "59351", "N", "ccmr"),
        ),
    )
    assert statuses(c) == {"a1": "removed", "b1": "added", "b2": "added"}
    assert c.counts() == {
        "added": 2, "removed": 1, "relabelled": 0, "unchanged": 0, "ambiguous": 0
    }  # fmt: skip


def test_several_candidates_are_listed_as_ambiguous():
    """One A row, two B rows of the same key with other labels: no guess, all three listed."""
    c = compare_registries(
        frame(row("a1", "CHU de Lyon", "69123", "N", "ccmr")),
        frame(
            row("b1", "CHU de Lyon", "69123", "N", "crmr_constitutif", service="Pédiatrie"),
            row("b2", "CHU de Lyon", "69123", "N", "crmr_coordonnateur", service="Adultes"),
        ),
    )
    assert c.sites.empty
    assert sorted(zip(c.ambiguous["side"], c.ambiguous["id"], strict=True)) == [
        ("A", "a1"), ("B", "b1"), ("B", "b2")
    ]  # fmt: skip
    assert c.ambiguous["group"].nunique() == 1
    assert c.counts()["ambiguous"] == 3


def test_identical_label_and_service_are_paired_before_calling_it_ambiguous():
    """Two A rows and two B rows of one key: the exact (label, service) pair is unchanged,
    the remaining one-to-one pair is relabelled."""
    c = compare_registries(
        frame(
            row("a1", "CHU de Lyon", "69123", "N", "ccmr", service="Pédiatrie"),
            row("a2", "CHU de Lyon", "69123", "N", "ccmr", service="Adultes"),
        ),
        frame(
            row("b1", "CHU de Lyon", "69123", "N", "ccmr", service="pediatrie"),
            row("b2", "CHU de Lyon", "69123", "N", "crmr_constitutif", service="Adultes"),
        ),
    )
    assert statuses(c) == {"b1": "unchanged", "b2": "relabelled"}
    assert c.ambiguous.empty


def test_counts_by_region_and_filiere():
    """One row per (région, filière) with a column per status and a total."""
    a = frame(
        row("a1", "X", "75056", "N", "ccmr", reg="11"),
        row("a2", "Y", "69123", "N", "ccmr", reg="84", filiere="MHEMO"),
    )
    b = frame(
        row("b1", "X", "75056", "N", "crmr_constitutif", reg="11"),
        row("b2", "Z", "13055", "N", "ccmr", reg="93"),
    )
    regions = pd.DataFrame(
        {"code": ["11", "84", "93"], "name": ["Île-de-France", "Auvergne-Rhône-Alpes", "PACA"]}
    )
    table = compare_registries(a, b).by_region_filiere(regions).set_index(["region", "filiere"])
    assert table.loc[("Île-de-France", "FILNEMUS"), "relabelled"] == 1
    assert table.loc[("Auvergne-Rhône-Alpes", "MHEMO"), "removed"] == 1
    assert table.loc[("PACA", "FILNEMUS"), "added"] == 1
    assert table["total"].sum() == 3


def test_map_points_escape_registry_text():
    """Markup in an establishment name reaches the map's popup and tooltip escaped."""
    hostile = "<script>alert(1)</script>"
    a = frame(row("a1", hostile, "59350", "N", "ccmr"))
    points = comparison_points(compare_registries(a, a.iloc[0:0]))
    for html_text in (points.at[0, "tip"], points.at[0, "popup"]):
        assert hostile not in html_text and "&lt;script&gt;alert(1)" in html_text
    fmap = folium.Map(tiles=None)
    points_layer(points, "Sites").add_to(fmap)
    assert hostile not in fmap.get_root().render()


# --------------------------------------------------------------------------- coverage and files


def test_coverage_change_compares_the_share_beyond_each_threshold():
    """Adding a Lyon site to a Paris-only list brings Lyon's 50 inhabitants within 100 km."""
    communes = pd.DataFrame(
        {
            "code": ["75056", "69123"],
            "name": ["Paris", "Lyon"],
            "dep": ["75", "69"],
            "reg": ["11", "84"],
            "population": [150, 50],
            "lon": [2.3522, 4.8357],
            "lat": [48.8566, 45.7640],
        }
    )
    departements = pd.DataFrame(
        {"code": ["75", "69"], "name": ["Paris", "Rhône"], "population": [150, 50]}
    )
    a = frame(row("a1", "X", "75056", "N", "ccmr", lon=2.3522, lat=48.8566))
    b = pd.concat([a, frame(row("b2", "Y", "69123", "N", "ccmr", lon=4.8357, lat=45.7640))])
    table = coverage_change(communes, departements, a, b, thresholds=(100.0,)).iloc[0]
    assert table["population_beyond_a"] == 50 and table["population_beyond_b"] == 0
    assert table["share_beyond_a"] == 25.0 and table["share_beyond_b"] == 0.0
    assert table["change_points"] == -25.0


def test_uploaded_registry_is_validated(communes):
    """A valid registry CSV (semicolon-separated) loads; an invalid one names its line."""
    text = CENTRES_FILE.read_text(encoding="utf-8").splitlines()[:4]
    good = pd.read_csv(CENTRES_FILE, dtype=str, keep_default_na=False).head(3)
    loaded = read_registry_upload(good.to_csv(index=False, sep=";").encode("utf-8"), communes)
    assert len(loaded) == 3 and "dep" in loaded.columns
    bad = "\n".join([text[0], text[1].replace(",FILNEMUS,", ",FILNEMU,"), *text[2:]])
    bad = bad.replace(text[1].split(",")[3], "centre_inconnu", 1)
    with pytest.raises(RegistryError, match="Ligne 2"):
        read_registry_upload(bad.encode("utf-8"), communes)


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"\xff\xfe\x00i\x00d", "UTF-8"), (b"  \n", "vide")],
)
def test_unreadable_upload_is_a_french_error(communes, data, message):
    """Not UTF-8, or empty: DataFileError saying what to do."""
    with pytest.raises(DataFileError, match=message):
        read_registry_upload(data, communes)


def test_comparison_page_runs(monkeypatch, communes, departements, regions):
    """AppTest: the page compares 2017–2022 with 2023–2028 of the embedded data."""
    from streamlit.testing.v1 import AppTest

    import geo.territories

    loaded = geo.territories.Territories(communes, departements, regions)
    monkeypatch.setattr(geo.territories, "load_territories", lambda data_dir=None: loaded)
    monkeypatch.delenv("CENTRES_FILE", raising=False)
    at = AppTest.from_file(str(ROOT / "app_pages" / "comparaison.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    labels = [m.label for m in at.metric]
    assert labels[:3] == ["Ajouté", "Retiré", "Label changé"]
    assert int(at.metric[0].value) > 0
