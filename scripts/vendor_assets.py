"""Rebuild static/vendor/ from npm packages unpacked by `npm pack` (run by hand, never at run time).

    mkdir /tmp/npm && cd /tmp/npm
    npm pack htmx.org@2.0.11 @utrecht/component-library-css@9.0.4 \
        @nl-design-system-unstable/voorbeeld-design-tokens@7.4.1 axe-core@4.14.1
    for f in *.tgz; do mkdir "${f%.tgz}" && tar xzf "$f" -C "${f%.tgz}"; done
    python scripts/vendor_assets.py /tmp/npm

The Utrecht component CSS is ~400 KB whole; only the components the templates use are kept,
and of the example theme only the custom properties those components reach.
"""

from __future__ import annotations

import gzip
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "static" / "vendor"

# Component blocks used by templates/ (a class matches itself and its __element/--modifier).
COMPONENTS = [
    "alert",
    "body",
    "button",
    "button-group",
    "button-link",
    "checkbox",
    "data-list",
    "document",
    "form-field",
    "form-field-description",
    "form-field-error-message",
    "form-fieldset",
    "form-label",
    "heading-1",
    "heading-2",
    "heading-3",
    "link",
    "link-list",
    "nav-bar",
    "nav-list",
    "ordered-list",
    "page",
    "page-body",
    "page-content",
    "page-footer",
    "page-header",
    "paragraph",
    "radio-button",
    "root",
    "select",
    "separator",
    "skip-link",
    "table",
    "table-container",
    "textarea",
    "textbox",
    "unordered-list",
]

LICENCE_HEADER = """/**
 * @license EUPL-1.2
 * Copyright (c) 2020-2025 Gemeente Utrecht
 * Copyright (c) 2020-2025 Frameless B.V.
 * Selected components of @utrecht/component-library-css {version}; see LICENSE.md.
 */
"""


def _split_blocks(css: str) -> list[tuple[str, str]]:
    """Top-level (prelude, body) pairs; a statement without a body has body ''."""
    blocks: list[tuple[str, str]] = []
    i = 0
    n = len(css)
    while i < n:
        brace = css.find("{", i)
        semi = css.find(";", i)
        if brace == -1:
            break
        if semi != -1 and semi < brace:  # @charset / @import style statement
            blocks.append((css[i:semi].strip(), ""))
            i = semi + 1
            continue
        depth = 0
        j = brace
        while j < n:
            if css[j] == "{":
                depth += 1
            elif css[j] == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        blocks.append((css[i:brace].strip(), css[brace + 1 : j]))
        i = j + 1
    return blocks


_CLASS = re.compile(r"\.utrecht-([a-z0-9]+(?:-[a-z0-9]+)*)")


def _selector_used(selector: str, components: set[str]) -> bool:
    """True when every Utrecht block named in the selector is one the templates use."""
    blocks = {match.group(1) for match in _CLASS.finditer(selector)}
    return bool(blocks) and blocks <= components


def _keep(css: str, components: set[str]) -> str:
    out: list[str] = []
    for prelude, body in _split_blocks(css):
        if prelude.startswith("@charset"):
            continue
        if prelude.startswith(("@media", "@supports", "@layer", "@container")):
            inner = _keep(body, components)
            if inner.strip():
                out.append(f"{prelude} {{\n{inner}}}\n")
        elif prelude.startswith("@"):
            out.append(f"{prelude} {{{body}}}\n")
        else:
            selectors = _split_selectors(prelude)
            kept = [s for s in selectors if _selector_used(s, components)]
            if kept:
                out.append(f"{','.join(kept)}{{{_minify(body)}}}\n")
    return "".join(out)


def _split_selectors(prelude: str) -> list[str]:
    """Split a selector list at its top-level commas (not those inside :is(), :not(), …)."""
    parts: list[str] = []
    depth = 0
    current = ""
    for char in prelude:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return parts


def _minify(body: str) -> str:
    return ";".join(part.strip() for part in body.strip().rstrip(";").split(";"))


def _strip_comments(css: str) -> str:
    return re.sub(r"/\*.*?\*/", "", css, flags=re.S)


def _theme_subset(theme_css: str, used_css: str) -> str:
    """The theme's custom properties reachable from the var() names the components use."""
    declarations = dict(re.findall(r"(--[\w-]+):\s*([^;]+);", theme_css))
    wanted = set(re.findall(r"var\((--[\w-]+)", used_css))
    seen: set[str] = set()
    while wanted:
        name = wanted.pop()
        if name in seen or name not in declarations:
            continue
        seen.add(name)
        wanted.update(re.findall(r"var\((--[\w-]+)", declarations[name]))
    lines = [f"  {name}: {declarations[name]};" for name in sorted(seen)]
    return ".voorbeeld-theme {\n" + "\n".join(lines) + "\n}\n"


def main(npm_dir: str) -> None:
    source = Path(npm_dir)
    htmx = next(p for p in source.glob("htmx.org-2.*") if p.is_dir()) / "package"
    utrecht = (
        next(p for p in source.glob("utrecht-component-library-css-*") if p.is_dir()) / "package"
    )
    tokens = (
        next(
            p
            for p in source.glob("nl-design-system-unstable-voorbeeld-design-tokens-*")
            if p.is_dir()
        )
        / "package"
    )
    axe = next(p for p in source.glob("axe-core-*") if p.is_dir()) / "package"

    for name, pkg, files in [
        ("htmx", htmx, ["dist/htmx.min.js", "LICENSE"]),
        ("axe-core", axe, ["axe.min.js", "LICENSE"]),
        ("utrecht", utrecht, ["LICENSE.md"]),
        ("voorbeeld-design-tokens", tokens, ["LICENSE.md"]),
    ]:
        target = VENDOR / name
        target.mkdir(parents=True, exist_ok=True)
        for file in files:
            shutil.copy(pkg / file, target / Path(file).name)

    version = re.search(r'"version":\s*"([^"]+)"', (utrecht / "package.json").read_text())
    components = _keep(
        _strip_comments((utrecht / "dist" / "index.css").read_text()),
        set(COMPONENTS),
    )
    header = LICENCE_HEADER.format(version=version.group(1) if version else "?")
    (VENDOR / "utrecht" / "components.css").write_text(header + components)
    theme = _theme_subset((tokens / "dist" / "theme.css").read_text(), components)
    (VENDOR / "voorbeeld-design-tokens" / "theme.css").write_text(
        "/* Subset of @nl-design-system-unstable/voorbeeld-design-tokens dist/theme.css; "
        "EUPL-1.2, see LICENSE.md. */\n" + theme
    )
    # Pre-compressed siblings, served by WhiteNoise to browsers that accept gzip.
    for path in [
        VENDOR / "htmx" / "htmx.min.js",
        VENDOR / "utrecht" / "components.css",
        VENDOR / "voorbeeld-design-tokens" / "theme.css",
    ]:
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(path.read_bytes(), 9, mtime=0))


if __name__ == "__main__":
    main(sys.argv[1])
