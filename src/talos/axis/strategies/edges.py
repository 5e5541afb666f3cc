"""Classical line-map strategies: Canny edges, XDoG (extended difference of Gaussians) for
footage that is already line art, and colour boundaries with texture suppression for rendered
and filmed footage."""

from __future__ import annotations

import cv2
import numpy as np

from talos.axis.geometry.sampling import sample_either_side
from talos.axis.strategies import EDGE_DETECTORS, EdgeDetector
from talos.config import EdgeSettings


def to_gray(image: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` BGR or ``(H, W)`` gray uint8 → ``(H, W)`` uint8 gray."""
    if image.ndim == 2:
        return image
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


@EDGE_DETECTORS.register("canny")
class CannyEdgeDetector(EdgeDetector):
    """Gaussian blur (``blur_sigma``) then Canny with hysteresis thresholds.

    Canny marks intensity *boundaries*: a drawn line of width w gives two parallel edges.
    Prefer ``xdog`` for footage of lines; use Canny for photographic footage.
    """

    def __init__(self, edges: EdgeSettings) -> None:
        self.sigma = edges.blur_sigma
        self.low = edges.low_threshold
        self.high = edges.high_threshold

    def _blurred(self, image: np.ndarray) -> np.ndarray:
        gray = to_gray(image)
        return cv2.GaussianBlur(gray, (0, 0), self.sigma) if self.sigma > 0 else gray

    def detect(self, image: np.ndarray) -> np.ndarray:
        return cv2.Canny(self._blurred(image), self.low, self.high, L2gradient=True)

    def detect_with_weak(
        self, image: np.ndarray, ratio: float
    ) -> tuple[np.ndarray, np.ndarray | None]:
        gray = self._blurred(image)
        lines = cv2.Canny(gray, self.low, self.high, L2gradient=True)
        weak = cv2.Canny(gray, ratio * self.low, ratio * self.low, L2gradient=True)
        return lines, (weak > 0) & (lines == 0)


# Tone lines: Canny thresholds (3×3 Sobel, L2) of a crisp step between two flat fills,
# on XDoG's narrow blur: a cel shadow's step of 10–20 gray levels passes, a painted
# background's airbrush and the gradient of paper do not.
TONE_LOW, TONE_HIGH = 16.0, 32.0
TONE_CLEARANCE = 4  # px: an edge this near ink is the ink line's own flank
TONE_MIN_PX = 20  # px: a tone edge shorter than this is a speck
_TONE_CHECK = 4  # the frame at 1/4 of its size first: most drawings have no tone edge
_ZERO = np.zeros(1)


def tone_lines(blurred: np.ndarray, ink: np.ndarray) -> np.ndarray | None:
    """The crisp edges of ``blurred`` ``(H, W)`` uint8 (a gray frame smoothed by about a
    pixel) that are not the flanks of ``ink`` ``(H, W)`` uint8 (nonzero: ink): Canny
    (:data:`TONE_LOW`, :data:`TONE_HIGH`) outside ``ink`` grown by :data:`TONE_CLEARANCE`
    px, in 8-connected pieces about :data:`TONE_MIN_PX` px long or longer.
    ``(H, W)`` bool, one pixel wide; None for a frame the check below finds without any.

    In cel animation these are the lines an inker leaves to colour: where a shadow shape
    or a highlight meets the lit fill. XDoG sees only dark lines, so without them a
    shadow's shape is lost (every shadow line of the generated cel clips).

    A frame without any is found out at :data:`_TONE_CHECK` times smaller first (a
    sixteenth of the pixels, then nothing at full size): Canny there, clear of the ink.
    A step between every 4th pixel is a step one small pixel wide, so its gradient there
    is at least what it is at full size: the check does not miss a tone edge that runs
    more than twice the clearance from the ink."""
    height, width = blurred.shape
    small_size = (max(1, width // _TONE_CHECK), max(1, height // _TONE_CHECK))
    # Every 4th pixel of the blurred frame (a step stays a step one small pixel wide), and
    # any ink in each 4 × 4 block of the ink: a line that crosses a block masks it, and
    # its flanks in the blocks around it.
    small = cv2.resize(blurred, small_size, interpolation=cv2.INTER_NEAREST)
    small_ink = cv2.resize(ink, small_size, interpolation=cv2.INTER_AREA)
    small_edges = cv2.Canny(small, TONE_LOW, TONE_HIGH, L2gradient=True)
    small_edges[cv2.dilate(small_ink, np.ones((3, 3), np.uint8)) > 0] = 0
    if cv2.countNonZero(small_edges) < TONE_MIN_PX // _TONE_CHECK:
        return None
    edges = cv2.Canny(blurred, TONE_LOW, TONE_HIGH, L2gradient=True)
    size = 2 * TONE_CLEARANCE + 1
    near = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    edges = cv2.bitwise_and(edges, cv2.bitwise_not(near))
    # A 1-px piece's outline runs out and back along it: twice its length. Outlines are
    # found and redrawn in a fraction of a millisecond; labelling the whole frame's
    # connected components takes ten times longer.
    outlines, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    lines = np.zeros_like(edges)
    long_enough = [c for c in outlines if len(c) >= 2 * TONE_MIN_PX]
    cv2.drawContours(lines, long_enough, -1, 255, 1)
    kept: np.ndarray = lines > 0
    return kept


HOLLOW_MAX_WIDTH = 8.0  # px: mean width of a hollow line's core (lines up to ~12 px wide)
HOLLOW_MIN_PX = 50  # px: a shorter core (a pupil, two lines running together) stays open
_HOLLOW_MAX_HOLES = 16  # a core with more holes is a dark texture, not a line


def hollow_cores(gray: np.ndarray, ink: np.ndarray) -> np.ndarray | None:
    """The dark cores that XDoG leaves inside lines wider than its band: ``(H, W)`` uint8,
    255 on the cores to fill; None for a frame without any. ``gray`` ``(H, W)`` uint8 is
    the frame, ``ink`` ``(H, W)`` uint8 (nonzero: ink) XDoG's map of it.

    Inside a dark line of width ``w`` ≳ 2kσ both blurs reach the line's own darkness
    ``I``, so ``D ≈ (1 − τ)·I ≥ ε``: the inside reads as paper, and the line comes out as
    its two flanks around a dark gap (the standard clip's 7.5 px lines did: two loops per
    line whose ids traded places). A *core* is an 8-connected piece of pixels that are
    not ink and no lighter than the ink's mean gray. It is filled when it is

    - thin: its mean width ``2A / P`` (area less its holes, over the length of all its
      outlines) is at most :data:`HOLLOW_MAX_WIDTH`, so a dark fill (hair, a night sky)
      keeps its outline;
    - long: its outline is at least twice :data:`HOLLOW_MIN_PX`, so the small round gap
      inside a pupil's ring, and the wedge where two lines that cross at a shallow angle
      run together, stay as they are (filled, the wedge pulls the crossing into a fork).

    The vectorizer's :func:`~talos.axis.geometry.skeleton.fill_thin_holes` fills slivers up
    to ``vectorize.fill_holes`` px from the map alone, where a wider gap inside a line looks
    like the paper between two lines; the frame's gray tells them apart here.

    The level is the ink's mean and no lighter: three gray levels more already take in the
    dark shadow beside a cel outline, which thickens it (the cel clip lost two lines' ids).
    """
    level = cv2.mean(gray, mask=ink)[0]
    _, dark = cv2.threshold(gray, level, 255, cv2.THRESH_BINARY_INV)  # 255: gray ≤ level
    cores = cv2.subtract(dark, ink)
    if cv2.countNonZero(cores) < HOLLOW_MIN_PX:  # most drawings: not one long core
        return None
    outlines, hierarchy = cv2.findContours(cores, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    links = hierarchy[0]  # per outline: next, previous, first hole, parent
    thin_and_long = []
    for i in np.flatnonzero(links[:, 3] < 0).tolist():
        if len(outlines[i]) < 2 * HOLLOW_MIN_PX:
            continue
        piece = [outlines[i]]
        hole = int(links[i, 2])
        while hole >= 0 and len(piece) <= _HOLLOW_MAX_HOLES:
            piece.append(outlines[hole])
            hole = int(links[hole, 0])
        if hole >= 0:  # holes left over: more than the most a line's core has
            continue
        area = cv2.contourArea(piece[0]) - sum(cv2.contourArea(h) for h in piece[1:])
        if 2 * area <= HOLLOW_MAX_WIDTH * sum(len(c) for c in piece):
            thin_and_long += piece
    if not thin_and_long:
        return None
    filled = np.zeros_like(ink)
    # One fill of all outlines at once: a hole's outline flips its inside back to open.
    cv2.drawContours(filled, thin_and_long, -1, 255, cv2.FILLED)
    return filled


@EDGE_DETECTORS.register("xdog")
class XDoGEdgeDetector(EdgeDetector):
    """Winnemöller's XDoG, thresholded: ink where ``G_σ − τ·G_kσ < ε``; with
    ``xdog_tone_lines``, also the tone lines away from the ink (:func:`tone_lines`, on the
    narrow blur ``G_σ``); with ``xdog_hollow_lines``, lines wider than its band are filled
    (:func:`hollow_cores`).

    On a gray image ``I`` in [0, 1], ``D = G_σ * I − τ · (G_kσ * I)``. Away from lines
    ``D ≈ (1 − τ)·I ≥ ε``; on a dark line the narrow blur is darker than the wide one and
    ``D`` drops below ``ε``. Unlike Canny, a line of width w stays one band of width ≈ w.

    The blurs run on the 8-bit image (OpenCV's fixed-point Gaussian, 2.5× faster than in
    float); they are exact to half a gray level, which moves only pixels whose response is
    within that of the threshold.
    """

    def __init__(self, edges: EdgeSettings) -> None:
        self.sigma = edges.xdog_sigma
        self.k = edges.xdog_k
        self.tau = edges.xdog_tau
        self.epsilon = edges.xdog_epsilon
        self.tone = edges.xdog_tone_lines
        self.hollow = edges.xdog_hollow_lines

    def detect(self, image: np.ndarray) -> np.ndarray:
        gray = to_gray(image)
        narrow = cv2.GaussianBlur(gray, (0, 0), self.sigma)
        wide = cv2.GaussianBlur(gray, (0, 0), self.sigma * self.k)
        # 255·(D − ε) in one pass, D on the 0..255 scale; ink where it is not above 0.
        shifted = cv2.addWeighted(
            narrow, 1.0, wide, -self.tau, -255.0 * self.epsilon, dtype=cv2.CV_32F
        )
        # uint8, 255: ink (a one-element array is compared as a scalar)
        lines: np.ndarray = cv2.compare(shifted, _ZERO, cv2.CMP_LE)
        cores = hollow_cores(gray, lines) if self.hollow else None
        if cores is not None:
            cv2.bitwise_or(lines, cores, dst=lines)
        tone = tone_lines(narrow, lines) if self.tone else None
        if tone is not None:
            lines[tone] = 255
        return lines


# Canny takes integer derivatives; this scale keeps 1/4096 of a Lab unit per px.
_GRADIENT_SCALE = 4096.0


def _derivative_kernels(sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """A Gaussian of ``sigma`` px followed by the 3×3 Sobel filter / 8, as one separable
    filter: the 1-D ``(derivative, smoothing)`` kernels (OpenCV correlates, hence the
    reversed difference)."""
    gauss: np.ndarray = np.ones(1)
    if sigma > 0:
        # The size GaussianBlur picks for a float image: round(8σ + 1), made odd.
        size = int(np.rint(8 * sigma + 1)) | 1
        gauss = cv2.getGaussianKernel(size, sigma, cv2.CV_64F).ravel()
    derivative = np.convolve(gauss, [0.5, 0.0, -0.5])
    smoothing = np.convolve(gauss, [0.25, 0.5, 0.25])
    return derivative.astype(np.float32), smoothing.astype(np.float32)


def colour_gradient(
    image: np.ndarray, sigma: float, chroma: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Di Zenzo's colour gradient of ``image`` ``(H, W, 3)`` uint8 BGR in CIE Lab.

    Channels are scaled to [0, 1] (Lab/255), a and b weighted by ``chroma``, smoothed by a
    Gaussian of ``sigma`` px. With the per-channel derivatives ``∂x c``, ``∂y c`` (Sobel / 8:
    units per px), the structure tensor ``J = Σ_c [∂x c, ∂y c]ᵀ[∂x c, ∂y c]`` has largest
    eigenvalue ``λ = (Jxx + Jyy + √((Jxx − Jyy)² + 4 Jxy²)) / 2``; the gradient magnitude is
    ``√λ``, along the angle ``θ = ½ atan2(2 Jxy, Jxx − Jyy)``.

    Returns ``(magnitude, Jxx − Jyy, 2 Jxy)``, each ``(H, W)`` float32. The orientation stays
    in its doubled-angle form, which, unlike ``θ`` or a unit vector, has no sign flip and so
    can be interpolated.

    Smoothing and derivative are one separable filter applied to the 8-bit Lab image, and
    the channel weights ``w_c`` enter the sums as ``w_c²`` (``∂(w c) = w ∂c``): the same
    values as scaling, blurring and differentiating a float image, in a third of the passes.
    """
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2Lab)
    derivative, smoothing = _derivative_kernels(sigma)
    gx = cv2.sepFilter2D(lab, cv2.CV_32F, derivative, smoothing)
    gy = cv2.sepFilter2D(lab, cv2.CV_32F, smoothing, derivative)
    weights = np.square(np.array([[1.0, chroma, chroma]], np.float32) * np.float32(1 / 255))
    jxx = cv2.transform(cv2.multiply(gx, gx), weights)
    jyy = cv2.transform(cv2.multiply(gy, gy), weights)
    jxy2 = cv2.transform(cv2.multiply(gx, gy), 2 * weights)
    diff = cv2.subtract(jxx, jyy)
    largest = cv2.addWeighted(cv2.add(jxx, jyy), 0.5, cv2.magnitude(diff, jxy2), 0.5, 0.0)
    return cv2.sqrt(largest), diff, jxy2


def side_surround(
    magnitude: np.ndarray, cos2: np.ndarray, sin2: np.ndarray, sigma: float
) -> np.ndarray:
    """The texture around each pixel on its quieter side, ``(H, W)`` float32.

    ``S = G_σ * magnitude`` is the mean gradient of a neighbourhood. At every pixel ``p``
    with edge normal ``n`` (from the doubled-angle orientation ``cos2``, ``sin2`` of
    :func:`colour_gradient`), the result is ``min(S(p + d·n), S(p − d·n))`` with
    ``d = 1.5 σ``: far enough out that the edge itself contributes little to either side.
    """
    surround = cv2.GaussianBlur(magnitude, (0, 0), sigma)
    theta = cv2.phase(cos2, sin2) * np.float32(0.5)
    nx, ny = cv2.polarToCart(np.full_like(theta, 1.5 * sigma), theta)
    ahead, behind = sample_either_side(surround, nx, ny, cv2.BORDER_REFLECT)
    return cv2.min(ahead, behind)


def half_angle(vx: np.ndarray, vy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The gradient ``(m cos θ, m sin θ)`` from its doubled-angle form ``V = m (cos 2θ,
    sin 2θ)``, each ``(H, W)`` float32, with ``cos θ ≥ 0``.

    ``m cos²θ = (|V| + Vx) / 2`` and ``m sin²θ = (|V| − Vx) / 2``, so ``m cos θ =
    √(|V| (|V| + Vx) / 2)`` and ``m sin θ = sign(Vy) √(|V| (|V| − Vx) / 2)``: square roots
    instead of the trigonometry of ``atan2`` and ``cos``/``sin``.
    """
    norm = cv2.magnitude(vx, vy)
    dx = cv2.sqrt(cv2.max(0.5 * norm * (norm + vx), 0.0))
    dy = cv2.sqrt(cv2.max(0.5 * norm * (norm - vx), 0.0))
    return dx, np.copysign(dy, vy)


@EDGE_DETECTORS.register("boundaries")
class BoundaryEdgeDetector(EdgeDetector):
    """The lines an artist draws from footage: boundaries between colour regions, at the
    scale of objects rather than of texture, 1 px wide at the frame's resolution.

    1. The frame is reduced (area average) to its working width (:meth:`working_width`:
       ``boundary_scale`` of its width, at least ``boundary_width`` px): grass blades, gravel
       and noise shrink below the smoothing scale while silhouettes stay sharp steps.
    2. :func:`colour_gradient` there (Lab, colour weighted by ``boundary_chroma``, smoothed
       by ``boundary_sigma``): a silhouette between two colours counts even when their
       lightness is alike.
    3. Texture suppression: surround inhibition (Grigorescu, Petkov and Westenberg 2003), made
       one-sided. The magnitude loses ``boundary_inhibition`` × :func:`side_surround`, the
       smaller of the mean gradients found on either side of the edge. An edge inside
       texture has texture on both sides and is cancelled; a silhouette against grass has
       a smooth side and keeps its strength, where the isotropic form of the paper cancels
       it with the grass.
    4. The gradient vector (:func:`half_angle`) is scaled back to the frame's size
       (bilinear, in a form without sign jumps) and handed to Canny's non-maximum
       suppression and hysteresis (``boundary_low``, ``boundary_high``): 1-px, connected
       lines at full resolution.
    """

    def __init__(self, edges: EdgeSettings) -> None:
        self.least_width = edges.boundary_width
        self.scale = edges.boundary_scale
        self.sigma = edges.boundary_sigma
        self.chroma = edges.boundary_chroma
        self.inhibition = edges.boundary_inhibition
        self.surround = edges.boundary_surround
        self.low = edges.boundary_low * _GRADIENT_SCALE
        self.high = edges.boundary_high * _GRADIENT_SCALE

    def working_width(self, width: int) -> int:
        """The width in px a frame ``width`` px wide is reduced to: ``max(boundary_width,
        round(boundary_scale · width))``, or ``width`` itself where that is as wide or 0.

        Half the width at 1080p (960) closes the silhouettes that 640 px draws with gaps;
        720p footage stays at 640, where 960 traces more of the grass and flickers more
        (README, "Line extraction")."""
        target = max(self.least_width, round(self.scale * width))
        return width if target <= 0 or target >= width else target

    def detect(self, image: np.ndarray) -> np.ndarray:
        gradient = self._gradient(image)
        if gradient is None:
            return np.zeros(image.shape[:2], np.uint8)
        dx, dy = gradient
        return cv2.Canny(dx, dy, self.low, self.high, L2gradient=True)

    def detect_with_weak(
        self, image: np.ndarray, ratio: float
    ) -> tuple[np.ndarray, np.ndarray | None]:
        gradient = self._gradient(image)
        if gradient is None:
            return np.zeros(image.shape[:2], np.uint8), None
        dx, dy = gradient
        lines = cv2.Canny(dx, dy, self.low, self.high, L2gradient=True)
        # Every non-maximum-suppressed candidate above the weak threshold, kept or not.
        weak = cv2.Canny(dx, dy, ratio * self.low, ratio * self.low, L2gradient=True)
        return lines, (weak > 0) & (lines == 0)

    def _gradient(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """The inhibited colour gradient at the frame's size as Canny's int16 ``(dx, dy)``
        (steps 1–4 of the class docstring); None for a frame too small to have one."""
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        height, width = image.shape[:2]
        if min(height, width) < 3:  # no pixel has neighbours on both sides
            return None
        small = image
        working = self.working_width(width)
        if working < width:
            size = (working, max(1, round(height * working / width)))
            small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        magnitude, cos2, sin2 = colour_gradient(small, self.sigma, self.chroma)
        if self.inhibition > 0:
            inhibition = side_surround(magnitude, cos2, sin2, self.surround)
            magnitude = cv2.max(cv2.scaleAdd(inhibition, -self.inhibition, magnitude), 0.0)
        # The gradient as magnitude × doubled-angle unit vector: V = m (cos 2θ, sin 2θ).
        length: np.ndarray = cv2.magnitude(cos2, sin2)
        length += np.float32(1e-12)
        scaled = cv2.multiply(np.divide(np.float32(_GRADIENT_SCALE), length, out=length), magnitude)
        vx, vy = cv2.multiply(cos2, scaled), cv2.multiply(sin2, scaled)
        dx, dy = half_angle(vx, vy)
        if small is image:
            return dx.astype(np.int16), dy.astype(np.int16)
        # Canny needs |∂x|, |∂y| and the sign of their product, sign(sin 2θ) = sign(Vy): all
        # three interpolate without jumps, where ∂y itself flips sign at θ = ±90°.
        size = (width, height)
        dx = cv2.resize(dx, size, interpolation=cv2.INTER_LINEAR).astype(np.int16)
        dy = cv2.resize(cv2.absdiff(dy, _ZERO), size, interpolation=cv2.INTER_LINEAR)
        dy = dy.astype(np.int16)  # truncation: |trunc(±y)| = trunc(|y|), so signing after is exact
        negative = cv2.resize(vy, size, interpolation=cv2.INTER_LINEAR) < 0
        np.negative(dy, out=dy, where=negative)
        return dx, dy
