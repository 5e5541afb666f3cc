from __future__ import annotations

import tracemalloc
from pathlib import Path

import cv2
import numpy as np
import pytest

from talos.axis.errors import InputError
from talos.axis.io.sample import generate_sample
from talos.axis.io.video import FrameSource
from talos.config import ProcessingSettings


def _decode(path: Path, **kwargs) -> list:
    return list(FrameSource(path, ProcessingSettings(**kwargs)))


def test_decodes_every_frame_with_times(sample_clip: Path):
    source = FrameSource(sample_clip, ProcessingSettings())
    assert (source.info.width, source.info.height, source.info.fps) == (320, 240, 24.0)
    assert source.info.frame_count == 16
    frames = list(source)
    assert [f.index for f in frames] == list(range(16))
    assert frames[5].time == pytest.approx(5 / 24)
    assert frames[0].image.shape == (240, 320, 3) and frames[0].image.dtype == np.uint8


def test_sampling_every_fps_start_end_max(sample_clip: Path):
    assert [f.source_index for f in _decode(sample_clip, every=3)] == [0, 3, 6, 9, 12, 15]
    assert [f.source_index for f in _decode(sample_clip, fps=8)] == [0, 3, 6, 9, 12, 15]
    frames = _decode(sample_clip, start=0.25, end=0.5)
    assert [f.source_index for f in frames] == [6, 7, 8, 9, 10, 11]
    assert [f.index for f in frames] == list(range(6))
    assert len(_decode(sample_clip, max_frames=4)) == 4


def test_resize_to_processing_resolution(sample_clip: Path):
    frame = _decode(sample_clip, width=160, max_frames=1)[0]
    assert frame.image.shape == (120, 160, 3)
    frame = _decode(sample_clip, width=200, height=100, max_frames=1)[0]
    assert frame.image.shape == (100, 200, 3)


def test_image_sequence_folder(tmp_path: Path, sample_clip: Path):
    for frame in _decode(sample_clip, max_frames=5):
        cv2.imwrite(str(tmp_path / f"img_{frame.index:03d}.png"), frame.image)
    (tmp_path / "notes.txt").write_text("ignored")
    source = FrameSource(tmp_path, ProcessingSettings(every=2))
    assert source.info.kind == "images" and source.info.frame_count == 5
    assert [f.source_index for f in source] == [0, 2, 4]


def test_decode_memory_is_flat_in_clip_length(clips: Path):
    short, long = clips / "mem_short.mp4", clips / "mem_long.mp4"
    generate_sample(short, 320, 240, frames=20, seed=1)
    generate_sample(long, 320, 240, frames=160, seed=1)

    def peak(path: Path) -> int:
        tracemalloc.start()
        count = sum(1 for _ in FrameSource(path, ProcessingSettings()))
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert count > 0
        return top

    frame_bytes = 320 * 240 * 3
    p_short, p_long = peak(short), peak(long)
    assert p_long < 8 * frame_bytes, "decoding holds many frames at once"
    assert p_long < p_short + 2 * frame_bytes


def test_missing_input():
    with pytest.raises(InputError, match="input not found"):
        FrameSource("/nonexistent/clip.mp4", ProcessingSettings())


def test_not_a_video(tmp_path: Path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"this is not a video at all" * 100)
    with pytest.raises(InputError, match="cannot open video"):
        FrameSource(path, ProcessingSettings())


def test_empty_file(tmp_path: Path):
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    with pytest.raises(InputError, match="cannot open video"):
        FrameSource(path, ProcessingSettings())


def test_truncated_video(tmp_path: Path, sample_clip: Path):
    data = sample_clip.read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated|corrupt|cannot open"):
        list(FrameSource(path, ProcessingSettings()))


def test_zero_frames_in_range(sample_clip: Path):
    with pytest.raises(InputError, match="no frames"):
        _decode(sample_clip, start=30.0)


def test_empty_and_bad_image_folders(tmp_path: Path):
    with pytest.raises(InputError, match="no images"):
        FrameSource(tmp_path, ProcessingSettings())
    (tmp_path / "a.png").write_bytes(b"not a png")
    with pytest.raises(InputError, match="cannot read image"):
        FrameSource(tmp_path, ProcessingSettings())
