"""Classical line-map strategies: Canny edges, XDoG (extended difference of Gaussians) for
footage that is already line art, and colour boundaries with texture suppression for rendered
and filmed footage."""

from __future__ import annotations

import cv2
import numpy as np

from talos.axis.geometry.sampling import sample_bilinear, sample_either_side
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
TONE_SPECK_PX = 2  # px: ink no larger than this either way is XDoG's dot on a tone edge
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
    more than twice the clearance from the ink. At full size, XDoG's dots on a strong
    edge's dark side are not ink (:func:`_without_specks`); the check still takes them
    for ink, so a frame whose only tone edge is dotted all along is found without any (a
    drawing without tone edges pays nothing for the dots)."""
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
    ink = _without_specks(ink)
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


def _without_specks(ink: np.ndarray) -> np.ndarray:
    """``ink`` without its pieces of at most :data:`TONE_SPECK_PX` px either way (a copy;
    ``ink`` itself where there are none). XDoG leaves such dots on the dark side of a
    strong tone edge; cleared around as ink, they cut the edge into pieces too short to
    keep."""
    outlines, _ = cv2.findContours(ink, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    specks = [c for c in outlines if max(cv2.boundingRect(c)[2:]) <= TONE_SPECK_PX]
    if not specks:
        return ink
    cleaned = ink.copy()
    cv2.drawContours(cleaned, specks, -1, 0, cv2.FILLED)
    return cleaned


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


# A drawn line's own gradient, this many working px either side of it, is not texture around
# it (inner lines, creases: :func:`near_drawn`).
DRAWN_LINE_PX = 2

# Inner lines (step 4b of BoundaryEdgeDetector): a pupil inside an eye, a patch on a body.
INNER_KEEP = 0.7  # share of the inhibition that discounting drawn lines always keeps
INNER_MARGIN_SURROUNDS = 4.5  # σ: the inhibition reads 1.5 σ out, through a blur of 3 σ

# Contours (step 5 of BoundaryEdgeDetector): a weak boundary drawn for running on.
CONTOUR_HALF_PX = 8  # working px either side along the line that its strength is averaged over
CONTOUR_STEP_PX = 2.0  # working px between the samples averaged (the field is smooth at σ)
CONTOUR_MIN_PX = 24.0  # working px: the shortest run of weak boundary drawn as a contour
CONTOUR_NEAR_PX = 2.0  # working px either side where a step's colours are compared ...
CONTOUR_FAR_PX = 8.0  # ... and again here, past a band's other flank (step_edges)
CONTOUR_STEP_BLUR = 1.5  # working px: the colours compared are blurred this much
CURVE_PROBE_PX = 4.0  # working px either side where a contour's turning is read (noise on a weak
# straight edge bends it less than over 2 px; 2θ still turns by less than π at MAX_CURVATURE)
MAX_CURVATURE = 0.19  # 1/px: a contour is followed round circles of 5.3 working px or more
CONTOUR_LOW_SHARE = 0.5  # a contour runs on down to this share of its seed's strength
# Least ratio of a seed's gradient at the working size (blurred by the smoothing σ) to that
# at half the size (per working px): a boundary in focus.
CONTOUR_SHARPNESS = 1.45


def orientation_at(cos2: np.ndarray, sin2: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The doubled-angle orientation ``(cos 2θ, sin 2θ)`` (times the length it has in the
    maps) read bilinearly at ``points`` ``(K, 2)`` px: ``(K, 2)`` float32. Each map is read
    on its own (one channel: faster than a merged stack)."""
    doubled: np.ndarray = np.stack(
        [sample_bilinear(cos2, points), sample_bilinear(sin2, points)], axis=1
    )
    return doubled


def contour_strength(
    magnitude: np.ndarray,
    cos2: np.ndarray,
    sin2: np.ndarray,
    points: np.ndarray,
    half_length: float = CONTOUR_HALF_PX,
    step: float = CONTOUR_STEP_PX,
) -> np.ndarray:
    """How strongly each of ``points`` lies on one long boundary: ``(K,)`` float32, in the
    units of ``magnitude``.

    ``magnitude``, ``cos2``, ``sin2`` ``(H, W)`` float32 are a gradient magnitude and its
    doubled-angle orientation (:func:`colour_gradient`); ``points`` ``(K, 2)`` px (x, y) in
    that grid. The field ``V = magnitude · u``, with ``u = (cos 2θ, sin 2θ)`` made unit, is
    read at samples ``step`` px apart (bilinear) from ``s = −L`` to ``L`` = ``half_length``
    px along the circle that continues the edge through each point ``p`` (co-circularity,
    Parent and Zucker 1989), and each sample is projected on the orientation that circle has
    there:

        C(p) = mean_{|s| ≤ L} ⟨ V(x_p(s)), u_p(s) ⟩,
        x_p(s) = p + sin(κs)/κ · e_p + (1 − cos κs)/κ · e_p⊥,  u_p(s) = u(p) turned by 2κs

    ``e_p`` is the edge's direction at ``p`` (perpendicular to its gradient), ``e_p⊥`` it
    turned by +90°, and ``κ`` the rate at which the orientation turns along it, read from
    ``u`` :data:`CURVE_PROBE_PX` px either side (``|κ| ≤`` :data:`MAX_CURVATURE`; ``κ = 0``
    is the straight line). A boundary that runs on as a smooth curve keeps its magnitude,
    a small round one (an eye) too; texture, whose edges turn every few px and not along
    one circle, averages towards 0 (doubled angles: an edge and its opposite contrast
    agree).
    """
    if len(points) == 0:
        return np.zeros(0, np.float32)

    # V is formed at the samples, not over the whole grid: the points are a few percent of
    # it.
    def doubled_at(at: np.ndarray) -> np.ndarray:
        return orientation_at(cos2, sin2, at)

    def field_at(at: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        doubled = doubled_at(at)
        c, s = doubled[:, 0], doubled[:, 1]
        scale = sample_bilinear(magnitude, at) / (np.hypot(c, s) + np.float32(1e-12))
        return c * scale, s * scale, doubled

    pts = np.asarray(points, np.float32).reshape(-1, 2)
    own_x, own_y, doubled = field_at(pts)  # V at p, whose direction is u(p)
    length = np.hypot(own_x, own_y) + np.float32(1e-12)
    u = np.stack([own_x / length, own_y / length], axis=1)
    normal = edge_normals(doubled)
    along = np.stack([-normal[:, 1], normal[:, 0]], axis=1)  # the edge's direction
    # Co-circularity: the boundary through p is followed as the circle its orientation
    # turns on, the rate read from the orientations CURVE_PROBE_PX either side.
    probe = np.float32(CURVE_PROBE_PX)
    ahead, behind = doubled_at(pts + probe * along), doubled_at(pts - probe * along)
    turn2 = np.arctan2(
        behind[:, 0] * ahead[:, 1] - behind[:, 1] * ahead[:, 0],
        (behind * ahead).sum(axis=1),
    )  # change of 2θ over 2·probe px
    kappa = np.clip(turn2 / (4 * probe), -MAX_CURVATURE, MAX_CURVATURE)  # dθ/ds, 1/px
    reach = step * np.floor(half_length / step)
    arc = np.arange(-reach, reach + step / 2, step, dtype=np.float32)[None, :]  # (1, S)
    k = kappa[:, None]
    small = np.abs(k) < 1e-6
    safe = np.where(small, np.float32(1.0), k)
    forward = np.where(small, arc, np.sin(k * arc) / safe)  # (K, S)
    sideways = np.where(small, 0.5 * k * arc**2, (1 - np.cos(k * arc)) / safe)
    # along turned +90° is −normal: the circle bends that way for κ > 0.
    samples = (
        pts[:, None, :]
        + forward[..., None] * along[:, None, :]
        - sideways[..., None] * normal[:, None, :]
    ).reshape(-1, 2)
    vx, vy, _ = field_at(samples)
    vx, vy = vx.reshape(len(pts), -1), vy.reshape(len(pts), -1)
    # Each sample against the orientation the circle has there: u(p) turned by 2κs.
    turn_cos, turn_sin = np.cos(2 * k * arc), np.sin(2 * k * arc)
    ex = turn_cos * u[:, :1] - turn_sin * u[:, 1:]
    ey = turn_sin * u[:, :1] + turn_cos * u[:, 1:]
    strength: np.ndarray = (vx * ex + vy * ey).mean(axis=1).astype(np.float32)
    return strength


def step_edges(
    image: np.ndarray, cos2: np.ndarray, sin2: np.ndarray, points: np.ndarray, chroma: float
) -> np.ndarray:
    """Whether each of ``points`` lies on a step between two regions rather than on one
    flank of a band: ``(K,)`` bool.

    ``image`` ``(H, W, 3)`` uint8 BGR, ``cos2``, ``sin2`` its gradient's doubled-angle
    orientation (:func:`colour_gradient`), ``points`` ``(K, 2)`` px. Across the edge (along
    its gradient ``n``), the Lab colour (a, b weighted by ``chroma``, blurred by
    ``CONTOUR_STEP_BLUR`` px) differs as much ``CONTOUR_FAR_PX`` px out on either side as it
    does ``CONTOUR_NEAR_PX`` px out: ``|c(p + D n) − c(p − D n)| ≥ |c(p + d n) − c(p − d n)|``.
    Past a band a few px wide (a light mortar joint, a stripe) the same colour comes back,
    and the far difference falls. A far sample outside the image fails.
    """
    if len(points) == 0:
        return np.zeros(0, bool)
    weights = np.array([1.0, chroma, chroma], np.float32)
    lab = cv2.GaussianBlur(cv2.cvtColor(image, cv2.COLOR_BGR2Lab), (0, 0), CONTOUR_STEP_BLUR)
    pts = np.asarray(points, np.float32).reshape(-1, 2)
    normal = edge_normals(orientation_at(cos2, sin2, pts))

    def across(distance: float) -> tuple[np.ndarray, np.ndarray]:
        ahead, behind = pts + distance * normal, pts - distance * normal
        difference = (
            sample_bilinear(lab, ahead).astype(np.float32)
            - sample_bilinear(lab, behind).astype(np.float32)
        ) * weights
        ends = np.concatenate([ahead, behind])
        height, width = image.shape[:2]
        inside = (ends >= 0).all(axis=1) & (ends[:, 0] <= width - 1) & (ends[:, 1] <= height - 1)
        return np.linalg.norm(difference, axis=1), inside.reshape(2, -1).all(axis=0)

    near, _ = across(CONTOUR_NEAR_PX)
    far, inside = across(CONTOUR_FAR_PX)
    result: np.ndarray = (far >= near) & inside
    return result


def edge_normals(doubled: np.ndarray) -> np.ndarray:
    """The unit gradient directions ``n = (cos θ, sin θ)`` of the doubled-angle orientations
    ``doubled`` ``(K, 2)`` (``cos 2θ``, ``sin 2θ`` times any length, as
    :func:`colour_gradient` gives them, read at K points): ``(K, 2)`` float32, ``cos θ ≥ 0``
    (:func:`half_angle`)."""
    dx, dy = half_angle(
        np.ascontiguousarray(doubled[:, 0], np.float32),
        np.ascontiguousarray(doubled[:, 1], np.float32),
    )
    norm = np.hypot(dx.ravel(), dy.ravel()) + np.float32(1e-12)
    normals: np.ndarray = np.stack([dx.ravel() / norm, dy.ravel() / norm], axis=1)
    return normals.astype(np.float32)


def half_angle(vx: np.ndarray, vy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The gradient ``(m cos θ, m sin θ)`` from its doubled-angle form ``V = m (cos 2θ,
    sin 2θ)``, each ``(H, W)`` float32, with ``cos θ ≥ 0``.

    ``m cos²θ = (|V| + Vx) / 2`` and ``m sin²θ = (|V| − Vx) / 2``, so ``m cos θ =
    √(|V| (|V| + Vx) / 2)`` and ``m sin θ = sign(Vy) √(|V| (|V| − Vx) / 2)``: square roots
    instead of the trigonometry of ``atan2`` and ``cos``/``sin``.
    """
    dx, dy = _half_angle_sizes(vx, vy)
    return dx, np.copysign(dy, vy)


def _half_angle_sizes(vx: np.ndarray, vy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`half_angle` without the sign of ``m sin θ``: ``(m cos θ, |m sin θ|)``."""
    norm = cv2.magnitude(vx, vy)
    cos_part, sin_part = 0.5 * norm * (norm + vx), 0.5 * norm * (norm - vx)
    # np.maximum, not cv2.max: OpenCV would take a one-element array (the orientation of
    # a single point) for a scalar and answer with four values.
    dx = cv2.sqrt(np.maximum(cos_part, 0.0, out=cos_part))
    dy = cv2.sqrt(np.maximum(sin_part, 0.0, out=sin_part))
    return dx, dy


# Crease contrast is in working px (a line's depth over the gray slope around it); this scale
# keeps 1/1024 px in Canny's int16 derivatives, up to the cap below.
_CREASE_SCALE = 1024.0
_CREASE_CAP = 30.0
_SHIFT = 4  # fractional bits of the points creases are drawn through
CREASE_SIDE_PX = 2  # working px: where a thin line's two sides are read, past its blurred flanks
CREASE_TEXTURE_FLOOR = 1.0  # gray levels per px: the least slope a line is measured against
CREASE_TEXTURE_KEEP = 0.7  # share of the texture that discounting drawn boundaries always keeps
CREASE_INHIBITION = 4.0  # contrast lost per unit of the mean contrast around (dark-line crowds)
CREASE_MIN_PX = 20.0  # working px: a shorter dark line is a speck (a gap between stones)
CREASE_MAX_FILL = 1.6  # pixels per px of extent: more is a network of cracks, not one line


def blur_reduced(image: np.ndarray, sigma: float, factor: int = 4) -> np.ndarray:
    """``G_σ * image`` for a wide ``σ`` (px), computed at 1/``factor`` of the size (area
    average, blur by ``σ/factor``, bilinear back): ``(H, W)`` float32, within a few percent
    of the full-size blur where ``σ/factor ≳ 1``, at a tenth of its cost."""
    height, width = image.shape[:2]
    small = (max(1, width // factor), max(1, height // factor))
    reduced = cv2.resize(image, small, interpolation=cv2.INTER_AREA)
    reduced = cv2.GaussianBlur(reduced, (0, 0), sigma / factor)
    return cv2.resize(reduced, (width, height), interpolation=cv2.INTER_LINEAR)


# Canny's non-maximum suppression tells four normals apart: 0°, 45°, 90° and 135°. A crease's
# normal is rounded to one of them (index k), and its two sides are read that way, at about
# d = CREASE_SIDE_PX: d pixels straight, the mean of d − 1 and d pixels diagonally (2.1 px).
_NORMAL_X = np.array([1.0, np.sqrt(0.5), 0.0, -np.sqrt(0.5)], np.float32)
_NORMAL_Y = np.array([0.0, np.sqrt(0.5), 1.0, np.sqrt(0.5)], np.float32)


def _lut(table: np.ndarray) -> np.ndarray:
    """A 256-entry lookup table for cv2.LUT from the first ``len(table)`` entries."""
    full = np.zeros(256, table.dtype)
    full[: len(table)] = table
    return full


# Bits: 4 = |S_xx − S_yy| > |2 S_xy| (θ nearer 0° or 90°), 2 = S_xx > S_yy, 1 = S_xy > 0.
_NORMAL_OF_BITS = _lut(np.array([3, 1, 3, 1, 2, 2, 0, 0], np.uint8))
_NORMAL_X_LUT, _NORMAL_Y_LUT = _lut(_NORMAL_X), _lut(_NORMAL_Y)


def _lighter_side(smooth: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """``min(S(p + d n), S(p − d n))`` for every pixel, ``n`` the rounded normal of index
    ``normal`` ``(H, W)`` uint8 (0–3, see :data:`_NORMAL_X`): shifted views of the padded
    map, no interpolation."""
    height, width = smooth.shape
    d = CREASE_SIDE_PX
    pad = cv2.copyMakeBorder(smooth, d, d, d, d, cv2.BORDER_REPLICATE)

    def at(dx: int, dy: int) -> np.ndarray:
        return pad[d + dy : d + dy + height, d + dx : d + dx + width]

    def diagonal(sx: int) -> np.ndarray:
        ahead = cv2.addWeighted(at(sx * (d - 1), d - 1), 0.5, at(sx * d, d), 0.5, 0.0)
        behind = cv2.addWeighted(at(-sx * (d - 1), 1 - d), 0.5, at(-sx * d, -d), 0.5, 0.0)
        return cv2.min(ahead, behind)

    lighter = cv2.min(at(d, 0), at(-d, 0))
    for index, side in ((1, diagonal(1)), (2, cv2.min(at(0, d), at(0, -d))), (3, diagonal(-1))):
        cv2.copyTo(side, (normal == index).view(np.uint8), lighter)
    return lighter


def crease_contrast(
    gray: np.ndarray, sigma: float, surround: float, drawn: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How far each pixel stands out as a thin dark line, and the line's normal.

    ``gray`` is ``(H, W)`` uint8, ``drawn`` ``(H, W)`` bool (the pixels near the boundaries
    already drawn, :func:`near_drawn`) or None; ``S = G_σ * gray``. The normal ``n`` is the
    Hessian's eigenvector of larger eigenvalue, the direction in which ``S`` curves upward
    most (across a dark line), at the angle ``θ = ½ atan2(2 S_xy, S_xx − S_yy)``, rounded to the
    nearest of 0°, 45°, 90° and 135° (the directions Canny's suppression uses). Then

    - the line's depth ``δ = max(0, min(S(p + d n), S(p − d n)) − S(p))``, ``d ≈``
      :data:`CREASE_SIDE_PX`: positive only where *both* sides are lighter, so a step edge
      (one side as dark as the edge) and a flat region give 0;
    - the texture ``T = G_surround * |∇S|``, the mean gray slope around (gray levels/px).
      Given the boundaries already drawn, the slope near them (``drawn``) is left out,
      down to :data:`CREASE_TEXTURE_KEEP` of ``T``: the silhouette of the body a fold lies
      on, or an eye beside it, is one strong step, not texture, and counted as texture it
      hid the folds near it. Texture is what the boundaries did not draw, so a gravel
      crack keeps most of its ``T``;
    - the contrast ``c₀ = δ / (T + f)``, ``f =`` :data:`CREASE_TEXTURE_FLOOR`, in px: a fold
      on a smooth body stands out several px, a dark gap between grass blades, among equal
      slopes, about one;
    - less the crowd around it, ``c = max(0, c₀ − k G_surround * c₀)``, ``k =``
      :data:`CREASE_INHIBITION`: a lone line loses a few tenths of itself (its own share of
      the mean), one of the many cracks of gravel most of itself.

    Returns ``(c, n_x, n_y)``, each ``(H, W)`` float32 (``n`` a unit vector, ``n_y ≥ 0``).
    """
    smooth = cv2.GaussianBlur(gray.astype(np.float32), (0, 0), sigma) if sigma > 0 else gray
    smooth = np.asarray(smooth, np.float32)
    diff = cv2.subtract(
        cv2.Sobel(smooth, cv2.CV_32F, 2, 0, ksize=3), cv2.Sobel(smooth, cv2.CV_32F, 0, 2, ksize=3)
    )
    cross = cv2.Sobel(smooth, cv2.CV_32F, 1, 1, ksize=3, scale=2.0)
    near_axis = cv2.compare(cv2.absdiff(diff, _ZERO), cv2.absdiff(cross, _ZERO), cv2.CMP_GT)
    bits = np.bitwise_or(
        np.bitwise_and(near_axis, 4),
        np.bitwise_or(
            np.bitwise_and(cv2.compare(diff, _ZERO, cv2.CMP_GT), 2),
            np.bitwise_and(cv2.compare(cross, _ZERO, cv2.CMP_GT), 1),
        ),
    )
    normal = cv2.LUT(bits, _NORMAL_OF_BITS)
    depth = cv2.max(cv2.subtract(_lighter_side(smooth, normal), smooth), 0.0)
    gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3, scale=0.125)
    gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3, scale=0.125)
    slope = cv2.magnitude(gx, gy)
    texture = blur_reduced(slope, surround)
    if drawn is not None:
        slope[drawn] = 0.0
        texture = cv2.max(blur_reduced(slope, surround), texture * np.float32(CREASE_TEXTURE_KEEP))
    contrast = cv2.divide(depth, cv2.add(texture, CREASE_TEXTURE_FLOOR))
    crowd = blur_reduced(contrast, surround)
    contrast = cv2.max(cv2.scaleAdd(crowd, -CREASE_INHIBITION, contrast), 0.0)
    return contrast, cv2.LUT(normal, _NORMAL_X_LUT), cv2.LUT(normal, _NORMAL_Y_LUT)


def lone_curves(lines: np.ndarray, min_px: float, max_fill: float) -> list[np.ndarray]:
    """The 8-connected pieces of a one-pixel line map ``(H, W)`` uint8 that are curves of
    their own: whose bounding box has a diagonal ``D ≥ min_px`` and that hold at most
    ``max_fill · D`` pixels. A single curve holds about its length (≤ ``1.6 D`` for any arc
    up to a half circle); the cracks of gravel or bark join into networks that hold many
    times their extent. Returns the kept pieces as their outer contours, ``(m, 1, 2)`` int32
    pixel coordinates ``(x, y)`` each.

    Each piece is found by its outer contour (a fraction of the cost of labelling every
    pixel of the frame): the contour of a one-pixel curve runs along it and back, so it has
    about twice the curve's pixels, and drawn one pixel wide it gives the curve back."""
    contours, _ = cv2.findContours(lines, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    kept = []
    for contour in contours:
        _, _, width, height = cv2.boundingRect(contour)
        diagonal = float(np.hypot(width, height))
        if diagonal >= min_px and len(contour) <= 2.0 * max_fill * diagonal:
            kept.append(contour)
    return kept


def canny_derivatives(
    vx: np.ndarray, vy: np.ndarray, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Canny's int16 ``(∂x, ∂y)`` at the frame's ``size`` ``(W, H)`` from a field in
    doubled-angle form ``V = m (cos 2θ, sin 2θ)`` (``(h, w)`` float32, scaled to Canny's
    integer units) at the working size.

    Canny needs ``|∂x|``, ``|∂y|`` and the sign of their product, ``sign(sin 2θ) =
    sign(V_y)``: all three interpolate without jumps (bilinear), where ``∂y`` itself flips
    sign at ``θ = ±90°``.
    """
    if (vx.shape[1], vx.shape[0]) == size:
        dx, dy = half_angle(vx, vy)
        return dx.astype(np.int16), dy.astype(np.int16)
    dx, dy = _half_angle_sizes(vx, vy)  # |∂y|: its sign comes from V_y at the frame's size
    dx = cv2.resize(dx, size, interpolation=cv2.INTER_LINEAR).astype(np.int16)
    dy = cv2.resize(dy, size, interpolation=cv2.INTER_LINEAR)
    dy = dy.astype(np.int16)  # truncation: |trunc(±y)| = trunc(|y|), so signing after is exact
    # The sign as an 8-bit mask and a masked 0 − dy: half the time of a bool array and
    # np.negative(where=...) on a full-size frame.
    resized = cv2.resize(vy, size, interpolation=cv2.INTER_LINEAR)
    negative = cv2.compare(resized, _ZERO, cv2.CMP_LT)
    cv2.subtract(_ZERO, dy, dst=dy, mask=negative)  # _ZERO: OpenCV reads it as the scalar 0
    return dx, dy


@EDGE_DETECTORS.register("boundaries")
class BoundaryEdgeDetector(EdgeDetector):
    """The lines an artist draws from footage: boundaries between colour regions, at the
    scale of objects rather than of texture, and thin dark lines inside regions (creases),
    1 px wide at the frame's resolution.

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
    4. The gradient vector is scaled back to the frame's size (:func:`canny_derivatives`)
       and handed to Canny's non-maximum suppression and hysteresis (``boundary_low``,
       ``boundary_high``): 1-px, connected lines at full resolution.
    4b. Inner lines: a pupil inside an eye, a patch on a body, lies a few px inside a
       strong outline, whose gradient the inhibition of step 3 counts as texture around
       it. Inside the closed lines drawn so far (:func:`enclosed`), the inhibition is taken
       again without the gradient near the drawn lines (:func:`near_drawn`), down to
       ``INNER_KEEP`` of it, and the new lines that Canny then draws are
       added (what is drawn stays). Texture, and a background's edges, lie outside closed
       lines or keep their inhibition: only a drawn line stops counting as texture.
    5. Contours (``boundary_contour`` > 0): a silhouette against texture on both sides
       (a grey body on gravel) keeps little of its gradient after step 3, and where no
       stretch of it reaches ``boundary_high`` hysteresis drops it all. What marks it is
       that it runs on: its :func:`contour_strength` (the inhibited gradient averaged
       along the line over ±``CONTOUR_HALF_PX`` working px, round the circle that
       continues it, so an eye's outline counts as well as a straight edge) stays, where
       texture's averages away. The ridge pixels above ``boundary_low`` that are not drawn are
       grouped (8-connected) down to ``CONTOUR_LOW_SHARE`` of ``boundary_contour``; a
       group is drawn when it is at least ``CONTOUR_MIN_PX`` working px long (a grass
       blade is shorter), lies mostly on :func:`step_edges` (not on one flank of a band:
       a paving's mortar joints run on too) and holds a seed: a pixel of strength
       ``boundary_contour`` that is in focus (its gradient at the working size is
       ``CONTOUR_SHARPNESS`` times that at half the size; a defocused background's edges
       run on as far).
    6. Creases (``boundary_creases``): a thin dark line has two steps close together, which
       the smoothing and the inhibition of step 3 (each flank is the other's texture)
       cancel. :func:`crease_contrast` at the working width finds them instead (the
       boundaries drawn so far, single strong steps, count little as texture beside them),
       and the same NMS and hysteresis (``boundary_crease_low``, ``boundary_crease_high``)
       draw their centrelines, added to the boundaries.
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
        self.creases = edges.boundary_creases
        self.crease_low = edges.boundary_crease_low * _CREASE_SCALE
        self.crease_high = edges.boundary_crease_high * _CREASE_SCALE
        self.contour = edges.boundary_contour

    def working_width(self, width: int) -> int:
        """The width in px a frame ``width`` px wide is reduced to: ``max(boundary_width,
        round(boundary_scale · width))``, or ``width`` itself where that is as wide or 0.

        Half the width at 1080p (960) closes the silhouettes that 640 px draws with gaps;
        720p footage stays at 640, where 960 traces more of the grass and flickers more
        (README, "Line extraction")."""
        target = max(self.least_width, round(self.scale * width))
        return width if target <= 0 or target >= width else target

    def detect(self, image: np.ndarray) -> np.ndarray:
        return self._detect(image, None)[0]

    def detect_with_weak(
        self, image: np.ndarray, ratio: float
    ) -> tuple[np.ndarray, np.ndarray | None]:
        return self._detect(image, ratio)

    def _detect(
        self, image: np.ndarray, ratio: float | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The line map, and the weak boundary candidates when ``ratio`` is given (creases
        have none: they are drawn whole or not at all)."""
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        height, width = image.shape[:2]
        if min(height, width) < 3:  # no pixel has neighbours on both sides
            return np.zeros((height, width), np.uint8), None
        small = image
        working = self.working_width(width)
        if working < width:
            reduced = (working, max(1, round(height * working / width)))
            small = cv2.resize(image, reduced, interpolation=cv2.INTER_AREA)
        dx, dy, gradient, inhibition = self._boundaries(small, (width, height))
        lines = cv2.Canny(dx, dy, self.low, self.high, L2gradient=True)
        inner = None if inhibition is None else self._inner_lines(lines, gradient, inhibition)
        # Every non-maximum-suppressed pixel above the weak threshold (or the low one).
        floor = self.low if ratio is None else min(ratio, 1.0) * self.low
        candidates = None
        if self.contour > 0 or ratio is not None:
            candidates = cv2.Canny(dx, dy, floor, floor, L2gradient=True)
            if self.contour > 0:
                self._draw_contours(lines, candidates, dx, dy, gradient, small)
        if inner is not None:
            cv2.max(lines, inner, dst=lines)
        cleared = self._draw_creases(small, lines) if self.creases else None
        if ratio is None or candidates is None:
            return lines, None
        # The weak candidates, kept or not, but a crease's flanks: temporal hysteresis would
        # bring them back beside it.
        if cleared is not None:
            cv2.subtract(candidates, cleared, dst=candidates)
        return lines, (candidates > 0) & (lines == 0)

    def _draw_contours(
        self,
        lines: np.ndarray,
        candidates: np.ndarray,
        dx: np.ndarray,
        dy: np.ndarray,
        gradient: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
        small: np.ndarray,
    ) -> None:
        """Draw into ``lines`` the weak boundaries that run on as one contour (step 5 of the
        class docstring). ``candidates``: Canny's ridge pixels at or below the low
        threshold, frame size; ``gradient``: the working-size raw and inhibited magnitudes
        and the doubled-angle orientation."""
        raw, inhibited, cos2, sin2 = gradient
        found = cv2.findNonZero(cv2.subtract(candidates, lines))  # sparse: faster than numpy
        if found is None:
            return
        xs, ys = found.reshape(-1, 2).T
        gx, gy = dx[ys, xs].astype(np.int64), dy[ys, xs].astype(np.int64)
        above = gx * gx + gy * gy >= self.low * self.low
        ys, xs = ys[above], xs[above]
        if len(ys) == 0:
            return
        scale = lines.shape[1] / small.shape[1]
        points = np.stack([(xs + 0.5) / scale - 0.5, (ys + 0.5) / scale - 0.5], axis=1)
        strength = contour_strength(inhibited, cos2, sin2, points)
        on = strength >= CONTOUR_LOW_SHARE * self.contour
        ys, xs, strength, points = ys[on], xs[on], strength[on], points[on]
        seeds = np.flatnonzero(strength >= self.contour)
        if len(seeds) == 0:
            return
        # In focus: a defocused background's edges are as long and straight, but their
        # gradient grows little from the coarse scale to the fine one.
        fine = sample_bilinear(cv2.GaussianBlur(raw, (0, 0), self.sigma), points[seeds])
        half = (max(1, small.shape[1] // 2), max(1, small.shape[0] // 2))
        coarse_map = colour_gradient(
            cv2.resize(small, half, interpolation=cv2.INTER_AREA), self.sigma, self.chroma
        )[0]
        ratio = np.array([half[0] / small.shape[1], half[1] / small.shape[0]], np.float32)
        coarse = 0.5 * sample_bilinear(coarse_map, (points[seeds] + 0.5) * ratio - 0.5)
        seeds = seeds[fine >= CONTOUR_SHARPNESS * coarse]
        if len(seeds) == 0:
            return
        mask = np.zeros(lines.shape, np.uint8)
        mask[ys, xs] = 1
        _, labels = cv2.connectedComponents(mask, connectivity=8)
        groups = labels[ys, xs]
        count = int(groups.max()) + 1
        seeded = np.zeros(count, bool)
        seeded[groups[seeds]] = True
        # A shorter run is a straight bit of texture (a grass blade), not a boundary; a run
        # mostly along one flank of a band (a mortar joint, a stripe) is the band's edge.
        size = np.bincount(groups, minlength=count)
        drawn = seeded & (size >= CONTOUR_MIN_PX * scale)
        keep = drawn[groups]
        if not keep.any():
            return
        steps = np.bincount(
            groups[keep],
            weights=step_edges(small, cos2, sin2, points[keep], self.chroma),
            minlength=count,
        )
        drawn &= steps > 0.5 * size
        keep = drawn[groups]
        lines[ys[keep], xs[keep]] = 255

    def _draw_creases(self, small: np.ndarray, lines: np.ndarray) -> np.ndarray | None:
        """Draw the creases of the working-size frame ``small`` into the frame-size line map
        ``lines`` (step 6 of the class docstring); returns the band cleared around them
        (``uint8``, 255 in it, the size of ``lines``), None where there is no crease."""
        contrast, nx, ny = crease_contrast(
            cv2.cvtColor(small, cv2.COLOR_BGR2GRAY),
            self.sigma,
            self.surround,
            near_drawn(lines, small.shape[:2]),
        )
        contrast = cv2.min(contrast, _CREASE_CAP) * np.float32(_CREASE_SCALE)
        cx = cv2.multiply(nx, contrast).astype(np.int16)
        cy = cv2.multiply(ny, contrast).astype(np.int16)
        creases = cv2.Canny(cx, cy, self.crease_low, self.crease_high, L2gradient=True)
        curves = lone_curves(creases, CREASE_MIN_PX, CREASE_MAX_FILL)
        if not curves:
            return None
        # Drawn at the frame's size through the working pixels' centres, 1 px wide, over a
        # cleared band: the boundaries may have traced a wide crease's two flanks, which
        # would stand beside its centreline as two more lines.
        scale = lines.shape[1] / small.shape[1]
        subpixel = 1 << _SHIFT
        points = [np.rint(((c + 0.5) * scale - 0.5) * subpixel).astype(np.int32) for c in curves]
        band = 2 * round(scale) + 1
        cleared = np.zeros_like(lines)
        cv2.polylines(cleared, points, False, 255, band, cv2.LINE_8, _SHIFT)
        cv2.subtract(lines, cleared, dst=lines)
        cv2.polylines(lines, points, False, 255, 1, cv2.LINE_8, _SHIFT)
        return cleared

    def _boundaries(
        self, small: np.ndarray, size: tuple[int, int]
    ) -> tuple[
        np.ndarray,
        np.ndarray,
        tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
        np.ndarray | None,
    ]:
        """The inhibited colour gradient of the working-size frame ``small`` as Canny's int16
        ``(dx, dy)`` at the frame's ``size`` (steps 2–4 of the class docstring); at the
        working size, the raw and the inhibited magnitude, ``cos 2θ`` and ``sin 2θ``; and the
        inhibition (:func:`side_surround`; None without inhibition)."""
        raw, cos2, sin2 = colour_gradient(small, self.sigma, self.chroma)
        magnitude, inhibition = raw, None
        if self.inhibition > 0:
            inhibition = side_surround(raw, cos2, sin2, self.surround)
            magnitude = cv2.max(cv2.scaleAdd(inhibition, -self.inhibition, raw), 0.0)
        dx, dy = _gradient_derivatives(magnitude, cos2, sin2, size)
        return dx, dy, (raw, magnitude, cos2, sin2), inhibition

    def _inner_lines(
        self,
        lines: np.ndarray,
        gradient: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
        inhibition: np.ndarray,
    ) -> np.ndarray | None:
        """The boundaries inside the closed lines of ``lines`` (frame size) that the lines
        around them inhibited, as a frame-size ``uint8`` mask (step 4b of the class
        docstring; None where no line is closed). ``gradient``: the working-size raw and
        inhibited magnitudes and the doubled-angle orientation; ``inhibition``: the
        working-size :func:`side_surround` of the raw magnitude.

        Only the boxes around the closed lines' insides are worked, each with a margin of
        :data:`INNER_MARGIN_SURROUNDS` surround σ (what the inhibition there reads), where
        the frame is a whole multiple of the working size; else the whole frame."""
        inside = enclosed(lines)
        if inside is None:
            return None
        raw = gradient[0]
        factor = lines.shape[1] // raw.shape[1]
        height, width = raw.shape
        whole = lines.shape != (height * factor, width * factor)
        margin = round(INNER_MARGIN_SURROUNDS * self.surround)
        boxes = [(0, 0, width, height)] if whole else _inside_boxes(inside, factor, margin)
        inner = np.zeros_like(lines)
        for x0, y0, x1, y1 in boxes:
            box = np.s_[y0:y1, x0:x1]
            frame_box = np.s_[y0 * factor : y1 * factor, x0 * factor : x1 * factor]
            if whole:
                frame_box = np.s_[:, :]
            found = self._inner_box(
                lines[frame_box], tuple(g[box] for g in gradient), inhibition[box]
            )
            # Only the inside this box was grown around: near its edges, the inside of
            # another box is read without its margin.
            core = np.s_[
                (y0 > 0) * margin * factor : found.shape[0] - (y1 < height) * margin * factor,
                (x0 > 0) * margin * factor : found.shape[1] - (x1 < width) * margin * factor,
            ]
            kept = inner[frame_box][core]
            np.maximum(kept, found[core], out=kept)
        cv2.bitwise_and(inner, inside, dst=inner)
        return inner

    def _inner_box(
        self,
        lines: np.ndarray,
        gradient: tuple[np.ndarray, ...],
        inhibition: np.ndarray,
    ) -> np.ndarray:
        """:meth:`_inner_lines` in one box: the lines Canny draws there once the drawn
        ``lines`` (frame size) no longer inhibit, less those within 2 px of ``lines``."""
        raw, _, cos2, sin2 = gradient
        quiet = raw.copy()
        quiet[near_drawn(lines, raw.shape)] = 0.0
        inhibition = cv2.max(
            side_surround(quiet, cos2, sin2, self.surround), inhibition * np.float32(INNER_KEEP)
        )
        magnitude = cv2.max(cv2.scaleAdd(inhibition, -self.inhibition, raw), 0.0)
        dx, dy = _gradient_derivatives(magnitude, cos2, sin2, lines.shape[::-1])
        found = cv2.Canny(dx, dy, self.low, self.high, L2gradient=True)
        # New lines only: what is drawn stays as it was.
        cv2.subtract(found, cv2.dilate(lines, np.ones((5, 5), np.uint8)), dst=found)
        return found


def _inside_boxes(inside: np.ndarray, factor: int, margin: int) -> list[tuple[int, int, int, int]]:
    """Working-size boxes ``(x0, y0, x1, y1)`` (end exclusive) around the pieces of the
    frame-size mask ``inside``, ``factor`` frame px to the working px, grown by ``margin``
    working px and clipped to the frame; a box within another is left out."""
    height, width = inside.shape[0] // factor, inside.shape[1] // factor
    contours, _ = cv2.findContours(inside, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        boxes.append(
            (
                max(0, x // factor - margin),
                max(0, y // factor - margin),
                min(width, -(-(x + w) // factor) + margin),
                min(height, -(-(y + h) // factor) + margin),
            )
        )
    boxes.sort(key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), reverse=True)
    kept: list[tuple[int, int, int, int]] = []
    for b in boxes:
        if not any(k[0] <= b[0] and k[1] <= b[1] and k[2] >= b[2] and k[3] >= b[3] for k in kept):
            kept.append(b)
    return kept


def near_drawn(lines: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The pixels of the working size ``shape`` ``(h, w)`` within :data:`DRAWN_LINE_PX` of
    a line of the frame-size line map ``lines`` (``uint8``, > 0 on a line; area-reduced,
    so a working pixel holding any line pixel is on the line): ``(h, w)`` bool."""
    drawn = cv2.resize(lines, shape[1::-1], interpolation=cv2.INTER_AREA)
    size = 2 * DRAWN_LINE_PX + 1
    near: np.ndarray = cv2.dilate(drawn, cv2.getStructuringElement(cv2.MORPH_RECT, (size, size)))
    return near > 0


def _gradient_derivatives(
    magnitude: np.ndarray, cos2: np.ndarray, sin2: np.ndarray, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Canny's int16 ``(dx, dy)`` at ``size`` ``(W, H)`` of the working-size gradient of
    ``magnitude`` along the doubled-angle orientation ``cos2``, ``sin2``
    (:func:`canny_derivatives` of ``V = m (cos 2θ, sin 2θ)``)."""
    length: np.ndarray = cv2.magnitude(cos2, sin2)
    length += np.float32(1e-12)
    scaled = cv2.multiply(np.divide(np.float32(_GRADIENT_SCALE), length, out=length), magnitude)
    return canny_derivatives(cv2.multiply(cos2, scaled), cv2.multiply(sin2, scaled), size)


def enclosed(lines: np.ndarray) -> np.ndarray | None:
    """The inside of the closed lines of a line map ``(H, W)`` uint8 (> 0 on a line): 255
    where a pixel is off the lines and cut off by them from the frame's border (the holes
    of the lines' 8-connected pieces), 0 elsewhere; None where no line is closed."""
    contours, hierarchy = cv2.findContours(lines, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return None
    holes = [c for c, (_, _, _, parent) in zip(contours, hierarchy[0], strict=True) if parent >= 0]
    if not holes:
        return None
    inside = np.zeros_like(lines)
    for hole in holes:  # one at a time: filled together, a hole within a hole stays empty
        cv2.drawContours(inside, [hole], 0, 255, cv2.FILLED)
    cv2.subtract(inside, lines, dst=inside)
    return inside
