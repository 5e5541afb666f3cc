"""What the AXIS component diagram shows, found by importing TALOS and introspecting the real
classes (:func:`discover`), so a new step or strategy appears by itself:

- the framework: ``Pipeline``, ``ProcessingStep``, ``PipelineObserver``, ``FrameContext`` (its
  fields listed) and ``FrameContextBuilder``;
- every step registered in :data:`talos.axis.steps.STEPS`, in the default ``pipeline.steps``
  order and then by name, each with an inheritance arrow to ``ProcessingStep``;
- every strategy interface (an abstract class in :mod:`talos.axis.strategies`, paired with its
  registry ``EDGE_DETECTORS``…) with the implementations registered under it, and any other
  registry found in ``talos.axis``;
- every ``PipelineObserver`` subclass in ``talos`` (``MetricsLogger``…);
- the tracker classes (name contains ``Tracker``) and stores (``Store``) found in ``talos.axis``,
  ``talos.axis.tracking`` and ``talos.store``, when those modules exist;
- a dashed "uses" arrow from a step to an interface, tracker or store when the step's source
  names the registry or class.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

# Packages imported (every submodule) so that everything that registers itself is registered.
SCANNED_PACKAGES = ("talos.axis", "talos.cli")
# Classes shown as their own blocks, found by name in the scanned packages plus the optional
# packages (imported when they exist: other parts of TALOS may not be there yet).
KEYWORD_BLOCKS = (("Tracker", ("talos.axis.tracking",)), ("Store", ("talos.store",)))


@dataclass
class Block:
    """A head box (interface, base class or registry) with its implementations indented below."""

    key: str
    title: str
    stereotype: str
    subtitle: str
    children: list[tuple[str, str]] = field(default_factory=list)  # (bold name, class name)
    mentions: tuple[str, ...] = ()  # names whose presence in a step's source means "uses"


@dataclass
class StepInfo:
    name: str
    class_name: str
    stateful: bool
    source: str


@dataclass
class Components:
    """What the diagram shows, independent of layout."""

    steps: list[StepInfo]
    blocks: list[Block]
    observers: list[str]
    frame_fields: list[str]


def _import_tree(package: str) -> list[ModuleType]:
    """Import ``package`` and all its submodules (never ``__main__``, nor Alembic migration
    scripts, which run against a database when imported)."""
    root = importlib.import_module(package)
    modules = [root]
    if hasattr(root, "__path__"):
        for info in sorted(
            pkgutil.walk_packages(root.__path__, prefix=package + "."), key=lambda i: i.name
        ):
            parts = info.name.split(".")
            if parts[-1] == "__main__" or "migrations" in parts:
                continue
            modules.append(importlib.import_module(info.name))
    return modules


def _optional_tree(package: str) -> list[ModuleType]:
    try:
        return _import_tree(package)
    except ModuleNotFoundError as exc:
        if exc.name and package.startswith(exc.name):
            return []
        raise


def _ours(cls: type) -> bool:
    return cls.__module__.startswith("talos.")


def _all_subclasses(cls: type) -> list[type]:
    found: dict[str, type] = {}
    stack: list[type] = list(cls.__subclasses__())
    while stack:
        sub = stack.pop()
        if _ours(sub):
            found[f"{sub.__module__}.{sub.__qualname__}"] = sub
        stack.extend(sub.__subclasses__())
    return [found[key] for key in sorted(found)]


def _name(factory: Callable[..., Any]) -> str:
    return getattr(factory, "__name__", type(factory).__name__)


def _constant_name(class_name: str) -> str:
    """``EdgeDetector`` → ``EDGE_DETECTORS`` (how registries are named after interfaces)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).upper() + "S"


def _source(cls: type) -> str:
    try:
        return inspect.getsource(cls)
    except (OSError, TypeError):
        return ""


def discover(steps_registry: Any = None, default_order: Sequence[str] | None = None) -> Components:
    """Import TALOS and collect what the component diagram shows.

    ``steps_registry``/``default_order`` default to :data:`talos.axis.steps.STEPS` and the code
    default of ``pipeline.steps``; tests pass their own."""
    from talos.axis.context import FrameContext
    from talos.axis.steps import STEPS
    from talos.axis.types import PipelineObserver
    from talos.config import PipelineSettings

    modules = [m for package in SCANNED_PACKAGES for m in _import_tree(package)]
    registry = STEPS if steps_registry is None else steps_registry
    order = list(PipelineSettings().steps if default_order is None else default_order)
    registries = _registries(modules, registry)
    blocks, used = _interface_blocks(registries)
    blocks += _other_registry_blocks(registries, used)
    blocks += _keyword_blocks(modules)
    observers = [cls.__name__ for cls in _all_subclasses(PipelineObserver)]
    frame_fields = [f.name for f in dataclasses.fields(FrameContext)]
    return Components(_steps(registry, order), blocks, sorted(observers), frame_fields)


def _steps(registry: Any, order: Sequence[str]) -> list[StepInfo]:
    """The registered steps, in ``order`` and then by name, then any step class that is not
    registered (marked so)."""
    from talos.axis.types import ProcessingStep

    names = [n for n in order if n in registry] + sorted(set(registry.names()) - set(order))
    steps = []
    for step_name in names:
        factory = registry.get(step_name)
        steps.append(
            StepInfo(
                step_name,
                _name(factory),
                bool(getattr(factory, "stateful", False)),
                _source(factory),
            )
        )
    registered = {registry.get(n) for n in names}
    for cls in _all_subclasses(ProcessingStep):
        if cls not in registered and not inspect.isabstract(cls):
            steps.append(
                StepInfo(
                    f"{cls.__name__} (not registered)",
                    cls.__name__,
                    bool(getattr(cls, "stateful", False)),
                    _source(cls),
                )
            )
    return steps


def _registries(modules: Iterable[ModuleType], steps_registry: Any) -> dict[str, Any]:
    """Every registry but the steps' found in ``modules``, by its module-level name (the first
    module that has a name wins)."""
    from talos.axis.registry import Registry
    from talos.axis.steps import STEPS

    registries: dict[str, Registry[Any]] = {}
    for module in modules:
        for attr, value in vars(module).items():
            if isinstance(value, Registry) and value is not STEPS and value is not steps_registry:
                registries.setdefault(attr, value)
    return registries


def _interface_blocks(registries: dict[str, Any]) -> tuple[list[Block], set[str]]:
    """The strategy interfaces, in the order they are defined, each with the implementations
    in its registry; returns them and the names of the registries they took."""
    from talos.axis import strategies

    interfaces = [
        obj
        for obj in vars(strategies).values()
        if inspect.isclass(obj)
        and inspect.isabstract(obj)
        and obj.__module__ == strategies.__name__
    ]
    blocks: list[Block] = []
    used: set[str] = set()
    for interface in interfaces:
        reg_name = _constant_name(interface.__name__)
        reg = registries.get(reg_name)
        children = []
        if reg is not None:
            used.add(reg_name)
            children = [(n, _name(reg.get(n))) for n in reg.names()]
        subtitle = f"registry {reg_name}" if reg is not None else "no registry"
        blocks.append(
            Block(
                interface.__name__,
                interface.__name__,
                "«interface»",
                subtitle,
                children,
                (interface.__name__, reg_name),
            )
        )
    return blocks, used


def _other_registry_blocks(registries: dict[str, Any], used: set[str]) -> list[Block]:
    """Registries that belong to no strategy interface, by name."""
    blocks = []
    for reg_name in sorted(set(registries) - used):
        reg = registries[reg_name]
        children = [(n, _name(reg.get(n))) for n in reg.names()]
        blocks.append(Block(reg_name, reg_name, "«registry»", reg.kind, children, (reg_name,)))
    return blocks


def _keyword_blocks(modules: list[ModuleType]) -> list[Block]:
    """For each of :data:`KEYWORD_BLOCKS`, the classes whose name holds the keyword: each base
    class a block, its subclasses under it."""
    from talos.axis.types import PipelineObserver, ProcessingStep

    blocks = []
    for keyword, optional in KEYWORD_BLOCKS:
        classes: dict[str, type] = {}
        for module in modules + [m for package in optional for m in _optional_tree(package)]:
            for obj in vars(module).values():
                if (
                    inspect.isclass(obj)
                    and _ours(obj)
                    and keyword in obj.__name__
                    and not obj.__name__.startswith("_")
                    and not obj.__name__.endswith(("Error", "Settings"))
                    and not issubclass(obj, (ProcessingStep, PipelineObserver))
                ):
                    classes[obj.__name__] = obj
        heads = [
            c
            for n, c in sorted(classes.items())
            if not any(issubclass(c, o) and c is not o for o in classes.values())
        ]
        for head in heads:
            kids = [n for n, c in sorted(classes.items()) if c is not head and issubclass(c, head)]
            stereotype = "«interface»" if inspect.isabstract(head) else "«class»"
            blocks.append(
                Block(
                    head.__name__,
                    head.__name__,
                    stereotype,
                    head.__module__,
                    [(k, "") for k in kids],
                    (head.__name__, *kids),
                )
            )
    return blocks
