"""Strategies are built from their own settings section, not from the whole Settings."""

from __future__ import annotations

import inspect
import typing

import numpy as np
import pytest

from talos.axis.strategies import DEPTH_ESTIMATORS, EDGE_DETECTORS, FLOW_ESTIMATORS, VECTORIZERS
from talos.axis.strategies.edges import XDoGEdgeDetector
from talos.config import EdgeSettings, Settings

REGISTRIES = (EDGE_DETECTORS, DEPTH_ESTIMATORS, FLOW_ESTIMATORS, VECTORIZERS)


@pytest.mark.parametrize("registry", REGISTRIES, ids=lambda r: r.kind)
def test_every_strategy_takes_its_section_then_its_extra_sections(registry) -> None:
    sections = Settings.model_fields
    for name in registry.names():
        factory = registry.get(name)
        hints = typing.get_type_hints(factory.__init__)
        params = [p for p in inspect.signature(factory.__init__).parameters if p != "self"]
        wanted = [registry.section, *getattr(factory, "extra_sections", ())]
        assert [hints[p] for p in params] == [sections[s].annotation for s in wanted], name


def test_a_strategy_is_made_without_the_rest_of_the_settings() -> None:
    image = np.full((40, 60, 3), 255, np.uint8)
    image[18:22, 5:55] = 0
    alone = XDoGEdgeDetector(EdgeSettings(xdog_sigma=1.5)).detect(image)
    via_registry = EDGE_DETECTORS.create("xdog", Settings(edges={"xdog_sigma": 1.5})).detect(image)
    assert alone.any() and np.array_equal(alone, via_registry)
