"""Line maps to one-pixel centerlines: thin-hole filling, thinning, distances, ink pixels.

A line map is ``(H, W)`` with ink > 0. Every function here works with OpenCV/NumPy kernels
on whole images or on the list of ink pixels; none loops over pixels in Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PINHOLE = 1.5  # px: holes at most this wide are filled whatever their shape
ROUND = 4.0  # a hole less elongated than this (half-perimeter / (width + 1)) is round


def fill_thin_holes(ink: np.ndarray, max_width: float) -> np.ndarray:
    """Fill enclosed background regions (holes) no wider than ``max_width`` px, unless they
    are small round outlines.

    An edge detector traces a wide dark line as two parallel edges around a thin sliver of
    background; filling the sliver makes the line one band again, so it thins to one
    centerline. Borders are traced on the ink pixels around each hole (``cv2.findContours``,
    one scan of the image); a hole's area is its border's area less the areas of the
    components inside it, its perimeter the sum of those borders. A sliver of width ``h`` and
    length ``L`` has area ``≈ (h + 1)·L`` and perimeter ``≈ 2L``, so its width is
    ``w = 2·area / perimeter − 1`` and its elongation ``(perimeter / 2) / (w + 1) ≈ L / (h + 1)``.
    A disc of radius ``r`` has ``w = r − 1`` and elongation π, a square 4: a hole less
    elongated than ``ROUND`` and wider than ``PINHOLE`` is the inside of a small closed
    outline (a pupil on a boundary map, a ring drawn 5-8 px across), not a sliver, and stays
    open; pinholes in ink are filled whatever their shape. ``ink`` is ``(H, W)`` bool or
    0/255; returns a bool mask.
    """
    m = (np.asarray(ink) > 0).view(np.uint8)
    if max_width <= 0 or m.size == 0:
        return m.view(bool)
    contours, hierarchy = cv2.findContours(m, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return m.view(bool)
    links = hierarchy[0]
    area = np.array([cv2.contourArea(c) for c in contours])
    perimeter = np.array([cv2.arcLength(c, True) for c in contours])
    # Borders alternate ink / hole / ink ... down the tree: a hole sits at an odd depth.
    is_hole = np.zeros(len(contours), bool)
    parent = links[:, 3]
    while (parent >= 0).any():
        is_hole ^= parent >= 0
        parent = np.where(parent >= 0, links[parent, 3], -1)
    hole_area = np.where(is_hole, area, 0.0)
    hole_perimeter = np.where(is_hole, perimeter, 0.0)
    inner = np.flatnonzero((~is_hole) & (links[:, 3] >= 0))
    np.subtract.at(hole_area, links[inner, 3], area[inner])
    np.add.at(hole_perimeter, links[inner, 3], perimeter[inner])
    width = 2.0 * hole_area / np.maximum(hole_perimeter, 1e-9) - 1.0
    round_ring = (0.5 * hole_perimeter < ROUND * (width + 1.0)) & (width > PINHOLE)
    children: dict[int, list[np.ndarray]] = {}
    for j in inner.tolist():
        children.setdefault(int(links[j, 3]), []).append(contours[j])
    for i in np.flatnonzero(is_hole & (width <= max_width) & ~round_ring).tolist():
        x, y, w, h = cv2.boundingRect(contours[i])
        paint = np.zeros((h, w), np.uint8)
        cv2.drawContours(paint, [contours[i]], -1, 1, cv2.FILLED, offset=(-x, -y))
        # Components inside the hole keep their own interiors (a ring inside a ring).
        cv2.drawContours(paint, children.get(i, []), -1, 0, cv2.FILLED, offset=(-x, -y))
        m[y : y + h, x : x + w] |= paint
    return m.view(bool)


def flat_nonzero(buffer: np.ndarray) -> np.ndarray:
    """Ascending indices of the non-zero bytes of a 1-D uint8 ``buffer`` whose length is a
    multiple of 8. Sparse masks are scanned eight bytes at a time and only the non-zero
    words are opened: ~10× faster than ``np.flatnonzero`` on a line map."""
    hot = np.flatnonzero(buffer.view(np.uint64))
    row, col = np.nonzero(buffer.reshape(-1, 8)[hot])
    return hot[row] * 8 + col


def neighbour_offsets(stride: int) -> np.ndarray:
    """Flat offsets of the 8 neighbours (E, NE, N, NW, W, SW, S, SE) in an image with rows of
    ``stride`` pixels."""
    return np.array(
        [1, 1 - stride, -stride, -1 - stride, -1, stride - 1, stride, stride + 1], np.intp
    )


@dataclass(frozen=True)
class PixelSet:
    """The set pixels of an ``(H, W)`` mask, kept as the mask's flat copy with a 1-px border
    of zeros: ``image`` uint8 (rows of ``stride = W + 2``, length a multiple of 8) and
    ``pixels``, the ascending flat indices of its set pixels. Per-pixel work then looks up
    neighbours by flat offsets (:func:`neighbour_offsets`) without bounds checks."""

    image: np.ndarray
    stride: int
    shape: tuple[int, int]
    pixels: np.ndarray

    @classmethod
    def of(cls, mask: np.ndarray) -> PixelSet:
        """The set pixels of a ``(H, W)`` mask (non-zero is set)."""
        m = np.asarray(mask)
        h, w = m.shape
        stride = w + 2
        size = (h + 2) * stride
        image = np.zeros(size + (-size) % 8, np.uint8)
        image[:size].reshape(h + 2, stride)[1:-1, 1:-1] = m if m.dtype == bool else m != 0
        return cls(image, stride, (h, w), flat_nonzero(image))

    def framed(self) -> np.ndarray:
        """``image`` as a ``(H + 2, W + 2)`` view (the mask with its border)."""
        h, w = self.shape
        return self.image[: (h + 2) * self.stride].reshape(h + 2, self.stride)

    def mask(self) -> np.ndarray:
        """The ``(H, W)`` bool mask of ``pixels``."""
        out = np.zeros(len(self.image), bool)
        out[self.pixels] = True
        h, w = self.shape
        return out[: (h + 2) * self.stride].reshape(h + 2, self.stride)[1:-1, 1:-1].copy()


def _guo_hall_tables() -> tuple[np.ndarray, np.ndarray]:
    """Which pixels each of Guo and Hall's two subiterations deletes, ``(256,)`` bool each,
    indexed by the 8-neighbour code (bit ``k`` set when neighbour ``x_{k+1}`` is ink;
    ``x1`` east, then counter-clockwise: NE, N, NW, W, SW, S, SE).

    Guo & Hall (1989), algorithm A1: delete ``P`` when its neighbours form one 8-connected
    group, ``C(P) = Σ ¬x_{2i−1} ∧ (x_{2i} ∨ x_{2i+1}) = 1``; ``N(P) = min(N₁, N₂)`` is 2 or 3
    (``N₁ = Σ x_{2k−1} ∨ x_{2k}``, ``N₂ = Σ x_{2k} ∨ x_{2k+1}``), so ends and bridges stay;
    and ``(x₂ ∨ x₃ ∨ ¬x₈) ∧ x₁ = 0`` in the first subiteration,
    ``(x₆ ∨ x₇ ∨ ¬x₄) ∧ x₅ = 0`` in the second.
    """
    code = np.arange(256)
    x = [(code >> k) & 1 == 1 for k in range(8)]  # x[k] is x_{k+1}
    c = sum(~x[2 * i] & (x[2 * i + 1] | x[(2 * i + 2) % 8]) for i in range(4))
    n1 = sum(x[2 * k] | x[2 * k + 1] for k in range(4))
    n2 = sum(x[2 * k + 1] | x[(2 * k + 2) % 8] for k in range(4))
    n = np.minimum(n1, n2)
    removable = (c == 1) & (n >= 2) & (n <= 3)
    first = removable & ~((x[1] | x[2] | ~x[7]) & x[0])
    second = removable & ~((x[5] | x[6] | ~x[3]) & x[4])
    return first, second


_DELETES = _guo_hall_tables()
BLOB_PIXELS = 1 << 16  # ink left beyond this, and 4x the changes: list changed pixels directly


def thin(ink: np.ndarray) -> np.ndarray:
    """One-pixel, 8-connected centerlines of the ink, ``(H, W)`` bool (Guo–Hall thinning;
    see :func:`thin_pixels`)."""
    return thin_pixels(ink).mask()


def thin_pixels(ink: np.ndarray) -> PixelSet:
    """The pixels of the ink's one-pixel, 8-connected centerlines (Guo–Hall thinning).

    The two subiterations of :func:`_guo_hall_tables` alternate until neither deletes a
    pixel; each decides for all pixels at once from the image as it was before it (the
    result equals :func:`skimage.morphology.thin`). Only ink pixels are looked at, and after
    the first two subiterations only those next to a pixel deleted in the last two (no other
    pixel's neighbourhood changed), so the cost follows the ink, not the image area.
    """
    ink_set = PixelSet.of(ink)
    image, stride = ink_set.image, ink_set.stride
    neighbours = neighbour_offsets(stride)
    # The last subiteration that deleted a neighbour of each pixel (0: none yet).
    touched = np.zeros(len(image), np.uint16)
    slot = np.zeros(0, np.int32)  # scratch for removing repeats from index lists
    candidates = alive = ink_set.pixels
    near_before = np.zeros(0, np.intp)
    subiteration = 0
    while len(candidates):
        code = np.zeros(len(candidates), np.uint8)
        for bit, offset in enumerate(neighbours):
            code |= image[candidates + offset] << np.uint8(bit)
        gone = candidates[_DELETES[subiteration % 2][code]]
        image[gone] = 0
        subiteration += 1
        near = (gone[:, None] + neighbours[None, :]).ravel()
        touched[near] = subiteration
        if subiteration == 1:  # the second table has not seen any pixel yet
            candidates = alive = alive[image[alive] == 1]
        elif len(alive) > max(4 * (len(near_before) + len(near)), BLOB_PIXELS):
            # A thick blob: far more ink than changes, so list the changed pixels directly
            # (``alive`` is left stale until the next full pass).
            both = np.concatenate([near_before, near])
            both = both[image[both] == 1]
            slot = slot if len(slot) else np.zeros(len(image), np.int32)
            slot[both] = np.arange(len(both), dtype=np.int32)
            candidates = both[slot[both] == np.arange(len(both))]
        else:  # later ones only need pixels whose neighbourhood changed since they looked
            alive = alive[image[alive] == 1]
            candidates = alive[touched[alive] >= subiteration - 1]
        near_before = near
    return PixelSet(image, stride, ink_set.shape, alive[image[alive] == 1])


def ink_distance(ink: np.ndarray) -> np.ndarray:
    """Distance of every ink pixel to the nearest background pixel, ``(H, W)`` float32 px.

    On the centerline of a band ``w`` pixels wide this is ``(w + 1) / 2``, so the line width
    there is ``2·DT − 1`` (see :func:`width_from_distance`). The 3×3 chamfer metric is within
    a few percent of Euclidean at line-width scales, and fast.
    """
    mask = np.asarray(ink)
    mask = (
        np.ascontiguousarray(mask).view(np.uint8)
        if mask.dtype == bool
        else (mask > 0).view(np.uint8)
    )
    if mask.size == 0:
        return np.zeros(mask.shape, np.float32)
    if cv2.countNonZero(mask) == mask.size:  # no background at all: the frame's edge bounds it
        framed = cv2.copyMakeBorder(mask, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
        return cv2.distanceTransform(framed, cv2.DIST_L2, 3)[1:-1, 1:-1]
    return cv2.distanceTransform(mask, cv2.DIST_L2, 3)


def width_from_distance(distance: np.ndarray) -> np.ndarray:
    """Line width in px from centerline distances (:func:`ink_distance`), at least 1 px.

    A 1-px centerline sits on the middle pixel of an odd band (``DT = (w + 1) / 2``) but half
    a pixel off-centre in an even one (``DT = w / 2``): ``2·DT − 0.5`` is off by ±0.5 px with
    no bias over the two (``2·DT − 1`` underestimated every even band by a pixel, and
    rendered strokes scored lower SSIM against their own line maps).
    """
    return np.maximum(2.0 * np.asarray(distance, np.float64) - 0.5, 1.0)
