"""Generated clips that look like footage, with their true lines known: line extraction's yardstick.

:func:`generate_scene` writes ``OUT.mp4`` and ``OUT.gt.json`` (see
:func:`talos.axis.io.sample.ground_truth_path`). Four scenes:

``lines``
    :func:`talos.axis.io.sample.generate_sample` unchanged (drawn line shapes on paper), the
    same bytes as ``axis sample`` always wrote, GT included: that GT has no ``scene`` key
    (read a missing one as ``"lines"``).
``realistic``
    5–8 shaded objects (ellipses, blobs, rounded polygons, superellipses, often a body with a
    head) with no drawn outlines: soft directional light from the upper left, darker toward
    the rim, a weak surface texture (std 5.5 % of the brightness), and inner parts: eyes
    (sclera + pupil), colour patches, creases (thin darker fold lines). They move, turn,
    breathe and occlude each other over a defocused photograph (astronaut, coffee, chelsea,
    rocket) whose lower part fades into a sharp ground texture (grass, gravel or brick), all
    shipped with scikit-image. The camera pans and zooms over everything. Then a linear
    motion blur along the camera's motion (1.5–3 px at 720p), Gaussian sensor noise
    (σ = 2.6 levels) and x264 at crf 26.
``cel``
    The same objects and motion drawn as a cartoon: flat fills, dark ink outlines (3 px at
    720p, scaled with the frame height) around objects and inner parts, ink creases, and a
    flat shadow shape on each object's side away from the light (its boundary with the lit
    fill is a true line, without ink). Softly graded background with a strongly defocused
    photograph; noise σ = 1.2, crf 23.
``tangle``
    Drawn lines on paper that cross, leave the frame and pass under an opaque paper card
    (:mod:`talos.axis.io.tangle`): hard on identity; its truth has the format below.

Frame ``i`` shows time ``i / fps`` s, so a shorter clip is the start of a longer one with
the same arguments. Same arguments, same bytes: seeded generators everywhere, x264 on one
thread with fixed options (preset ultrafast with its deblocking filter back on: fast, and
its blocks are those of cheap real footage).

Ground truth
------------
The format of :mod:`talos.axis.io.sample` (``width, height, fps, frames, seed, lines,
frame_truth``) plus ``"scene"``. ``lines`` lists every true line once: ``id`` (stable over
the clip), ``kind`` (``silhouette``, ``eye``, ``pupil``, ``patch``, ``crease``,
``shadow``), ``width`` (drawn width in px: the ink or crease width, 0 for an edge between
two regions) and ``closed`` (of the whole line; a shadow boundary is an open arc).
``frame_truth[i]["lines"]`` gives the *visible* part of each line in frame ``i``, in px of
the output frame (pixel centres at integer coordinates), after the camera:

- a line hidden by an object in front of its own object, or leaving the frame, is cut
  there (exactly where its segment crosses the hiding outline); its visible pieces are
  separate entries **with the same id** (``closed`` false), a fully visible closed line is
  one entry with ``closed`` true, a line hidden entirely is absent that frame, and pieces
  shorter than 2 px are left out;
- the boundary between an object in front and one behind belongs to the front object's
  silhouette only;
- in ``cel``, what hides a line includes the ink around the object in front; a shadow
  boundary is only the part inside its object's ink and outside the inner parts' ink;
- all points lie in ``[0, W - 1] x [0, H - 1]``;
- texture, noise, the photograph and the ground are not true lines.

Each ``lines`` entry also has ``unit``: the line's points ``(n, 2)`` in its own unit
coordinates, the ones the scene builds it from (a body's outline for a silhouette and for a
shadow boundary, which is cut from that closed outline; a part's points for a part). Each
frame has the true motion:

- ``poses``: ``{"<id>": [a, b, tx, c, d, ty]}`` for every line of the scene, visible or not:
  the 2×3 affine map ``x_px = [[a, b], [c, d]] @ u + [tx, ty]`` from the line's unit
  coordinates to the frame's px at that frame (its body's matrix, camera included; a shadow
  boundary's is its body's, moved by its shift toward the light). The visible points of a
  line lie on ``poses`` applied to ``unit``, and ``P_j · P_i⁻¹`` moves a point of the line
  from frame ``i`` to frame ``j`` (:mod:`talos.axis.evaluation.motion`);
- ``camera``: ``[a, b, tx, c, d, ty]``, the map from world px to frame px (the background
  moves by ``C_j · C_i⁻¹``; the identity for drawn lines, which have no camera).

Floats in ``poses`` and ``unit`` keep 6 significant digits.

Every polygon drawn is the one the ground truth gives (anti-aliased fill, corrected for
OpenCV's 0.63 px growth; ink drawn centred on the line), so rendered edges lie within
~0.2 px of the truth before blur, noise and compression.

:func:`truth_map` rasterises one frame's true lines into an id map (any scene).

The package: this module writes the clip (:func:`generate_scene`, the ground truth with it)
and reads one frame's truth back (:func:`truth_map`); :mod:`.model` describes and builds a
scene, :mod:`.geometry` moves it and finds what of each line is visible, :mod:`.render`
draws its frames. :mod:`talos.axis.io.tangle` builds the ``tangle`` scene on their helpers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from talos.axis.io.sample import generate_sample, ground_truth_path, significant
from talos.axis.io.scenes.model import build_scene
from talos.axis.io.scenes.render import Renderer
from talos.media import bgr_video_frame

SCENES = ("lines", "realistic", "cel", "tangle")


def generate_scene(
    out_path: str | Path,
    scene: str = "realistic",
    width: int = 1280,
    height: int = 720,
    frames: int = 48,
    seed: int = 0,
    fps: int = 24,
) -> Path:
    """Write the clip of ``scene`` (one of :data:`SCENES`) to ``out_path``; return the GT path.

    Parameters
    ----------
    out_path : path of the MP4 to write; the ground truth goes beside it
        (``clip.mp4`` → ``clip.gt.json``).
    scene : ``"lines"``, ``"realistic"``, ``"cel"`` or ``"tangle"`` (see the module).
    width, height : frame size in px, even, at least 64 × 48 (``lines``: 16 × 16).
    frames : number of frames, at least 1. Frame ``i`` shows time ``i / fps`` s, so a
        shorter clip is the start of a longer one with the same arguments.
    seed : the scene (objects, motion, background, noise); same arguments, same bytes.
    fps : frame rate, at least 1.

    Returns
    -------
    Path of the ground truth JSON (format: see the module).

    Raises
    ------
    ValueError : an unknown scene, a bad size, frame count or rate.
    """
    if scene not in SCENES:
        raise ValueError(f"unknown scene {scene!r}; choose one of {', '.join(SCENES)}")
    if frames < 1:
        raise ValueError("frames must be at least 1")
    if fps < 1:
        raise ValueError("fps must be at least 1")
    if scene == "lines":
        return generate_sample(out_path, width, height, frames, seed, fps)
    if width < 64 or height < 48 or width % 2 or height % 2:
        raise ValueError("width and height must be even and at least 64 x 48")
    if scene == "tangle":
        from talos.axis.io.tangle import generate_tangle  # it builds on this module

        return generate_tangle(out_path, width, height, frames, seed, fps)
    spec = build_scene(scene, width, height, seed)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    lines_meta: list[dict[str, Any]] = []
    for body in spec.bodies:
        edge_width = spec.ink if scene == "cel" else 0.0
        outline = significant(body.outline)
        lines_meta.append(
            {"id": body.silhouette_id, "kind": "silhouette", "width": edge_width, "closed": True}
            | {"unit": outline}
        )
        for part in body.parts:
            width_px = (
                spec.ink if scene == "cel" else (spec.crease if part.kind == "crease" else 0.0)
            )
            lines_meta.append(
                {"id": part.line_id, "kind": part.kind, "width": width_px, "closed": part.closed}
                | {"unit": significant(part.unit)}
            )
        if body.shadow is not None:
            lines_meta.append(
                {"id": body.shadow.line_id, "kind": "shadow", "width": 0.0, "closed": False}
                | {"unit": outline}
            )
    lines_meta.sort(key=lambda e: e["id"])
    truth: dict[str, Any] = {
        "scene": scene,
        "width": width,
        "height": height,
        "fps": fps,
        "frames": frames,
        "seed": seed,
        "lines": lines_meta,
        "frame_truth": [],
    }
    crf = "26" if scene == "realistic" else "23"
    with av.open(str(out), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {
            "crf": crf,
            "preset": "ultrafast",
            "threads": "1",
            "bframes": "0",
            "x264-params": "deblock=0,0",  # ultrafast, but with the usual in-loop filter
        }
        render = Renderer(spec, fps)
        with ThreadPoolExecutor(max_workers=1) as pool:
            ahead = [pool.submit(render, i) for i in range(min(2, frames))]
            for i in range(frames):
                image, frame_truth = ahead.pop(0).result()
                if i + 2 < frames:
                    ahead.append(pool.submit(render, i + 2))
                for packet in stream.encode(bgr_video_frame(image)):
                    container.mux(packet)
                truth["frame_truth"].append({"index": i, **frame_truth})
        for packet in stream.encode():
            container.mux(packet)
    gt_path = ground_truth_path(out)
    gt_path.write_text(json.dumps(truth, separators=(",", ":")))
    return gt_path


def truth_map(
    gt: Mapping[str, Any], index: int, shape: tuple[int, int] | None = None
) -> np.ndarray:
    """The true lines of frame ``index`` rasterised 1 px wide: ``(H, W)`` uint16.

    Parameters
    ----------
    gt : a ground truth as loaded from ``.gt.json`` (any scene, ``lines`` included: there
        the drawn lines' centrelines).
    index : frame index, ``0 <= index < gt["frames"]``.
    shape : ``(H, W)`` of the map; default the clip's size. Another size scales the points.

    Returns
    -------
    ``(H, W)`` uint16: 0 off the lines, ``id + 1`` on the pixels of line ``id`` (8-connected
    ``cv2.polylines``, no anti-aliasing; where lines cross, the later one wins).
    """
    frames = gt["frame_truth"]
    if not 0 <= index < len(frames):
        raise ValueError(f"frame index {index} outside 0..{len(frames) - 1}")
    h, w = shape if shape is not None else (int(gt["height"]), int(gt["width"]))
    sx, sy = w / float(gt["width"]), h / float(gt["height"])
    out = np.zeros((h, w), np.uint16)
    for entry in frames[index]["lines"]:
        pts = np.asarray(entry["points"], np.float64).reshape(-1, 2)
        if len(pts) == 0:
            continue
        pts = pts * np.array([sx, sy])
        p = np.round(pts * 16).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(out, [p], bool(entry.get("closed")), int(entry["id"]) + 1, 1, cv2.LINE_8, 4)
    return out
