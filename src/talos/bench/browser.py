"""The exports rendered in a real browser: Lottie with lottie-web and the animated SVG with
Chromium's own SMIL, both in headless Chromium driven by Playwright, as ink coverage images
comparable with :func:`talos.axis.render.raster.render_frame`.

lottie-web (``vendor/lottie_light.min.js``, 5.12.2, MIT, its SVG renderer only) ships in the
repository: nothing is downloaded when this runs. Chromium is the system's (Debian's
``chromium``; ``chromium-browser`` or ``google-chrome`` elsewhere).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

LOTTIE_WEB = Path(__file__).parent / "vendor" / "lottie_light.min.js"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
INK = 0x14  # the exports' default ink, #141414


def find_chromium() -> str:
    """Path of the system's Chromium (the first of :data:`BROWSERS` on PATH), else Debian's."""
    return next((path for name in BROWSERS if (path := shutil.which(name))), "/usr/bin/chromium")


def coverage(png: bytes) -> np.ndarray:
    """A screenshot of dark ink on white as ``(H, W)`` uint8 coverage, 255 = full ink."""
    gray = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    if gray is None:
        raise ValueError("the screenshot is not a readable PNG")
    out: np.ndarray = np.clip((255.0 - gray) * 255.0 / (255 - INK), 0, 255).astype(np.uint8)
    return out


def render_exports(
    lottie_json: str,
    svg: str,
    width: int,
    height: int,
    frames: Sequence[int],
    fps: float,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Coverage images of ``frames`` (frame numbers) of a Lottie document (lottie-web's SVG
    renderer, ``goToAndStop(frame, true)``) and of an animated SVG (animations paused at
    ``frame / fps`` s): ``(lottie, svg)`` lists, each image ``(height, width)``."""
    from playwright.sync_api import sync_playwright

    lottie_images, svg_images = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_content(
                f'<body style="margin:0;background:#fff"><div id="c" style="width:{width}px;'
                f'height:{height}px"></div></body>'
            )
            page.add_script_tag(path=str(LOTTIE_WEB))
            page.evaluate(
                "d => { window.anim = lottie.loadAnimation({container: "
                "document.getElementById('c'), renderer: 'svg', loop: false, autoplay: false, "
                "animationData: JSON.parse(d)}); }",
                lottie_json,
            )
            for frame in frames:
                page.evaluate(f"anim.goToAndStop({int(frame)}, true)")
                lottie_images.append(coverage(page.locator("#c").screenshot()))
            page.set_content(f'<body style="margin:0;background:#fff">{svg}</body>')
            for frame in frames:
                page.evaluate(
                    "() => { const e = document.querySelector('svg'); e.pauseAnimations();"
                    f" e.setCurrentTime({int(frame)} / {float(fps)}); }}"
                )
                svg_images.append(coverage(page.locator("svg").screenshot()))
        finally:
            browser.close()
    return lottie_images, svg_images
