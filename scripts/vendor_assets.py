"""Copy the built front-end files that EduCase ships from ``node_modules`` into ``webapp/static/vendor``.

The npm packages are pinned in ``package.json`` (exact versions, locked in ``package-lock.json``).
The copied files are checked in, so that ``pip install educase`` needs no Node. Run after changing a
pin::

    npm ci --ignore-scripts && python scripts/vendor_assets.py          # refresh the vendored files
    python scripts/vendor_assets.py --check                             # CI: are they up to date?

What is left out, on purpose: GOV.UK Frontend's GDS Transport font (licensed for gov.uk only) and
its images (the crown, the royal crest and GOV.UK icons), with the ``@font-face`` rules that point at
the font; source maps (the comments naming them are removed too).
"""

from __future__ import annotations

import argparse
import filecmp
import json
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "webapp" / "static" / "vendor"

# The npm package has no licence file; this is LICENSE.txt from github.com/alphagov/govuk-frontend.
GOVUK_FRONTEND_LICENCE = """The MIT License (MIT)

Copyright (C) 2017 Crown Copyright (Government Digital Service)

Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies
of the Software, and to permit persons to whom the Software is furnished to do
so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""

_SOURCE_MAP_COMMENT = re.compile(r"\s*(/\*# sourceMappingURL=[^*]*\*/|//# sourceMappingURL=\S*)\s*$")
# The font's own copyright comment followed by its @font-face rules (the font is for gov.uk only).
_GDS_TRANSPORT = re.compile(
    r"(/\*![^*]*?Margaret Calvert[\s\S]*?\*/)?(@font-face\{font-family:GDS Transport;[^}]*\})"
)


def drop_source_map(text: str) -> str:
    """The file without its trailing ``sourceMappingURL`` comment (maps are not shipped)."""
    return _SOURCE_MAP_COMMENT.sub("\n", text)


def drop_gds_transport(css: str) -> str:
    """GOV.UK Frontend's CSS without the GDS Transport ``@font-face`` rules and their licence comment.

    ``webapp/static/educase.css`` sets a system font stack instead. Fails loudly when a new release
    changes the CSS so that the rules are no longer found, rather than shipping the font reference.
    """
    stripped, count = _GDS_TRANSPORT.subn("", css)
    if count != 2 or "GDS Transport;" in stripped:
        raise SystemExit(
            f"expected 2 GDS Transport @font-face rules in govuk-frontend's CSS, found {count}: "
            "update drop_gds_transport() for this release"
        )
    return drop_source_map(stripped)


@dataclass(frozen=True)
class Asset:
    """One file to ship: where it is inside the npm package and where it goes under ``vendor/``."""

    package: str
    source: str
    target: str
    transform: Callable[[str], str] | None = drop_source_map


@dataclass(frozen=True)
class Package:
    """What NOTICE.md says about one npm package."""

    name: str
    licence: str
    licence_file: str | None  # inside the npm package; None: GOVUK_FRONTEND_LICENCE
    note: str


PACKAGES = (
    Package(
        "govuk-frontend",
        "MIT",
        None,
        "Precompiled CSS and JavaScript only, unmodified except that the CSS loses the GDS Transport "
        "`@font-face` rules. Left out: the GDS Transport font and every image (crown, royal crest, "
        "GOV.UK icons), which are for GOV.UK services only. `educase.css` sets a system font stack.",
    ),
    Package(
        "bpmn-js",
        "bpmn.io licence (MIT with a watermark condition)",
        "LICENSE",
        "The viewer bundle and its stylesheets. The licence requires the bpmn.io watermark that links "
        "to https://bpmn.io to stay fully visible and not be overlapped: never hide "
        "`.bjs-powered-by`.",
    ),
    Package("htmx.org", "0BSD (Zero-Clause BSD)", "LICENSE", "The minified build."),
    Package(
        "axe-core",
        "MPL-2.0",
        "LICENSE",
        "The minified build, used by accessibility tests. Unmodified; its source is at "
        "https://github.com/dequelabs/axe-core. Third-party notices: `licenses/axe-core-3rd-party.txt`.",
    ),
)

ASSETS = (
    Asset(
        "govuk-frontend",
        "dist/govuk/govuk-frontend.min.css",
        "govuk-frontend/govuk-frontend.min.css",
        drop_gds_transport,
    ),
    Asset("govuk-frontend", "dist/govuk/govuk-frontend.min.js", "govuk-frontend/govuk-frontend.min.js"),
    Asset("bpmn-js", "dist/bpmn-viewer.production.min.js", "bpmn-js/bpmn-viewer.production.min.js"),
    Asset("bpmn-js", "dist/assets/diagram-js.css", "bpmn-js/diagram-js.css"),
    Asset("bpmn-js", "dist/assets/bpmn-js.css", "bpmn-js/bpmn-js.css"),
    Asset("htmx.org", "dist/htmx.min.js", "htmx/htmx.min.js"),
    Asset("axe-core", "axe.min.js", "axe-core/axe.min.js", None),
    Asset("axe-core", "LICENSE-3RD-PARTY.txt", "licenses/axe-core-3rd-party.txt", None),
)


def pinned_versions(root: Path = ROOT) -> dict[str, str]:
    """The exact versions that ``package.json`` pins (a range there is an error: pins must be exact)."""
    dependencies: dict[str, str] = json.loads((root / "package.json").read_text())["dependencies"]
    loose = {name: spec for name, spec in dependencies.items() if not re.fullmatch(r"\d+\.\d+\.\d+", spec)}
    if loose:
        raise SystemExit(f"package.json must pin exact versions, not ranges: {loose}")
    return dependencies


def installed_package(name: str, pinned: str, node_modules: Path) -> dict[str, object]:
    """The installed package.json of ``name``, checked against its pin."""
    manifest = node_modules / name / "package.json"
    if not manifest.is_file():
        raise SystemExit(f"{name} is not in {node_modules}: run `npm ci --ignore-scripts` first")
    installed: dict[str, object] = json.loads(manifest.read_text())
    if installed.get("version") != pinned:
        raise SystemExit(
            f"{name} {installed.get('version')} is installed but package.json pins {pinned}: run `npm ci`"
        )
    return installed


def dependency_licences(name: str, node_modules: Path, seen: set[str] | None = None) -> dict[str, str]:
    """``name``'s runtime dependencies, transitively, as {"package@version": licence}."""
    seen = set() if seen is None else seen
    manifest = json.loads((node_modules / name / "package.json").read_text())
    found: dict[str, str] = {}
    for dependency in sorted(manifest.get("dependencies", {})):
        if dependency in seen or not (node_modules / dependency / "package.json").is_file():
            continue
        seen.add(dependency)
        meta = json.loads((node_modules / dependency / "package.json").read_text())
        found[f"{dependency}@{meta['version']}"] = str(meta.get("license", "see package"))
        found.update(dependency_licences(dependency, node_modules, seen))
    return found


def notice(versions: dict[str, str], node_modules: Path) -> str:
    """The text of ``vendor/NOTICE.md``."""
    lines = [
        "# Third-party front-end assets shipped with EduCase",
        "",
        "Generated by `scripts/vendor_assets.py` from the packages pinned in `package.json`; do not edit.",
        "Full licence texts are in `licenses/`.",
        "",
        "| Package | Version | Licence | Files |",
        "|---|---|---|---|",
    ]
    for package in PACKAGES:
        files = ", ".join(f"`{a.target}`" for a in ASSETS if a.package == package.name)
        lines.append(f"| {package.name} | {versions[package.name]} | {package.licence} | {files} |")
    lines.append("")
    for package in PACKAGES:
        lines += [f"## {package.name} {versions[package.name]}", "", package.note, ""]
        bundled = dependency_licences(package.name, node_modules) if package.name == "bpmn-js" else {}
        if bundled:
            lines.append("Its runtime dependencies, whose code its bundles include in part:")
            lines += [""] + [f"- {dep}: {licence}" for dep, licence in sorted(bundled.items())] + [""]
    return "\n".join(lines)


def vendor(target: Path, node_modules: Path = NODE_MODULES, root: Path = ROOT) -> list[Path]:
    """Write every shipped file, the licence texts and NOTICE.md into ``target`` (emptied first)."""
    versions = pinned_versions(root)
    for package in PACKAGES:
        installed_package(package.name, versions[package.name], node_modules)
    if target.exists():
        shutil.rmtree(target)
    written = []
    for asset in ASSETS:
        source, destination = node_modules / asset.package / asset.source, target / asset.target
        destination.parent.mkdir(parents=True, exist_ok=True)
        if asset.transform is None:
            shutil.copyfile(source, destination)
        else:
            destination.write_text(asset.transform(source.read_text(encoding="utf-8")), encoding="utf-8")
        written.append(destination)
    for package in PACKAGES:
        licence = target / "licenses" / f"{package.name}.txt"
        text = (
            (node_modules / package.name / package.licence_file).read_text(encoding="utf-8")
            if package.licence_file
            else GOVUK_FRONTEND_LICENCE
        )
        licence.write_text(text, encoding="utf-8")
        written.append(licence)
    (target / "NOTICE.md").write_text(notice(versions, node_modules), encoding="utf-8")
    return [*written, target / "NOTICE.md"]


def differences(expected: Path, actual: Path) -> list[str]:
    """Relative paths that differ between two directory trees (missing, extra or changed)."""
    names = {p.relative_to(expected) for p in expected.rglob("*") if p.is_file()}
    names |= {p.relative_to(actual) for p in actual.rglob("*") if p.is_file()} if actual.exists() else set()
    return sorted(
        str(name)
        for name in names
        if not (expected / name).is_file()
        or not (actual / name).is_file()
        or not filecmp.cmp(expected / name, actual / name, shallow=False)
    )


def main(argv: list[str] | None = None) -> int:
    """Vendor the assets, or with ``--check`` report whether the checked-in copy is out of date."""
    parser = argparse.ArgumentParser(description="Vendor the pinned front-end assets into webapp/static.")
    parser.add_argument(
        "--check", action="store_true", help="compare with webapp/static/vendor; change nothing"
    )
    args = parser.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory() as scratch:
            fresh = Path(scratch) / "vendor"
            vendor(fresh)
            stale = differences(fresh, VENDOR)
        if stale:
            print("webapp/static/vendor is out of date; run scripts/vendor_assets.py:", *stale, sep="\n  ")
            return 1
        print("webapp/static/vendor matches node_modules")
        return 0
    written = vendor(VENDOR)
    size = sum(path.stat().st_size for path in written)
    print(f"wrote {len(written)} files ({size / 1024:.0f} KiB) to {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
