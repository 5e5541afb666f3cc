"""Name → factory registries, so steps and strategies are chosen in Settings, not in code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from talos.axis.errors import UnknownNameError
from talos.config import Settings

T = TypeVar("T")


class Registry(Generic[T]):
    """A named set of factories of one kind (``kind`` is used in error messages)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator: register a class or factory under ``name``."""

        def decorate(factory: Callable[..., T]) -> Callable[..., T]:
            if name in self._factories:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._factories[name] = factory
            return factory

        return decorate

    def get(self, name: str) -> Callable[..., T]:
        """The factory registered as ``name``; :class:`UnknownNameError` lists the known ones."""
        try:
            return self._factories[name]
        except KeyError:
            known = ", ".join(sorted(self._factories)) or "none"
            raise UnknownNameError(f"unknown {self.kind} {name!r} (known: {known})") from None

    def create(self, name: str, *args: object, **kwargs: object) -> T:
        """Call the factory registered as ``name`` with the arguments."""
        return self.get(name)(*args, **kwargs)

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._factories)

    def __contains__(self, name: object) -> bool:
        return name in self._factories


class StrategyRegistry(Registry[T]):
    """The strategies behind one step, each built from its own section of the settings.

    ``create(name, settings)`` calls the strategy with ``settings.<section>`` (``edges`` for
    the edge strategies), then with the sections its class names in ``extra_sections``, in
    that order (``hed`` also reads ``models``): a strategy never sees the rest of the settings,
    and can be built without them (``XDoGEdgeDetector(EdgeSettings(xdog_sigma=2.0))``).
    """

    def __init__(self, kind: str, section: str) -> None:
        super().__init__(kind)
        if section not in Settings.model_fields:
            raise ValueError(f"{kind}: Settings has no section {section!r}")
        self.section = section

    def sections(self, name: str, settings: Settings) -> list[Any]:
        """The settings sections strategy ``name`` is built from, in the order it takes them."""
        extra: tuple[str, ...] = getattr(self.get(name), "extra_sections", ())
        return [getattr(settings, section) for section in (self.section, *extra)]

    # Narrower than Registry.create on purpose: a strategy is built from the settings alone.
    def create(self, name: str, settings: Settings) -> T:  # type: ignore[override]
        """Strategy ``name`` built from its sections of ``settings`` (see the class)."""
        return self.get(name)(*self.sections(name, settings))
