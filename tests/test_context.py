from __future__ import annotations

import pickle

import numpy as np
import pytest

from talos.axis.context import FrameContextBuilder
from talos.axis.strokes import Stroke


def _ctx():
    return FrameContextBuilder(index=3, time=0.125, image=np.zeros((4, 5, 3), np.uint8)).build()


def test_builder_returns_new_context_and_leaves_old_untouched():
    ctx = _ctx()
    line_map = np.ones((4, 5), np.uint8)
    new = ctx.builder().set(line_map=line_map).add_counts(strokes=2).add_metrics(ssim=0.9).build()
    assert ctx.line_map is None and dict(ctx.counts) == {}
    assert new.line_map is not None and new.counts["strokes"] == 2 and new.metrics["ssim"] == 0.9
    assert (new.width, new.height) == (5, 4)


def test_context_is_immutable():
    ctx = _ctx().builder().set(line_map=np.ones((4, 5), np.uint8)).add_counts(a=1).build()
    with pytest.raises(AttributeError):
        ctx.index = 4  # type: ignore[misc]
    with pytest.raises(ValueError):
        ctx.line_map[0, 0] = 7  # type: ignore[index]
    with pytest.raises(TypeError):
        ctx.counts["a"] = 2  # type: ignore[index]
    with pytest.raises(TypeError):
        ctx.builder().set(no_such_field=1)


def test_context_pickles_for_worker_processes():
    ctx = _ctx().builder().add_counts(strokes=1).add_extras(note="x").build()
    back = pickle.loads(pickle.dumps(ctx))
    assert back.counts["strokes"] == 1 and back.extras["note"] == "x"
    assert back.image.shape == (4, 5, 3)


def test_stroke_from_polyline_is_a_straight_bezier_chain():
    stroke = Stroke.from_polyline(np.array([[0, 0], [3, 0], [3, 6]]), stroke_id=1)
    assert stroke.segment_count == 2
    np.testing.assert_allclose(stroke.control_points[1], [1, 0])
    np.testing.assert_allclose(stroke.knots, [[0, 0], [3, 0], [3, 6]])
    assert stroke.pressure.shape == (3,)
    with pytest.raises(ValueError):
        Stroke(stroke_id=1, control_points=np.zeros((5, 2)), pressure=np.ones(2))
