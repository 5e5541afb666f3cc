"""Style profiles: how CHROMA colors line art.

A profile is a JSON object::

    {"name": "ink", "background": "#f7f1e3", "line_color": "#1b1b1b",
     "line_width_scale": 1.0, "min_line_width": 1.0, "fill_closed": true,
     "fill_opacity": 0.85, "layer_fills": {"foreground": "#f2c6a0"},
     "layer_line_colors": {"foreground": "#ff4fd8"}}

Colors are ``#rrggbb`` strings. The drawn width of a stroke at a knot is
``max(min_line_width, stroke.width * pressure * line_width_scale)`` px. Closed strokes (and
circles, triangles) of a layer are filled with ``layer_fills[layer]`` at ``fill_opacity``;
layers without a fill color stay unfilled.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from talos.axis.errors import InputError

HexColor = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]


class StyleProfile(BaseModel):
    """One validated style profile (see the module docstring for the fields)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    description: str = ""
    background: HexColor = "#ffffff"
    line_color: HexColor = "#000000"
    line_width_scale: float = Field(1.0, gt=0)
    min_line_width: float = Field(1.0, gt=0)
    fill_closed: bool = True
    fill_opacity: float = Field(1.0, ge=0, le=1)
    layer_fills: dict[str, HexColor] = Field(default_factory=dict)
    layer_line_colors: dict[str, HexColor] = Field(default_factory=dict)

    @field_validator("layer_fills", "layer_line_colors")
    @classmethod
    def _layer_names(cls, value: dict[str, str]) -> dict[str, str]:
        if any(not name for name in value):
            raise ValueError("layer names must not be empty")
        return value

    def line_bgr(self, layer: str) -> tuple[int, int, int]:
        return hex_to_bgr(self.layer_line_colors.get(layer, self.line_color))

    def fill_bgr(self, layer: str) -> tuple[int, int, int] | None:
        color = self.layer_fills.get(layer)
        return None if color is None or not self.fill_closed else hex_to_bgr(color)


def hex_to_bgr(color: str) -> tuple[int, int, int]:
    """``"#rrggbb"`` → OpenCV's ``(b, g, r)`` tuple of ints in [0, 255]."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return b, g, r


def parse_profile(document: Any, source: str = "style profile") -> StyleProfile:
    """A :class:`StyleProfile` from a decoded JSON document, or :class:`InputError`."""
    try:
        return StyleProfile.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(root)"
        raise InputError(f"{source}: {where}: {first['msg']}") from None


def shipped_profile_names() -> list[str]:
    """Names of the profiles that ship with TALOS."""
    folder = resources.files("talos.chroma.profiles")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))


def load_profile(name: str, extra_dir: Path | None = None) -> StyleProfile:
    """The profile called ``name``: ``extra_dir/name.json`` first, then the shipped ones."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise InputError(f"invalid style profile name {name!r}")
    if extra_dir is not None and (Path(extra_dir) / f"{name}.json").is_file():
        path = Path(extra_dir) / f"{name}.json"
        return parse_profile(_read_json(path.read_bytes(), str(path)), str(path))
    resource = resources.files("talos.chroma.profiles").joinpath(f"{name}.json")
    if not resource.is_file():
        known = ", ".join(shipped_profile_names())
        raise InputError(f"unknown style profile {name!r}; known: {known}")
    return parse_profile(_read_json(resource.read_bytes(), name), name)


def _read_json(data: bytes, source: str) -> Any:
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{source}: not valid JSON: {exc}") from None
