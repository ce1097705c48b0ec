"""caniemail's client-support data (the npm package ``caniemail``, pinned in ``tests/support/caniemail/``)
and a reader of what an email's HTML uses, in caniemail's terms (its feature slugs).

``install(folder)`` runs ``npm ci`` on a copy of the pinned package.json and package-lock.json and
returns the data file. ``features(html)`` lists each caniemail feature the HTML uses, with where:
elements and attributes (``html-*``), each inline style declaration (``css-*``: properties, units,
functions, ``display:none``, ``!important``), ``<style>`` blocks and their selectors, comments,
the doctype, and the images (PNG by cid). ``verdicts(data, slug)`` gives, for each platform of the
clients checked, caniemail's latest test result there and its notes.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from tests.support.services import require

PINNED = Path(__file__).with_name("caniemail")
#: The clients the board and localities read mail in (issue 18), as caniemail names their families.
FAMILIES = ("gmail", "outlook", "apple-mail", "yahoo", "samsung-email")


def install(folder: Path) -> dict[str, Any]:
    """``npm ci`` of the pinned package into ``folder``; caniemail's data as a mapping."""
    npm = shutil.which("npm")
    require(npm is not None, "npm (to install caniemail's data with npm ci)")
    assert npm is not None
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(PINNED / name, folder / name)
    run = subprocess.run(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    require(run.returncode == 0, f"the npm registry (npm ci of caniemail failed: {run.stderr[-500:]})")
    package = json.loads((folder / "node_modules" / "caniemail" / "package.json").read_text())
    pinned = json.loads((PINNED / "package.json").read_text())["dependencies"]["caniemail"]
    assert package["version"] == pinned, "npm ci installed another version than the one pinned"
    return json.loads((folder / "node_modules" / "caniemail" / "data" / "caniemail.json").read_text())


@dataclass(frozen=True)
class Verdict:
    family: str
    platform: str
    version: str
    support: str  # y, a, n, u
    notes: tuple[str, ...]

    def __str__(self) -> str:
        notes = "; ".join(self.notes)
        return f"{self.family}/{self.platform} {self.version}: {self.support}" + (
            f" ({notes})" if notes else ""
        )


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", version)) or (0,)


def verdicts(data: dict[str, Any], slug: str, families: tuple[str, ...] = FAMILIES) -> list[Verdict]:
    """caniemail's latest result for ``slug`` on every platform of ``families`` (older tests superseded)."""
    feature = next(f for f in data["data"] if f["slug"] == slug)
    notes_by_num = feature.get("notes_by_num") or {}
    found = []
    for family in families:
        for platform, results in (feature["stats"].get(family) or {}).items():
            version = max(results, key=_version_key)
            value = str(results[version])
            support, *marks = value.split()
            notes = tuple(notes_by_num.get(m.lstrip("#"), m) for m in marks)
            found.append(Verdict(family, platform, version, support, notes))
    return found


# -- what the HTML uses ------------------------------------------------------------------------------

_SEMANTIC = {
    "article",
    "aside",
    "details",
    "figcaption",
    "figure",
    "footer",
    "header",
    "main",
    "mark",
    "nav",
    "section",
    "summary",
    "time",
}
_ATTRIBUTES = {
    "lang": "html-lang",
    "dir": "html-dir",
    "role": "html-role",
    "width": "html-width",
    "height": "html-height",
    "align": "html-align",
    "valign": "html-valign",
    "cellpadding": "html-cellpadding",
    "cellspacing": "html-cellspacing",
    "background": "html-background",
    "target": "html-target",
    "hidden": "html-hidden",
    "srcset": "html-srcset",
    "loading": "html-loading-attribute",
    "required": "html-required",
    "popover": "html-popover",
}
_PROPERTY_GROUPS = {
    r"margin(-(top|right|bottom|left))?": "css-margin",
    r"padding(-(top|right|bottom|left))?": "css-padding",
    r"border(-(top|right|bottom|left))?(-(width|style|color))?": "css-border",
    r"(top|right|bottom|left)": "css-left-right-top-bottom",
    r"(column-gap|row-gap|gap)": "css-gap",
    r"overflow-[xy]": "css-overflow",
}
_UNITS = {
    "px": "css-unit-px",
    "%": "css-unit-percent",
    "em": "css-unit-em",
    "rem": "css-unit-rem",
    "vh": "css-unit-vh",
    "vw": "css-unit-vw",
    "vmin": "css-unit-vmin",
    "vmax": "css-unit-vmax",
    "pt": "css-unit-pt",
    "ch": "css-unit-ch",
    "ex": "css-unit-ex",
    "cm": "css-unit-cm",
    "mm": "css-unit-mm",
    "in": "css-unit-in",
    "pc": "css-unit-pc",
}
_FUNCTIONS = {
    "calc": "css-unit-calc",
    "rgb": "css-rgb",
    "rgba": "css-rgba",
    "linear-gradient": "css-linear-gradient",
    "radial-gradient": "css-radial-gradient",
    "conic-gradient": "css-conic-gradient",
    "clamp": "css-function-clamp",
    "min": "css-function-min",
    "max": "css-function-max",
    "var": "css-variables",
    "light-dark": "css-function-light-dark",
}


class _Reader(HTMLParser):
    def __init__(self, slugs: set[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.slugs = slugs
        self.used: dict[str, list[str]] = {}
        self.unknown: dict[str, list[str]] = {}  # CSS properties caniemail has no feature for
        self._in_style = False

    def use(self, slug: str, where: str) -> None:
        if slug in self.slugs:
            self.used.setdefault(slug, []).append(where)

    def handle_decl(self, decl: str) -> None:
        if decl.lower().startswith("doctype html"):
            self.use("html-doctype", f"<!{decl}>")

    def handle_comment(self, data: str) -> None:
        if not data.strip().startswith("[if"):  # Outlook's conditional comments are for Outlook only
            self.use("html-comments", f"<!--{data[:40]}-->")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        where = f"<{tag}>"
        self.element(tag, attributes, where)
        if tag == "style":
            self._in_style = True
        for name, value in attributes.items():
            if name in _ATTRIBUTES:
                self.use(_ATTRIBUTES[name], f"{where} {name}")
            if name.startswith("aria-"):
                self.use(f"html-{name}", f"{where} {name}")
            if name == "style":
                self.declarations(value, where)

    def element(self, tag: str, attributes: dict[str, str], where: str) -> None:
        self.use(f"html-{tag}", where)
        if re.fullmatch(r"h[1-6]", tag):
            self.use("html-h1-h6", where)
        if tag in {"ul", "ol", "dl"}:
            self.use("html-lists", where)
        if tag in _SEMANTIC:
            self.use("html-semantics", where)
        if tag in {"input", "button"}:
            self.use(f"html-{tag}-{attributes.get('type', 'text' if tag == 'input' else 'submit')}", where)
        if tag == "meta" and attributes.get("name") == "color-scheme":
            self.use("html-meta-color-scheme", where)
        href = attributes.get("href", "") if tag == "a" else ""
        if href.startswith("mailto:"):
            self.use("html-mailto-links", where)
        if href.startswith("#"):
            self.use("html-anchor-links", where)
        if tag == "img":
            source = attributes.get("src", "")
            if source.startswith("data:"):
                self.use("image-base64", where)
            kind = "png" if source.startswith("cid:") else source.rsplit(".", 1)[-1].lower()
            self.use(f"image-{kind}", f"{where} {source[:40]}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.stylesheet(data)

    def stylesheet(self, css: str) -> None:
        if "/*" in css:
            self.use("css-comments", "<style>")
        for at in re.findall(r"@([a-z-]+)", css):
            self.use(f"css-at-{at}", "<style>")
        for selectors, body in re.findall(r"([^{}@]+)\{([^{}]*)\}", css):
            for selector in selectors.split(","):
                selector = selector.strip()
                if "," in selectors:
                    self.use("css-selector-grouping", selector)
                if "." in selector:
                    self.use("css-selector-class", selector)
                if "#" in selector:
                    self.use("css-selector-id", selector)
                if ">" in selector:
                    self.use("css-selector-child", selector)
                for pseudo in re.findall(r"::?([a-z-]+)", selector):
                    self.use(f"css-pseudo-class-{pseudo}", selector)
                    self.use(f"css-pseudo-element-{pseudo}", selector)
            self.declarations(body, "<style>")

    def declarations(self, style: str, where: str) -> None:
        for declaration in style.split(";"):
            name, colon, value = declaration.partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if not colon or not name:
                continue
            at = f"{where} {name}:{value}"
            slug = f"css-{name}"
            for pattern, group in _PROPERTY_GROUPS.items():
                if re.fullmatch(pattern, name):
                    slug = group
            if slug in self.slugs:
                self.use(slug, at)
            elif not name.startswith("mso-"):  # Outlook's own properties are ignored by the others
                self.unknown.setdefault(name, []).append(at)
            if name == "display":
                self.use(
                    {"none": "css-display-none", "flex": "css-display-flex", "grid": "css-display-grid"}.get(
                        value, "css-display"
                    ),
                    at,
                )
            if "!important" in value:
                self.use("css-important", at)
            for unit in re.findall(
                r"(?<![\w#.-])\d*\.?\d+(px|%|rem|em|vh|vw|vmin|vmax|pt|ch|ex|cm|mm|in|pc)(?!\w)", value
            ):
                self.use(_UNITS[unit], at)
            for function in re.findall(r"([a-z-]+)\(", value):
                if function in _FUNCTIONS:
                    self.use(_FUNCTIONS[function], at)


@dataclass(frozen=True)
class Used:
    features: dict[str, list[str]]  # slug -> where
    unknown: dict[str, list[str]]  # CSS property -> where (no caniemail feature for it)


def features(html: str, data: dict[str, Any]) -> Used:
    """Every caniemail feature ``html`` uses, with where; and the CSS properties caniemail does not list."""
    reader = _Reader({f["slug"] for f in data["data"]})
    reader.feed(html)
    reader.close()
    return Used(reader.used, reader.unknown)
