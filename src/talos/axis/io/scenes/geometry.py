"""Where a generated scene's lines are at a time, and what of each is visible
(:mod:`talos.axis.io.scenes`).

Motion: each body's map from its unit coordinates to frame px (its pose, then the camera's
pan and zoom: :func:`camera_matrix`). Truth: :func:`frame_geometry` puts every line of the
scene in the frame, :func:`frame_truth` keeps its visible pieces (cut where a body in front,
its ink in ``cel``, or the frame border hides it: :func:`visible_pieces` ends a piece
exactly where its segment crosses the hiding outline) and :func:`frame_poses` gives each
line's pose. The polygon helpers (:func:`offset_polygon`, :func:`inside`,
:func:`inside_fast`) serve the rendering and :mod:`talos.axis.io.tangle` too.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from talos.axis.io.sample import pose_entry
from talos.axis.io.scenes.model import LIGHT, Body, Part, Scene

SHIFT = 8  # sub-pixel bits of the polygons handed to OpenCV
_MIN_PIECE_PX = 2.0  # shorter visible pieces are left out of the ground truth


# ---------------------------------------------------------------- motion


def _next(a: np.ndarray) -> np.ndarray:
    """``np.roll(a, -1, axis=0)``, faster: each vertex's successor on a closed polygon."""
    return np.concatenate((a[1:], a[:1]))


def _prev(a: np.ndarray) -> np.ndarray:
    """``np.roll(a, 1, axis=0)``, faster: each vertex's predecessor on a closed polygon."""
    return np.concatenate((a[-1:], a[:-1]))


def _rot(a: float) -> np.ndarray:
    return np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])


def _pose(scene: Scene, body: Body, t: float) -> tuple[np.ndarray, float, float]:
    """World ``center`` (2,), ``angle`` rad and ``scale`` px of ``body`` at ``t`` s."""
    if body.anchor is not None:
        c, angle, scale = _pose(scene, scene.bodies[body.anchor], t)
        parent = scene.bodies[body.anchor]
        local = np.array(body.offset) * np.array(parent.aspect)
        center = c + _rot(angle) @ local * scale
        wobble = body.spin * math.sin(body.omega[0] * t + body.phase)
        return center, angle + wobble, scale * body.size
    center = np.array(body.center) + np.array(body.amplitude) * np.array(
        [
            math.sin(body.omega[0] * t + body.phase),
            math.sin(body.omega[1] * t + 1.7 * body.phase),
        ]
    )
    angle = body.angle0 + body.spin * t
    scale = body.size * (1.0 + body.breathe * math.sin(1.1 * t + body.phase))
    return center, angle, scale


def camera_matrix(scene: Scene, t: float) -> np.ndarray:
    """The ``(3, 3)`` map from world px to frame px at ``t`` s: zoom about the centre, pan."""
    za, zw, zp, px, py, pwx, pwy, ppx, ppy = scene.camera
    zoom = 1.0 + za * (0.5 + 0.5 * math.sin(zw * t + zp))
    pan = np.array([px * math.sin(pwx * t + ppx), py * math.sin(pwy * t + ppy)])
    c = np.array([scene.width / 2, scene.height / 2])
    m = np.eye(3)
    m[:2, :2] *= zoom
    m[:2, 2] = c - zoom * (c + pan)
    return m


def _body_matrix(scene: Scene, body: Body, t: float, cam: np.ndarray) -> np.ndarray:
    """The ``(3, 3)`` map from ``body``'s unit coordinates to frame px at ``t`` s."""
    center, angle, scale = _pose(scene, body, t)
    m = np.eye(3)
    m[:2, :2] = _rot(angle) @ np.diag(np.array(body.aspect) * scale)
    m[:2, 2] = center
    return cam @ m


def _apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    moved: np.ndarray = pts @ m[:2, :2].T + m[:2, 2]
    return moved


# ---------------------------------------------------------------- polygons


def offset_polygon(pts: np.ndarray, distance: float) -> np.ndarray:
    """The closed polygon ``pts`` ``(n, 2)`` moved ``distance`` px outward along its vertex
    normals (inward where negative); fine for the smooth outlines drawn here."""
    if distance == 0:
        return pts
    prev, nxt = _prev(pts), _next(pts)
    tangent = nxt - prev
    normal = np.stack([tangent[:, 1], -tangent[:, 0]], 1)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True) + 1e-12
    area2 = np.sum(pts[:, 0] * nxt[:, 1] - nxt[:, 0] * pts[:, 1])
    return pts + distance * (normal if area2 > 0 else -normal)


def inside(points: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Even-odd test of ``points`` ``(n, 2)`` against the closed polygon ``poly`` ``(m, 2)``."""
    result = np.zeros(len(points), bool)
    lo, hi = poly.min(0), poly.max(0)
    near = np.all((points >= lo) & (points <= hi), axis=1)
    if not near.any():
        return result
    p = points[near]
    x, y = p[:, 0:1], p[:, 1:2]
    a, b = poly, _next(poly)
    ay, by = a[None, :, 1], b[None, :, 1]
    crosses = (ay > y) != (by > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        xi = a[None, :, 0] + (y - ay) * (b[None, :, 0] - a[None, :, 0]) / (by - ay)
    result[near] = np.count_nonzero(crosses & (x < xi), axis=1) % 2 == 1
    return result


def inside_fast(points: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """:func:`inside`, by a raster of ``poly`` first: only points within ~1.5 px of its
    outline get the exact test. ``(n,)`` bool."""
    result = np.zeros(len(points), bool)
    lo = np.floor(poly.min(0)).astype(int) - 2
    hi = np.ceil(poly.max(0)).astype(int) + 3
    ix = np.round(points[:, 0]).astype(int) - lo[0]
    iy = np.round(points[:, 1]).astype(int) - lo[1]
    w, h = hi - lo
    near = (ix >= 0) & (ix < w) & (iy >= 0) & (iy < h)
    if not near.any():
        return result
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, [np.round((poly - lo) * (1 << SHIFT)).astype(np.int32)], 1, 8, SHIFT)
    kernel = np.ones((3, 3), np.uint8)
    sure_in, maybe_in = cv2.erode(mask, kernel), cv2.dilate(mask, kernel)
    idx = np.flatnonzero(near)
    yi, xi = iy[idx], ix[idx]
    result[idx] = sure_in[yi, xi] > 0
    unsure = idx[(maybe_in[yi, xi] > 0) & (sure_in[yi, xi] == 0)]
    if len(unsure):
        result[unsure] = inside(points[unsure], poly)
    return result


def _first_hits(a: np.ndarray, b: np.ndarray, polys: list[np.ndarray]) -> np.ndarray:
    """Where segments ``a -> b`` (``(k, 2)`` each) first cross an edge of ``polys``: ``(k,)``.

    The parameter ``s`` in 0–1 of the first crossing along each segment, ``inf`` if none.
    """
    best = np.full(len(a), np.inf)
    lo, hi = np.minimum(a, b).min(0), np.maximum(a, b).max(0)
    d = b - a
    for poly in polys:
        e0, e1 = poly, _next(poly)
        keep = np.all((np.maximum(e0, e1) >= lo) & (np.minimum(e0, e1) <= hi), axis=1)
        if not keep.any():
            continue
        e0, e = e0[keep], (e1 - e0)[keep]
        denom = d[:, None, 0] * e[None, :, 1] - d[:, None, 1] * e[None, :, 0]
        w = e0[None] - a[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            s = (w[..., 0] * e[None, :, 1] - w[..., 1] * e[None, :, 0]) / denom
            u = (w[..., 0] * d[:, None, 1] - w[..., 1] * d[:, None, 0]) / denom
        ok = (denom != 0) & (s >= 0) & (s <= 1) & (u >= 0) & (u <= 1)
        best = np.minimum(best, np.where(ok, s, np.inf).min(1))
    return best


def visible_pieces(
    points: np.ndarray,
    closed: bool,
    vis: np.ndarray,
    boundaries: list[np.ndarray],
) -> list[tuple[np.ndarray, bool]]:
    """The visible pieces of a polyline ``(n, 2)`` whose vertices are visible where ``vis``.

    Returns ``[(points (k, 2), closed)]``. A piece ends exactly where its segment first
    crosses one of ``boundaries`` (closed polygons: whatever hides the line).
    """
    n = len(points)
    if vis.all():
        return [(points, closed)]
    if not vis.any():
        return []
    if closed:  # start the walk at a hidden vertex so every run is contiguous
        start = int(np.argmin(vis))
        order = np.r_[np.arange(start, n), np.arange(0, start), start]
    else:
        order = np.arange(n)
    pts, v = points[order], vis[order]
    edges = np.flatnonzero(v[:-1] != v[1:])  # segment k: pts[k] -> pts[k + 1]
    near = np.where(v[edges, None], pts[edges], pts[edges + 1])  # visible end
    far = np.where(v[edges, None], pts[edges + 1], pts[edges])
    s = _first_hits(near, far, boundaries)
    s = np.where(np.isfinite(s), s, 0.5)
    cut = dict(zip(edges.tolist(), near + s[:, None] * (far - near), strict=True))
    pieces = []
    k, m = 0, len(pts)
    while k < m:
        if not v[k]:
            k += 1
            continue
        j = k
        while j + 1 < m and v[j + 1]:
            j += 1
        piece = [pts[k : j + 1]]
        if k - 1 in cut:
            piece.insert(0, cut[k - 1][None])
        if j in cut:
            piece.append(cut[j][None])
        arr = np.concatenate(piece)
        if len(arr) >= 2 and np.linalg.norm(np.diff(arr, axis=0), axis=1).sum() >= _MIN_PIECE_PX:
            pieces.append((arr, False))
        k = j + 1
    return pieces


# ---------------------------------------------------------------- geometry of the truth


def frame_geometry(scene: Scene, t: float) -> list[dict[str, Any]]:
    """Per body, back to front: its matrix and every line's frame points at ``t`` s."""
    cam = camera_matrix(scene, t)
    out = []
    for body in scene.bodies:
        m = _body_matrix(scene, body, t, cam)
        lines: list[tuple[Part, np.ndarray]] = [
            (
                Part(body.silhouette_id, "silhouette", body.outline, True, 0.0),
                _apply(m, body.outline),
            )
        ]
        lines += [(p, _apply(m, p.unit)) for p in body.parts]
        shadow = None
        if body.shadow is not None:
            shadow = _shadow_outline(body, m)
            lines.append((body.shadow, shadow))
        out.append({"body": body, "matrix": m, "lines": lines, "shadow": shadow})
    return out


def _shadow_shift(m: np.ndarray) -> np.ndarray:
    """The lit region's shift toward the light in unit coordinates of the body at ``m``: (2,)."""
    light_local = np.linalg.solve(m[:2, :2], LIGHT[:2])
    return 0.3 * light_local / (np.linalg.norm(light_local) + 1e-12)


def _shadow_outline(body: Body, m: np.ndarray) -> np.ndarray:
    """The lit region's outline in frame px: the silhouette shifted toward the light."""
    return _apply(m, body.outline + _shadow_shift(m))


def frame_poses(geometry: list[dict[str, Any]]) -> dict[str, list[float]]:
    """``{"<id>": [a, b, tx, c, d, ty]}``: every line's unit → frame px map (the format:
    :mod:`talos.axis.io.scenes`)."""
    poses: dict[str, list[float]] = {}
    for item in geometry:
        m = item["matrix"]
        for part, _ in item["lines"]:
            pose = m
            if part.kind == "shadow":
                pose = m.copy()
                pose[:2, 2] += m[:2, :2] @ _shadow_shift(m)
            poses[str(part.line_id)] = pose_entry(pose)
    return poses


def _top_maps(scene: Scene, occluders: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Which body is on top at each pixel (``index + 1``, 0 none), eroded and dilated 3 × 3.

    Both ``(H, W)`` uint8; a point whose 3 × 3 neighbourhood agrees needs no exact test.
    """
    top = np.zeros((scene.height, scene.width), np.uint8)
    for z, poly in enumerate(occluders):
        pts = np.round(poly * (1 << SHIFT)).astype(np.int32)
        cv2.fillPoly(top, [pts], z + 1, cv2.LINE_8, SHIFT)
    kernel = np.ones((3, 3), np.uint8)
    return cv2.erode(top, kernel), cv2.dilate(top, kernel)


def frame_truth(scene: Scene, geometry: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One frame's ground-truth entries: the visible pieces of every line (the format:
    :mod:`talos.axis.io.scenes`)."""
    w, h = scene.width, scene.height
    # what hides a line: a body in front, with its ink (cel); a shadow boundary also ends
    # under its own body's ink and that of the parts drawn over it
    ink = scene.ink / 2 if scene.kind == "cel" else 0.0
    occluders = [offset_polygon(g["lines"][0][1], ink) for g in geometry]
    low, high = _top_maps(scene, occluders)
    frame_rect = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float64)
    entries: list[dict[str, Any]] = []
    for z, item in enumerate(geometry):
        front = occluders[z + 1 :]
        lines: list[tuple[Part, np.ndarray]] = item["lines"]
        silhouette = offset_polygon(lines[0][1], -ink)
        fills = [offset_polygon(pts, ink) for part, pts in lines[1:] if part.fill is not None]
        allp = np.concatenate([pts for _, pts in lines])
        vis = (allp[:, 0] >= 0) & (allp[:, 0] <= w - 1) & (allp[:, 1] >= 0) & (allp[:, 1] <= h - 1)
        ix = np.clip(np.round(allp[:, 0]).astype(int), 0, w - 1)
        iy = np.clip(np.round(allp[:, 1]).astype(int), 0, h - 1)
        hidden = low[iy, ix] > z + 1  # surely under a body in front
        unsure = vis & ~hidden & (high[iy, ix] > z + 1)
        if unsure.any():
            idx = np.flatnonzero(unsure)
            for poly in front:
                hidden[idx] |= inside(allp[idx], poly)
        vis &= ~hidden
        offset = 0
        for part, pts in lines:
            v = vis[offset : offset + len(pts)].copy()
            offset += len(pts)
            boundaries = [frame_rect, *front]
            if part.kind == "shadow":
                v &= inside_fast(pts, silhouette)
                for poly in fills:
                    v &= ~inside_fast(pts, poly)
                boundaries += [silhouette, *fills]
            for piece, closed in visible_pieces(pts, part.closed, v, boundaries):
                entries.append(
                    {"id": part.line_id, "closed": closed, "points": np.round(piece, 2).tolist()}
                )
    return entries
