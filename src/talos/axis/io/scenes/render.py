"""A generated scene's frames drawn (:mod:`talos.axis.io.scenes`): :class:`Renderer` gives
frame ``i`` and its ground truth.

The world background (a defocused photograph whose lower part fades into a ground texture,
or under ``cel`` a soft gradient), moved by the camera; each body over it, back to front,
with soft light and a surface texture or, under ``cel``, flat fills, a shadow shape and ink;
then the motion blur along the camera's motion (``realistic``) and seeded sensor noise.
:func:`coverage` and :func:`pixel_box` draw :mod:`talos.axis.io.tangle`'s card too.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from talos.axis.io.sample import pose_entry
from talos.axis.io.scenes.geometry import (
    SHIFT,
    camera_matrix,
    frame_geometry,
    frame_poses,
    frame_truth,
    offset_polygon,
)
from talos.axis.io.scenes.model import LIGHT, TABLE_SIZE, Body, Part, Scene

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
TEXTURES = ("grass", "gravel", "brick")
_AA_DILATION = 0.63  # px: cv2.fillPoly(LINE_AA) grows a polygon by this much on average


def coverage(pts: np.ndarray, origin: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Anti-aliased coverage ``(h, w)`` float32 in 0–1 of the closed polygon ``pts`` (frame px).

    OpenCV's anti-aliased fill grows polygons by ~0.63 px; the polygon is shrunk along its
    vertex normals by that much first so the 50 % level sits on the true outline.
    """
    p = offset_polygon(pts - origin, -_AA_DILATION)
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(p * (1 << SHIFT)).astype(np.int32)], 255, cv2.LINE_AA, SHIFT)
    return mask.astype(np.float32) * (1.0 / 255.0)


def _stroke(
    pts: np.ndarray, origin: np.ndarray, shape: tuple[int, int], width: float, closed: bool
) -> np.ndarray:
    """Anti-aliased coverage ``(h, w)`` float32 of a polyline drawn ``width`` px wide."""
    mask = np.zeros(shape, np.uint8)
    p = np.round((pts - origin) * (1 << SHIFT)).astype(np.int32)
    cv2.polylines(mask, [p], closed, 255, max(1, round(width)), cv2.LINE_AA, SHIFT)
    return mask.astype(np.float32) * (1.0 / 255.0)


def _load_gray(name: str) -> np.ndarray:
    from skimage import data

    image: np.ndarray = getattr(data, name)()
    if image.ndim == 3:
        image = cv2.cvtColor(image[..., :3], cv2.COLOR_RGB2GRAY)
    return image


def _load_photo(name: str) -> np.ndarray:
    from skimage import data

    image: np.ndarray = getattr(data, name)()
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(image[..., :3], cv2.COLOR_RGB2BGR)


def _cover(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """``image`` scaled to cover ``width`` × ``height`` and centre-cropped."""
    h, w = image.shape[:2]
    s = max(width / w, height / h)
    big = cv2.resize(image, (math.ceil(w * s), math.ceil(h * s)), interpolation=cv2.INTER_CUBIC)
    y0, x0 = (big.shape[0] - height) // 2, (big.shape[1] - width) // 2
    return big[y0 : y0 + height, x0 : x0 + width]


_GROUND_TINT = {"grass": (0.35, 0.8, 0.5), "gravel": (0.75, 0.8, 0.85), "brick": (0.45, 0.55, 0.9)}


def _world_background(scene: Scene, margin: int) -> np.ndarray:
    """The background in world px, ``(H + 2 margin, W + 2 margin, 3)`` uint8 BGR."""
    rng = np.random.default_rng([scene.seed, 34])
    w, h = scene.width + 2 * margin, scene.height + 2 * margin
    scale = scene.height / 720.0
    photo: np.ndarray = _cover(_load_photo(PHOTOS[int(rng.integers(len(PHOTOS)))]), w, h)
    photo = photo.astype(np.float32)
    if scene.kind == "cel":
        photo = cv2.GaussianBlur(photo, (0, 0), 14 * scale)
        yy = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
        top, bottom = rng.uniform(0.55, 0.85, 3) * 255, rng.uniform(0.4, 0.7, 3) * 255
        grad = top * (1 - yy) + bottom * yy
        return np.clip(0.6 * grad + 0.4 * photo, 0, 255).astype(np.uint8)
    photo = cv2.GaussianBlur(photo, (0, 0), 6 * scale) * 0.9
    name = TEXTURES[int(rng.integers(len(TEXTURES)))]
    tex = _load_gray(name).astype(np.float32)
    horizon = rng.uniform(0.55, 0.7) * h
    ramp = 0.12 * h
    if name == "brick":  # a photographed wall: one copy across the ground, not tiled
        band = int(h - horizon + ramp)
        ground: np.ndarray = np.zeros((h, w), np.float32)
        ground[h - band :] = _cover(tex, w, band)
        ground[: h - band] = ground[h - band]
    else:  # mirrored tiles: the textures do not wrap, and a seam would be a straight edge
        tex_scale = scale * rng.uniform(0.6, 0.9)
        tile = cv2.resize(tex, None, fx=tex_scale, fy=tex_scale, interpolation=cv2.INTER_AREA)
        tile = np.block([[tile, tile[:, ::-1]], [tile[::-1], tile[::-1, ::-1]]])
        reps = (h // tile.shape[0] + 1, w // tile.shape[1] + 1)
        ground = np.tile(tile, reps)[:h, :w]
    ground = 60 + 0.75 * (ground - ground.mean()) + 0.35 * ground.mean()
    ground = ground[..., None] * np.array(_GROUND_TINT[name], np.float32)[None, None] * 1.25
    yy = np.arange(h, dtype=np.float32)[:, None, None]
    mix = np.clip((yy - horizon) / ramp + 0.5, 0, 1)
    mix = mix * mix * (3 - 2 * mix)
    background: np.ndarray = np.clip(photo * (1 - mix) + ground * mix, 0, 255).astype(np.uint8)
    return background


def _surface_textures(size: int = 256) -> list[np.ndarray]:
    """Zero-mean, unit-std surface textures ``(size, size)`` float32 (moon, gravel, grass)."""
    out = []
    for name in ("moon", "gravel", "grass"):
        g: np.ndarray = cv2.resize(_load_gray(name), (size, size), interpolation=cv2.INTER_AREA)
        g = g.astype(np.float32)
        g -= cv2.GaussianBlur(g, (0, 0), size / 16)
        g = cv2.GaussianBlur(g, (0, 0), 0.8)
        out.append(g / (g.std() + 1e-6))
    return out


def pixel_box(
    polys: list[np.ndarray],
    pad: float,
    width: int,
    height: int,
    start: tuple[int, int] = (0, 0),
) -> tuple[int, int, int, int] | None:
    """The pixel box ``(x0, y0, x1, y1)`` around ``polys`` plus ``pad`` px, clipped to
    ``start`` – ``(width, height)``; None where nothing of it is left."""
    allp = np.concatenate(polys)
    x0, y0 = np.floor(allp.min(0) - pad).astype(int)
    x1, y1 = np.ceil(allp.max(0) + pad).astype(int) + 1
    x0, y0 = max(int(x0), start[0]), max(int(y0), start[1])
    x1, y1 = min(int(x1), width), min(int(y1), height)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def _shading(
    body: Body, m: np.ndarray, origin: np.ndarray, shape: tuple[int, int], step: int
) -> np.ndarray:
    """Soft directional light on ``body``, ``(h, w)`` float32 around 0.3–1.2.

    Computed every ``step`` px and interpolated: a dome-like normal from the polar radius
    ``rho`` (0 at the centre, 1 on the outline), lambert + a small highlight, darker toward
    the rim.
    """
    h, w = shape
    hs, ws = -(-h // step), -(-w // step)
    inv = np.linalg.inv(m)
    xs = origin[0] + np.arange(ws, dtype=np.float32) * step + (step - 1) / 2
    ys = origin[1] + np.arange(hs, dtype=np.float32) * step + (step - 1) / 2
    x, y = np.meshgrid(xs, ys)
    u = inv[0, 0] * x + inv[0, 1] * y + inv[0, 2]
    v = inv[1, 0] * x + inv[1, 1] * y + inv[1, 2]
    theta = np.arctan2(v, u)
    idx = ((theta + np.pi) * (TABLE_SIZE / (2 * np.pi))).astype(np.int32) % TABLE_SIZE
    table = np.roll(body.table, -TABLE_SIZE // 2).astype(np.float32)  # index 0 at theta = -pi
    rho = np.sqrt(u * u + v * v) / table[idx]
    rho = np.minimum(rho, 1.05)
    dx, dy = x - m[0, 2], y - m[1, 2]
    norm = np.sqrt(dx * dx + dy * dy) + 1e-6
    nx, ny = 0.78 * rho * dx / norm, 0.78 * rho * dy / norm
    nz = np.sqrt(np.maximum(1.0 - nx * nx - ny * ny, 0.0))
    lam = np.maximum(nx * LIGHT[0] + ny * LIGHT[1] + nz * LIGHT[2], 0.0)
    half = LIGHT + np.array([0.0, 0.0, 1.0])
    half /= np.linalg.norm(half)
    spec = np.maximum(nx * half[0] + ny * half[1] + nz * half[2], 0.0) ** 24
    shade = (0.32 + 0.78 * lam + 0.3 * spec) * (1.0 - 0.12 * rho**4)
    big = cv2.resize(
        shade.astype(np.float32), (ws * step, hs * step), interpolation=cv2.INTER_LINEAR
    )
    cropped: np.ndarray = big[:h, :w]
    return cropped


def _render_body(
    frame: np.ndarray,
    scene: Scene,
    item: dict[str, Any],
    textures: list[np.ndarray],
) -> None:
    """Composite one body (and its parts) over ``frame`` ``(H, W, 3)`` uint8, in place."""
    body: Body = item["body"]
    m = item["matrix"]
    lines: list[tuple[Part, np.ndarray]] = item["lines"]
    silhouette = lines[0][1]
    cel = scene.kind == "cel"
    pad = scene.ink + 2 if cel else 2
    box = pixel_box([silhouette], pad, scene.width, scene.height)
    if box is None:
        return
    x0, y0, x1, y1 = box
    origin = np.array([x0, y0], np.float64)
    shape = (y1 - y0, x1 - x0)
    alpha = coverage(silhouette, origin, shape)
    base = np.array(body.color, np.float64) * 255
    if cel:
        lit = coverage(item["shadow"], origin, shape)
        shadow = np.array(body.shadow_color, np.float64) * 255
        color = _tint(lit, base - shadow, shadow)
        light = None
    else:
        shade = _shading(body, m, origin, shape, max(4, round(4 * scene.height / 720)))
        tex_m = np.array([[256 / 3.0, 0, 128], [0, 256 / 3.0, 128], [0, 0, 1]]) @ np.linalg.inv(m)
        tex_m = tex_m @ np.array([[1, 0, x0], [0, 1, y0], [0, 0, 1]], np.float64)
        light_map: np.ndarray = cv2.warpAffine(
            textures[body.texture],
            tex_m[:2],
            (shape[1], shape[0]),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_WRAP,
        )
        light_map *= 0.055
        light_map += 1.0
        light_map *= shade
        light = light_map
        color = _tint(light, base)
    ink = np.zeros(shape, np.float32) if cel else None
    for part, pts in lines:
        if part.kind in ("shadow", "silhouette") and not (cel and part.kind == "silhouette"):
            continue
        sub = pixel_box([pts], scene.ink + 2 if cel else 2, shape[1] + x0, shape[0] + y0, (x0, y0))
        if sub is None:
            continue
        sx0, sy0, sx1, sy1 = sub
        where = np.s_[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0]
        sorigin, sshape = np.array([sx0, sy0], np.float64), (sy1 - sy0, sx1 - sx0)
        if part.fill is not None:
            a = coverage(pts, sorigin, sshape)
            fill = np.array(part.fill, np.float64) * 255
            if light is None:
                fill_img = np.empty((*sshape, 3), np.uint8)
                fill_img[:] = np.round(fill).astype(np.uint8)
            elif part.kind == "eye":
                fill_img = _tint(light[where], 0.45 * fill, 0.55 * fill)
            else:
                fill_img = _tint(light[where], fill)
            color[where] = cv2.blendLinear(color[where], fill_img, 1.0 - a, a)
        elif part.kind == "crease" and not cel:
            a = _stroke(pts, sorigin, sshape, scene.crease, False) * 0.5
            black = np.zeros((*sshape, 3), np.uint8)
            color[where] = cv2.blendLinear(color[where], black, 1.0 - a, a)
        if ink is not None:
            stroke = _stroke(pts, sorigin, sshape, scene.ink, part.closed)
            np.maximum(ink[where], stroke, out=ink[where])
    if ink is not None:
        dark = np.full((*shape, 3), 28, np.uint8)
        color = cv2.blendLinear(color, dark, 1.0 - ink, ink)
        alpha = np.maximum(alpha, ink)
    roi = frame[y0:y1, x0:x1]
    frame[y0:y1, x0:x1] = cv2.blendLinear(roi, color, 1.0 - alpha, alpha)


def _tint(weight: np.ndarray, scale: np.ndarray, offset: np.ndarray | None = None) -> np.ndarray:
    """``weight * scale + offset`` per channel: ``(h, w)`` float32 → ``(h, w, 3)`` uint8."""
    offset = np.zeros(3) if offset is None else offset
    return cv2.merge(
        [
            cv2.convertScaleAbs(weight, alpha=float(scale[c]), beta=float(offset[c]))
            for c in range(3)
        ]
    )


def _blur_kernel(direction: np.ndarray, length: float) -> np.ndarray:
    """A normalised linear motion-blur kernel ``length`` px long along ``direction``."""
    size = 2 * math.ceil(length / 2) + 1
    k = np.zeros((size * 8, size * 8), np.uint8)
    d = direction / (np.linalg.norm(direction) + 1e-12) * length / 2 * 8
    c = np.array([size * 4 - 0.5, size * 4 - 0.5])
    a, b = np.round((c - d) * 16).astype(int), np.round((c + d) * 16).astype(int)
    cv2.line(k, tuple(a), tuple(b), 255, 8, cv2.LINE_AA, 4)
    kernel = cv2.resize(k, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32)
    normalised: np.ndarray = kernel / kernel.sum()
    return normalised


class _Noise:
    """Gaussian sensor noise: two precomputed fields, a seeded window of one per frame."""

    def __init__(self, scene: Scene, sigma: float) -> None:
        rng = np.random.default_rng([scene.seed, 56])
        self.pad = 16
        shape = (scene.height + self.pad, scene.width + self.pad, 3)
        self.fields = []
        for _ in range(2):
            n = np.round(rng.standard_normal(shape, dtype=np.float32) * sigma)
            self.fields.append(
                (np.clip(n, 0, 255).astype(np.uint8), np.clip(-n, 0, 255).astype(np.uint8))
            )
        self.h, self.w = scene.height, scene.width
        self.seed = scene.seed

    def apply(self, frame: np.ndarray, index: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, 78, index])
        k, dy, dx = int(rng.integers(2)), *rng.integers(0, self.pad, 2)
        pos, neg = self.fields[k]
        window = np.s_[dy : dy + self.h, dx : dx + self.w]
        return cv2.subtract(cv2.add(frame, pos[window]), neg[window])


class Renderer:
    """Renders frame ``i`` of ``scene`` on demand: ``(H, W, 3)`` uint8 BGR and its truth.

    Frames are independent of each other (a function of ``i`` and the scene), so they can
    be rendered ahead, in another thread, while the encoder works.
    """

    def __init__(self, scene: Scene, fps: int) -> None:
        self.scene, self.fps = scene, fps
        self.margin = math.ceil(0.05 * max(scene.width, scene.height)) + 2
        self.world = _world_background(scene, self.margin)
        self.textures = _surface_textures()
        self.noise = _Noise(scene, 2.6 if scene.kind == "realistic" else 1.2)

    def __call__(self, i: int) -> tuple[np.ndarray, dict[str, Any]]:
        scene, t = self.scene, i / self.fps
        cam = camera_matrix(scene, t)
        shift = np.array([[1, 0, self.margin], [0, 1, self.margin], [0, 0, 1]], np.float64)
        frame = cv2.warpAffine(
            self.world,
            (cam @ np.linalg.inv(shift))[:2],
            (scene.width, scene.height),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        geometry = frame_geometry(scene, t)
        for item in geometry:
            _render_body(frame, scene, item, self.textures)
        if scene.kind == "realistic":
            frame = cv2.filter2D(frame, -1, self._blur(t))
        frame = self.noise.apply(frame, i)
        truth = {
            "lines": frame_truth(scene, geometry),
            "poses": frame_poses(geometry),
            "camera": pose_entry(cam),
        }
        return frame, truth

    def _blur(self, t: float) -> np.ndarray:
        """The camera's motion over half a frame's shutter, 1.5–3 px long (at 720p)."""
        scale = self.scene.height / 720.0
        dt = 0.5 / self.fps
        centre = np.array([self.scene.width / 2, self.scene.height / 2, 1.0])
        v = (camera_matrix(self.scene, t + dt / 2) - camera_matrix(self.scene, t - dt / 2)) @ centre
        speed = float(np.linalg.norm(v[:2]))
        direction = v[:2] if speed > 1e-6 else np.array([1.0, 0.0])
        return _blur_kernel(direction, float(np.clip(speed, 1.5 * scale, 3.0 * scale)))
