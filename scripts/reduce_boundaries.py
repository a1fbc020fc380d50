"""Reduce the public municipal boundaries to the file the progress site ships: Fukushima's 59 municipalities.

Source: smartnews-smri/japan-topography, data/municipality/geojson/s0010/N03-21_07_210101.json (国土数値情報
行政区域データ N03-21, 2021-01-01, simplified to 1% by SmartNews Media Research Institute). Processing: keep the
features of 福島県 (N03_001); give each its 6-digit 全国地方公共団体コード (N03_007 and its check digit) and name; merge
a municipality's features into one (a MultiPolygon where it has several parts); round coordinates to 4 decimals
(about 10 m) and drop the points rounding makes repeat; wind outer rings clockwise and holes anticlockwise (as
d3-geo, and so Plotly, reads them); write compact JSON, the features in code order.

    git -C /work/.mirror/smartnews-smri+japan-topography/repo show \\
        HEAD:data/municipality/geojson/s0010/N03-21_07_210101.json > /tmp/N03-21_07_210101.json
    uv run python scripts/reduce_boundaries.py /tmp/N03-21_07_210101.json

reproduces shinchoku/documents/boundaries/fukushima.geojson byte for byte (see the README next to it).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from shinchoku.catalogue_fields import check_digit

OUT = Path(__file__).resolve().parents[1] / "shinchoku" / "documents" / "boundaries" / "fukushima.geojson"
PREFECTURE = "福島県"
DECIMALS = 4


def _ring(points: list) -> list | None:
    """A ring's points rounded, without the repeats rounding makes; None if it no longer encloses anything."""
    ring = []
    for x, y, *_ in points:
        p = [round(x, DECIMALS), round(y, DECIMALS)]
        if not ring or p != ring[-1]:
            ring.append(p)
    if ring[0] != ring[-1]:
        ring.append(ring[0])
    return ring if len(ring) >= 4 else None


def _clockwise(ring: list) -> bool:
    """Whether a ring (longitude, latitude) runs clockwise: its shoelace area is negative."""
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:])) < 0


def _wound(rings: list) -> list:
    """The outer ring clockwise and the holes anticlockwise, as d3-geo (and so Plotly's geo maps) reads a polygon on
    the sphere: wound the other way, a ring stands for the whole globe but itself."""
    return [r if _clockwise(r) == (i == 0) else r[::-1] for i, r in enumerate(rings)]


def _polygons(geometry: dict) -> list:
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    out = []
    for polygon in polygons:
        rings = [_ring(r) for r in polygon]
        if rings and rings[0]:  # an outer ring that vanished takes its holes with it
            out.append(_wound([r for r in rings if r]))
    return out


def reduce(source: dict) -> dict:
    parts: dict[str, dict] = {}
    for feature in source["features"]:
        p = feature["properties"]
        if p["N03_001"] != PREFECTURE or not p.get("N03_007"):
            continue
        code = p["N03_007"] + check_digit(p["N03_007"])
        name = p["N03_004"]  # the municipality's own name: its 郡 (N03_003) is not part of it
        unit = parts.setdefault(code, {"name": name, "polygons": []})
        unit["polygons"].extend(_polygons(feature["geometry"]))
    features = []
    for code in sorted(parts):
        polygons = parts[code]["polygons"]
        geometry = ({"type": "Polygon", "coordinates": polygons[0]} if len(polygons) == 1
                    else {"type": "MultiPolygon", "coordinates": polygons})
        features.append({"type": "Feature", "properties": {"code": code, "name": parts[code]["name"]},
                         "geometry": geometry})
    return {"type": "FeatureCollection", "features": features}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="N03-21_07_210101.json of smartnews-smri/japan-topography")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    reduced = reduce(json.loads(args.source.read_text(encoding="utf-8")))
    args.out.write_text(json.dumps(reduced, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(reduced['features'])} municipalities, {args.out.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
