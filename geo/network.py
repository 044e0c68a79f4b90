"""The maillage of one network: its sites, their links to the coordinating site, their catchments.

A *network* is one CRMR network (rows sharing ``crmr_name``) or a whole filière (every
network of one FSMR). For it, :func:`build_maillage` gives

* the sites (coordinating, constitutive, role not stated, CCMR, CRC, collaborating;
  PEMR platforms are not part of a network);
* a link from every other site to its network's coordinating site
  (:func:`coordination_links`): when a network lists several coordinating sites (two
  labellisation rounds loaded side by side), the one of the same round is taken, then
  the nearest; a network without a coordinating site in the data has no link, and the
  table says so;
* the catchments (:func:`catchments`): each commune is assigned to the nearest site of
  the network *in its zone* (overseas rule of :mod:`geo.coverage`: a DROM resident is
  served only by a site of the same DROM; Corsica too with ``corsica_separate``); a
  zone without any site of the network has no catchment;
* per-site figures (:func:`site_figures`): population served (inhabitants of the
  catchment), number of communes, the farthest commune of the catchment and its
  great-circle distance (km).

Sites placed at the same point (several hospitals of one city all sit at the town hall
by default) share one catchment: the figures are those of the shared catchment and the
``co_located`` column says how many sites share it, so never sum the population over
co-located sites. Distances are great-circle km between WGS84 points (EPSG:4326) on a
sphere of radius :data:`geo.coverage.EARTH_RADIUS_KM`; communes are represented by their
representative point.

The folium layers built here (:func:`links_layer`, :func:`points_layer`,
:func:`legend_control`) follow :mod:`geo.maps`: pure, offline, every text from the data
HTML-escaped in Python.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import folium
import numpy as np
import pandas as pd
from branca.element import MacroElement
from folium.utilities import JsCode
from jinja2 import Template

from geo.coverage import NearestIndex, haversine_km, zone_of
from geo.maps import COORD_DECIMALS, LABEL_STYLES, site_popup_html

#: Colour-blind-safe qualitative palette (Paul Tol's "muted" scheme), cycled over the
#: catchments; neighbouring catchments get different colours (see :func:`assign_colours`).
CATCHMENT_PALETTE = (
    "#CC6677",
    "#332288",
    "#DDCC77",
    "#117733",
    "#88CCEE",
    "#882255",
    "#44AA99",
    "#999933",
    "#AA4499",
)
COORDINATOR = "crmr_coordonnateur"
NO_COORDINATOR = (
    "Aucun site coordonnateur dans les données chargées : pas de lien vers un coordonnateur."
)
#: Rounding of the coordinates that identify a location (5 decimals ≈ 1 m), as in
#: :class:`geo.coverage.DistanceTable`.
LOCATION_DECIMALS = 5


# --------------------------------------------------------------------------- choosing sites


def network_sites(
    centres: pd.DataFrame,
    network: str | None = None,
    filiere: str | None = None,
    vintages: Sequence[str] = (),
) -> pd.DataFrame:
    """The registry rows of one CRMR network or one filière (PEMR platforms excluded).

    Exactly one of ``network`` (a ``crmr_name``) and ``filiere`` must be given;
    ``vintages`` (empty = every loaded row) restricts the labellisation rounds.
    """
    if (network is None) == (filiere is None):
        raise ValueError(
            f"give exactly one of network and filiere; got network={network!r}, filiere={filiere!r}"
        )
    mask = centres["label"] != "pemr"
    if network is not None:
        mask &= centres["crmr_name"] == network
    else:
        mask &= centres["filiere"] == filiere
    if vintages:
        mask &= centres["vintage"].isin(list(vintages))
    return centres[mask]


def location_codes(sites: pd.DataFrame) -> np.ndarray:
    """Location number of each site: sites at the same point (to ~1 m) share one."""
    keys = (
        sites["lon"].round(LOCATION_DECIMALS).astype(str)
        + ","
        + sites["lat"].round(LOCATION_DECIMALS).astype(str)
    )
    codes, _ = pd.factorize(keys)
    return codes


# --------------------------------------------------------------------------- links


def coordination_links(sites: pd.DataFrame) -> pd.DataFrame:
    """One row per non-coordinating site whose network has a coordinating site.

    Columns: ``id``, ``coordinator_id``, ``crmr_name``, ``lon``, ``lat`` (the site),
    ``coord_lon``, ``coord_lat`` (its coordinating site), ``km`` (great-circle distance
    between them). Within a network (``crmr_name``) a site is linked to the coordinating
    site of its own ``vintage`` when there is one, else to the nearest coordinating site.
    Sites of a network with no coordinating site are absent.

    >>> s = pd.DataFrame({"id": ["a", "b"], "crmr_name": ["N", "N"],
    ...     "label": ["crmr_coordonnateur", "ccmr"], "vintage": ["2017-2022"] * 2,
    ...     "lon": [2.35, 4.84], "lat": [48.86, 45.76]})
    >>> coordination_links(s)[["id", "coordinator_id"]].values.tolist()
    [['b', 'a']]
    """
    rows = []
    for name, group in sites.groupby("crmr_name", sort=False):
        coords = group[group["label"] == COORDINATOR]
        if coords.empty:
            continue
        for _, site in group[group["label"] != COORDINATOR].iterrows():
            pool = coords[coords["vintage"] == site["vintage"]]
            pool = pool if len(pool) else coords
            km = haversine_km(site["lon"], site["lat"], pool["lon"], pool["lat"])
            best = int(np.argmin(km))
            coord = pool.iloc[best]
            rows.append(
                {
                    "id": site["id"],
                    "coordinator_id": coord["id"],
                    "crmr_name": name,
                    "lon": float(site["lon"]),
                    "lat": float(site["lat"]),
                    "coord_lon": float(coord["lon"]),
                    "coord_lat": float(coord["lat"]),
                    "km": float(np.asarray(km)[best]),
                }
            )
    columns = ["id", "coordinator_id", "crmr_name", "lon", "lat", "coord_lon", "coord_lat", "km"]
    return pd.DataFrame(rows, columns=columns)


def networks_without_coordinator(sites: pd.DataFrame) -> list[str]:
    """Network names (``crmr_name``) of ``sites`` with no coordinating site, sorted."""
    has = sites.groupby("crmr_name")["label"].apply(lambda s: (s == COORDINATOR).any())
    return sorted(has.index[~has])


# --------------------------------------------------------------------------- catchments


@dataclass(frozen=True)
class Catchments:
    """Nearest-site assignment of every commune to the locations of a network.

    ``site_location`` gives each site's location number (row order of the sites);
    ``commune_location`` each commune's location (−1: no site in its zone or no
    point); ``commune_km`` the great-circle distance to it (km; ``inf`` when its zone
    has no site, NaN without a point); ``locations`` the location points (``lon``,
    ``lat``, ``dep``, ``zone``).
    """

    site_location: np.ndarray
    commune_location: np.ndarray
    commune_km: np.ndarray
    locations: pd.DataFrame


def catchments(
    communes: pd.DataFrame, sites: pd.DataFrame, corsica_separate: bool = False
) -> Catchments:
    """Assign each commune to the nearest site location of ``sites`` within its zone.

    ``communes`` needs ``dep``, ``lon``, ``lat`` (representative points, WGS84 degrees);
    ``sites`` needs ``lon``, ``lat``, ``dep``. Ties between two locations at exactly the
    same distance go to either (KD-tree order).
    """
    site_location = location_codes(sites) if len(sites) else np.zeros(0, dtype=np.int64)
    n_loc = int(site_location.max()) + 1 if len(site_location) else 0
    first = pd.Series(np.arange(len(sites))).groupby(site_location).first().to_numpy()
    locations = pd.DataFrame(
        {
            "lon": sites["lon"].to_numpy(dtype=float)[first] if n_loc else [],
            "lat": sites["lat"].to_numpy(dtype=float)[first] if n_loc else [],
            "dep": sites["dep"].astype(str).to_numpy()[first] if n_loc else [],
        }
    )
    locations["zone"] = zone_of(locations["dep"], corsica_separate) if n_loc else []
    valid = communes["lon"].notna().to_numpy() & communes["lat"].notna().to_numpy()
    commune_location = np.full(len(communes), -1, dtype=np.int64)
    commune_km = np.full(len(communes), np.nan)
    commune_km[valid] = np.inf
    if n_loc:
        index = NearestIndex(
            locations["lon"].to_numpy(), locations["lat"].to_numpy(), locations["zone"].to_numpy()
        )
        c = communes[valid]
        d, j = index.query(
            c["lon"].to_numpy(), c["lat"].to_numpy(), zone_of(c["dep"], corsica_separate)
        )
        commune_location[valid] = j
        commune_km[valid] = d
    return Catchments(site_location, commune_location, commune_km, locations)


def catchment_figures(communes: pd.DataFrame, result: Catchments) -> pd.DataFrame:
    """Per location: ``population`` served (inhabitants), ``communes`` (count),
    ``farthest_code``, ``farthest_name`` and ``farthest_km`` (great-circle km, rounded
    to 0.1) of the farthest commune of the catchment. Indexed by location number, every
    location listed (0 and empty names for an empty catchment)."""
    n_loc = len(result.locations)
    out = pd.DataFrame(index=pd.RangeIndex(n_loc, name="location"))
    assigned = result.commune_location >= 0
    frame = pd.DataFrame(
        {
            "loc": result.commune_location[assigned],
            "pop": communes["population"].to_numpy()[assigned],
            "km": result.commune_km[assigned],
            "code": communes["code"].to_numpy()[assigned],
            "name": communes["name"].to_numpy()[assigned],
        }
    )
    grouped = frame.groupby("loc")
    out["population"] = grouped["pop"].sum().reindex(out.index).fillna(0).astype("int64")
    out["communes"] = grouped.size().reindex(out.index).fillna(0).astype("int64")
    if len(frame):
        far = frame.loc[grouped["km"].idxmax()].set_index("loc")
    else:
        far = pd.DataFrame(columns=["code", "name", "km"])
    out["farthest_code"] = far["code"].reindex(out.index).fillna("")
    out["farthest_name"] = far["name"].reindex(out.index).fillna("")
    out["farthest_km"] = far["km"].astype(float).reindex(out.index).round(1)
    return out


def assign_colours(
    locations: pd.DataFrame, palette: Sequence[str] = CATCHMENT_PALETTE
) -> list[str]:
    """A palette colour per location, different from its nearest already-coloured neighbours.

    Greedy: locations in order; each takes the first colour not used by the
    ``len(palette) - 1`` nearest locations already coloured (so near catchments, the
    likely neighbours on the map, differ); the table remains the exact key.
    """
    n = len(locations)
    if n == 0:
        return []
    lon, lat = locations["lon"].to_numpy(), locations["lat"].to_numpy()
    km = haversine_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    chosen: list[int] = []
    for i in range(n):
        near = np.argsort(km[i, :i], kind="stable")[: len(palette) - 1]
        used = {chosen[j] for j in near}
        chosen.append(next(c for c in range(len(palette)) if c not in used))
    return [palette[c] for c in chosen]


# --------------------------------------------------------------------------- the whole view


@dataclass
class Maillage:
    """Everything the network page shows (see :func:`build_maillage`)."""

    name: str
    kind: str  # "network" or "filiere"
    sites: pd.DataFrame  # registry rows + location, colour
    links: pd.DataFrame
    catchments: Catchments
    table: pd.DataFrame  # per-site figures, one row per site
    without_coordinator: list[str]
    population_without_site: int  # inhabitants of zones with no site of the network

    @property
    def has_coordinator(self) -> bool:
        return (self.sites["label"] == COORDINATOR).any()

    def commune_classes(self) -> np.ndarray:
        """Colour index of each commune's catchment (−1 where none), for the raster."""
        colours = self.location_colours()
        palette = list(dict.fromkeys(colours))
        lut = np.array([palette.index(c) for c in colours] + [-1], dtype=np.int64)
        loc = self.catchments.commune_location
        return lut[np.where(loc >= 0, loc, len(colours))]

    def location_colours(self) -> list[str]:
        """Colour of each location (catchment)."""
        loc = self.sites.groupby("location")["colour"].first()
        return loc.reindex(range(len(self.catchments.locations))).tolist()

    def palette(self) -> list[str]:
        """Colours indexed by :meth:`commune_classes`."""
        return list(dict.fromkeys(self.location_colours()))


def site_figures(
    sites: pd.DataFrame, links: pd.DataFrame, figures: pd.DataFrame, site_location: np.ndarray
) -> pd.DataFrame:
    """The per-site table: identity, coordinating site and catchment figures.

    Columns: ``id``, ``establishment``, ``service``, ``label``, ``commune``,
    ``commune_code``, ``dep``, ``crmr_name``, ``vintage``, ``coordinator`` (its
    establishment, "—" for a coordinating site, empty when the network has none),
    ``km_to_coordinator``, ``population``, ``communes``, ``farthest_name``,
    ``farthest_code``, ``farthest_km``, ``co_located``, ``colour``.
    """
    by_id = sites.set_index("id")
    link = links.set_index("id") if len(links) else pd.DataFrame(columns=["coordinator_id", "km"])
    co_located = pd.Series(site_location).value_counts()
    rows = []
    for i, (_, s) in enumerate(sites.iterrows()):
        loc = int(site_location[i])
        f = figures.loc[loc]
        if s["label"] == COORDINATOR:
            coordinator, km = "—", np.nan
        elif s["id"] in link.index:
            cid = link.at[s["id"], "coordinator_id"]
            coordinator = str(by_id.at[cid, "establishment"]) or str(by_id.at[cid, "commune_code"])
            km = round(float(link.at[s["id"], "km"]), 1)
        else:
            coordinator, km = "", np.nan
        rows.append(
            {
                "id": s["id"],
                "establishment": s["establishment"],
                "service": s.get("service", ""),
                "label": s["label"],
                "commune": s.get("commune", s["commune_code"]),
                "commune_code": s["commune_code"],
                "dep": s["dep"],
                "crmr_name": s["crmr_name"],
                "vintage": s["vintage"],
                "coordinator": coordinator,
                "km_to_coordinator": km,
                "population": int(f["population"]),
                "communes": int(f["communes"]),
                "farthest_name": f["farthest_name"],
                "farthest_code": f["farthest_code"],
                "farthest_km": f["farthest_km"],
                "co_located": int(co_located[loc]),
                "colour": s["colour"],
            }
        )
    return pd.DataFrame(rows)


def build_maillage(
    communes: pd.DataFrame,
    centres: pd.DataFrame,
    network: str | None = None,
    filiere: str | None = None,
    vintages: Sequence[str] = (),
    corsica_separate: bool = False,
) -> Maillage:
    """The maillage of one CRMR network (``network``) or one filière (``filiere``).

    Parameters
    ----------
    communes : DataFrame
        The commune table: ``code``, ``name``, ``dep``, ``population`` (inhabitants),
        ``lon``, ``lat`` (representative point, WGS84 degrees, EPSG:4326).
    centres : DataFrame
        The registry, prepared (with ``dep``).
    network, filiere : str, optional
        Exactly one: a ``crmr_name`` or one of the 23 filières.
    vintages : sequence of str
        Labellisation rounds kept (empty: every loaded row).
    corsica_separate : bool
        Corsica is a zone of its own, like each DROM.

    Returns
    -------
    Maillage
        Sites (with ``location`` and ``colour``), links to the coordinating site (km),
        catchments and the per-site table (population in inhabitants, distances in
        great-circle km).

    Raises
    ------
    ValueError
        When the choice matches no site.

    Examples
    --------
    >>> m = build_maillage(communes, centres, filiere="MHEMO")  # doctest: +SKIP
    >>> m.table[["establishment", "population", "farthest_km"]]  # doctest: +SKIP
    """
    sites = network_sites(centres, network, filiere, vintages).copy()
    name = network if network is not None else filiere
    if sites.empty:
        raise ValueError(f"no site for {name!r} with vintages {list(vintages) or 'all'}")
    order = {label: i for i, label in enumerate(LABEL_STYLES)}
    sites = sites.sort_values(
        ["label", "crmr_name", "establishment"],
        key=lambda col: col.map(order) if col.name == "label" else col,
    )
    result = catchments(communes, sites, corsica_separate)
    colours = assign_colours(result.locations)
    sites["location"] = result.site_location
    sites["colour"] = [colours[i] for i in result.site_location]
    links = coordination_links(sites)
    figures = catchment_figures(communes, result)
    table = site_figures(sites, links, figures, result.site_location)
    unserved = np.isinf(result.commune_km)
    return Maillage(
        name=name,
        kind="network" if network is not None else "filiere",
        sites=sites,
        links=links,
        catchments=result,
        table=table,
        without_coordinator=networks_without_coordinator(sites),
        population_without_site=int(communes["population"].to_numpy()[unserved].sum()),
    )


#: French column names of the per-site table, as shown and downloaded.
TABLE_COLUMNS_FR = {
    "establishment": "Établissement",
    "service": "Service",
    "label": "Label",
    "commune": "Commune",
    "commune_code": "Code commune",
    "dep": "Département",
    "crmr_name": "Réseau",
    "vintage": "Millésime",
    "coordinator": "Site coordonnateur",
    "km_to_coordinator": "Distance au coordonnateur (km)",
    "population": "Population desservie (hab.)",
    "communes": "Communes desservies",
    "farthest_name": "Commune la plus éloignée",
    "farthest_code": "Code de cette commune",
    "farthest_km": "Distance de cette commune (km)",
    "co_located": "Sites au même point",
    "colour": "Couleur",
    "id": "Identifiant",
}


def table_fr(table: pd.DataFrame) -> pd.DataFrame:
    """The per-site table with French headers and label names (for display and download)."""
    out = table.assign(
        label=table["label"].map(lambda x: LABEL_STYLES[x].name if x in LABEL_STYLES else x)
    )
    return out.rename(columns=TABLE_COLUMNS_FR)


# --------------------------------------------------------------------------- folium layers


class LegendControl(MacroElement):
    """A static Leaflet control (bottom-left) listing colour swatches and their meaning.

    Texts are escaped here; colours must be ``#rrggbb`` (checked).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
        {{ this.get_name() }}.onAdd = function () {
            var div = L.DomUtil.create("div");
            div.innerHTML = {{ this.html|tojson }};
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, items: Sequence[tuple[str, str]], title: str = "", position="bottomleft"):
        super().__init__()
        self._name = "LegendControl"
        self.position = position
        self.html = legend_box_html(items, title)


def _check_colour(colour: str) -> str:
    c = str(colour)
    if not (
        len(c) == 7 and c.startswith("#") and all(ch in "0123456789abcdefABCDEF" for ch in c[1:])
    ):
        raise ValueError(f"colour must be '#rrggbb'; got {colour!r}")
    return c


def legend_box_html(items: Sequence[tuple[str, str]], title: str = "") -> str:
    """HTML of a legend box: one swatch per (colour, text) item; texts escaped."""
    rows = "".join(
        f'<div style="display:flex;align-items:center;gap:6px;margin:2px 0">'
        f'<span aria-hidden="true" style="display:inline-block;width:12px;height:12px;'
        f'background:{_check_colour(colour)};border:1px solid #333"></span>'
        f"{html.escape(str(text))}</div>"
        for colour, text in items
    )
    head = f"<strong>{html.escape(title)}</strong>" if title else ""
    return (
        '<div class="rd-legend" role="region" aria-label="Légende" style="background:#fff;'
        "padding:4px 6px;border:1px solid #777;border-radius:4px;font:11px/1.25 sans-serif;"
        f'color:#111;max-width:260px">{head}{rows}</div>'
    )


def legend_control(items: Sequence[tuple[str, str]], title: str = "") -> LegendControl:
    """A :class:`LegendControl` to add to a map (``control.add_to(m)``)."""
    return LegendControl(items, title)


_BIND = JsCode(
    """
    function (feature, layer) {
        if (feature.properties.popup) {
            layer.bindPopup(feature.properties.popup, {maxWidth: 340});
        }
        layer.bindTooltip(feature.properties.tip);
    }
    """
)


def points_layer(points: pd.DataFrame, name: str, show: bool = True) -> folium.FeatureGroup:
    """Circle markers, one per row, styled per row; not clustered.

    ``points`` needs ``lon``, ``lat`` (WGS84), ``fill`` and ``stroke`` (``#rrggbb``),
    ``radius`` (px), ``dash`` (a SVG dash array or ""), ``tip`` and ``popup`` (HTML:
    the caller escapes the data it puts there; :func:`site_popup_html` does).
    """
    features = []
    for row in points.itertuples(index=False):
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [
                        round(float(row.lon), COORD_DECIMALS),
                        round(float(row.lat), COORD_DECIMALS),
                    ],
                },
                "properties": {
                    "fill": _check_colour(row.fill),
                    "stroke": _check_colour(row.stroke),
                    "radius": int(row.radius),
                    "dash": str(row.dash),
                    "weight": 3 if row.dash else 1,
                    "tip": row.tip,
                    "popup": row.popup,
                },
            }
        )
    group = folium.FeatureGroup(name=name, show=show)
    if features:
        folium.GeoJson(
            {"type": "FeatureCollection", "features": features},
            marker=folium.CircleMarker(radius=6, weight=1, fill=True),
            style_function=lambda f: {
                "color": f["properties"]["stroke"],
                "weight": f["properties"]["weight"],
                "dashArray": f["properties"]["dash"] or None,
                "fillColor": f["properties"]["fill"],
                "fillOpacity": 0.95,
                "radius": f["properties"]["radius"],
            },
            on_each_feature=_BIND,
            control=False,
        ).add_to(group)
    return group


def site_points(sites: pd.DataFrame) -> pd.DataFrame:
    """Registry rows as :func:`points_layer` rows, in the national map's label style."""
    rows = []
    for _, s in sites.iterrows():
        style = LABEL_STYLES.get(s["label"])
        rows.append(
            {
                "lon": s["lon"],
                "lat": s["lat"],
                "fill": style.colour if style else "#777777",
                "stroke": "#222222",
                "radius": style.radius if style else 6,
                "dash": "",
                "tip": html.escape(str(s["establishment"] or s["crmr_name"])),
                "popup": site_popup_html(s),
            }
        )
    columns = ["lon", "lat", "fill", "stroke", "radius", "dash", "tip", "popup"]
    return pd.DataFrame(rows, columns=columns)


def links_layer(m: Maillage, name: str = "Liens vers le site coordonnateur") -> folium.FeatureGroup:
    """A PolyLine from each site to its coordinating site (zero-length links skipped)."""
    group = folium.FeatureGroup(name=name)
    by_id = m.sites.set_index("id")
    for link in m.links.itertuples(index=False):
        if link.km < 0.05:
            continue
        site = by_id.loc[link.id]
        coord = by_id.loc[link.coordinator_id]
        tip = (
            f"{site['establishment'] or site['commune_code']} → "
            f"{coord['establishment'] or coord['commune_code']} ({link.km:.0f} km)"
        )
        folium.PolyLine(
            [
                [round(link.lat, COORD_DECIMALS), round(link.lon, COORD_DECIMALS)],
                [round(link.coord_lat, COORD_DECIMALS), round(link.coord_lon, COORD_DECIMALS)],
            ],
            color="#333333",
            weight=2,
            opacity=0.8,
            dash_array="6 4" if site["label"] in ("ccmr", "crc", "collaborateur") else None,
            tooltip=html.escape(tip),
        ).add_to(group)
    return group


def sites_points_layer(m: Maillage, name: str = "Sites du réseau") -> folium.FeatureGroup:
    """The network's sites as unclustered circle markers (label colours and sizes)."""
    return points_layer(site_points(m.sites), name)


def label_legend_items(labels: Sequence[str]) -> list[tuple[str, str]]:
    """(colour, French name) of the given site labels, in display order."""
    return [(s.colour, s.name) for k, s in LABEL_STYLES.items() if k in set(labels)]
