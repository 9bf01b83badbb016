"""The documentation: the configuration reference is the schema's, and every relative Markdown link resolves."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import yaml
from conftest import REPO

sys.path.insert(0, str(REPO / "tools"))
import config_reference  # noqa: E402

pytestmark = pytest.mark.unit

README_MAX_LINES = 200
SKIP_PREFIXES = (".venv", "bench/work/", "demo/")


# ------------------------------------------------------------------------------------------- configuration reference
def test_configuration_reference_is_up_to_date() -> None:
    current = (REPO / "docs/configuration.md").read_text(encoding="utf-8")
    assert current == config_reference.generate(), "docs/configuration.md is stale: run `make config-reference`"


def test_configuration_reference_check_option(tmp_path: Path) -> None:
    tool = REPO / "tools/config_reference.py"
    stale = tmp_path / "configuration.md"
    stale.write_text("stale\n")
    proc = subprocess.run([sys.executable, str(tool), "--check", "--output", str(stale)], capture_output=True,
                          text=True)
    assert proc.returncode == 1 and "make config-reference" in proc.stderr
    assert subprocess.run([sys.executable, str(tool), "--output", str(stale)]).returncode == 0
    proc = subprocess.run([sys.executable, str(tool), "--check", "--output", str(stale)], capture_output=True)
    assert proc.returncode == 0


def config_paths(value: Any, prefix: str = "") -> list[str]:
    """Every key of a configuration as a dotted path; a list of mappings as `key[].sub`."""
    paths = []
    if isinstance(value, dict):
        for key, sub in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            paths.append(path)
            paths += config_paths(sub, path)
    elif isinstance(value, list):
        for item in value:
            paths += config_paths(item, f"{prefix}[]")
    return paths


def documented(path: str, patterns: list[tuple[str, re.Pattern[str]]]) -> str | None:
    """The reference's key (maybe with `<name>`/`<key>` placeholders) that documents path."""
    return next((key for key, pattern in patterns if pattern.fullmatch(path)), None)


@pytest.mark.parametrize("configfile", ["config.yaml", *sorted(p.name for p in (REPO / "config").glob("*.yaml"))])
def test_every_configuration_key_is_in_the_reference(configfile: str) -> None:
    path = REPO / configfile if configfile == "config.yaml" else REPO / "config" / configfile
    text = (REPO / "docs/configuration.md").read_text(encoding="utf-8")
    patterns = []
    for row in config_reference.rows():
        assert f"`{row.path}`" in text
        regex = re.sub(r"<[^>]+>", "[^.]+", re.escape(row.path).replace(r"\<", "<").replace(r"\>", ">"))
        patterns.append((row.path, re.compile(regex)))
    missing = [key for key in config_paths(yaml.safe_load(path.read_text())) if not documented(key, patterns)]
    assert not missing, f"{configfile}: keys missing from docs/configuration.md: {missing}"


def test_reference_lists_map_entries_as_patterns() -> None:
    keys = {row.path for row in config_reference.rows()}
    assert {"corpus.local.train.src", "compute.cpu_kernels", "architectures.<name>.num-words",
            "tables.table3.columns[].architecture", "parts.<name>.hypothesis", "sockeye_train.<key>"} <= keys


def schema_properties(node: Any, where: str = "#") -> list[tuple[str, dict[str, Any]]]:
    """Every `properties` entry of the schema (definitions, branches and forms included; an `if`'s condition and a
    branch's bare `const` restating it are not documentation)."""
    found = []
    if isinstance(node, dict):
        for key, sub in node.items():
            if key == "if":
                continue
            if key == "properties" and isinstance(sub, dict):
                for name, prop in sub.items():
                    if not (set(prop) == {"const"} and where.endswith(("/then", "/else"))):
                        found.append((f"{where}/properties/{name}", prop))
            found += schema_properties(sub, f"{where}/{key}")
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            found += schema_properties(sub, f"{where}/{i}")
    return found


def test_every_schema_property_has_a_description() -> None:
    schema = yaml.safe_load((REPO / "schemas/config.schema.yaml").read_text(encoding="utf-8"))
    properties = schema_properties(schema)
    assert len(properties) > 150
    bare = [where for where, prop in properties if not str(prop.get("description", "")).strip()]
    assert not bare, f"schema properties without a description: {bare}"
    assert not [row.path for row in config_reference.rows() if not row.description.strip()]


@pytest.mark.parametrize("construct", [
    {"not": {"type": "string"}},
    {"type": "string", "format": "uri"},
    {"$ref": "other.yaml#/x"},
    {"type": "object", "dependentRequired": {"a": ["b"]}},
    {"type": "object", "properties": {"a": {"type": "string"}},
     "if": {"properties": {"a": {"enum": ["x"]}}}, "then": {"required": ["a"]}},
    {"oneOf": [{"type": "integer"}, {"type": "object", "properties": {"a": {"type": "string"}}}]},
])
def test_the_generator_refuses_what_it_does_not_understand(construct: dict[str, Any]) -> None:
    schema = {"type": "object", "properties": {"key": {"description": "x", **construct}}}
    with pytest.raises(config_reference.SchemaError):
        config_reference.render(schema, {})


# ----------------------------------------------------------------------------------------------------- Markdown links
def markdown_files() -> list[str]:
    """The repository's Markdown files, committed or not (but not ignored), less environments and run outputs."""
    proc = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "*.md"], cwd=REPO, capture_output=True,
                          text=True, check=True)
    return sorted({f for f in proc.stdout.splitlines() if f and not f.startswith(SKIP_PREFIXES)
                   and (REPO / f).is_file()})


def github_slug(heading: str) -> str:
    """GitHub's anchor of a heading's text: links and code marks dropped, lowercase, characters other than
    letters, digits, spaces, `-` and `_` removed, spaces turned into `-`."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").replace("*", "")
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
LINK = re.compile(r"!?\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
ATX = re.compile(r"^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
SETEXT = re.compile(r"^ {0,3}(=+|-+)\s*$")
HTML_ANCHOR = re.compile(r"<a\s[^>]*(?:name|id)=\"([^\"]+)\"", re.I)


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, text) of the lines outside fenced code blocks, code spans blanked."""
    out, fence = [], ""
    for number, line in enumerate(text.splitlines(), 1):
        match = FENCE.match(line)
        if fence:
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence) \
                    and not line.strip()[len(match.group(1)):].strip():
                fence = ""
            continue
        if match:
            fence = match.group(1)
            continue
        out.append((number, CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)))
    return out


def anchors(path: Path) -> set[str]:
    """The anchors of a Markdown file: its headings' GitHub slugs (duplicates numbered) and HTML anchors."""
    seen: dict[str, int] = {}
    found: set[str] = set()
    lines = prose_lines(path.read_text(encoding="utf-8"))
    raw = path.read_text(encoding="utf-8").splitlines()
    headings = []
    for i, (number, line) in enumerate(lines):
        match = ATX.match(line)
        if match:
            headings.append(raw[number - 1].strip().lstrip("#").strip().rstrip("#").strip())
        elif SETEXT.match(line) and i and lines[i - 1][0] == number - 1 and lines[i - 1][1].strip() \
                and not ATX.match(lines[i - 1][1]) and not lines[i - 1][1].lstrip().startswith(("|", "-", "*", ">")):
            headings.append(raw[number - 2].strip())
        found |= set(HTML_ANCHOR.findall(line))
    for heading in headings:
        slug = github_slug(heading)
        if slug in seen:
            seen[slug] += 1
            slug = f"{slug}-{seen[slug]}"
        else:
            seen[slug] = 0
        found.add(slug)
    return found


def broken_links(name: str) -> list[str]:
    """'file:line: [text](target): why' for each relative link of a Markdown file that does not resolve."""
    path = REPO / name
    problems = []
    for number, line in prose_lines(path.read_text(encoding="utf-8")):
        targets = [(m.group(1), m.group(2)) for m in LINK.finditer(line)]
        targets += [("reference", m.group(1)) for m in [REFERENCE.match(line)] if m]
        for text, target in targets:
            target = target.strip("<>")
            if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", target) or target.startswith("//"):
                continue  # http(s), mailto and other schemes
            file_part, _, anchor = target.partition("#")
            file_part = unquote(file_part)
            resolved = path if not file_part else (REPO / file_part.lstrip("/") if file_part.startswith("/")
                                                   else path.parent / file_part)
            where = f"{name}:{number}: [{text}]({target})"
            if not resolved.exists():
                problems.append(f"{where}: {file_part} does not exist")
            elif anchor and resolved.is_file() and resolved.suffix.lower() == ".md" \
                    and unquote(anchor) not in anchors(resolved):
                problems.append(f"{where}: no heading with anchor #{anchor} in {os.path.relpath(resolved, REPO)}")
    return problems


@pytest.mark.parametrize(("heading", "slug"), [
    ("Transformers: a second trainer backend (Sockeye 3 on PyTorch)",
     "transformers-a-second-trainer-backend-sockeye-3-on-pytorch"),
    ("Same numbers on every machine", "same-numbers-on-every-machine"),
    ("The GPU check (`bench/gpu`): prepared, not yet run on a GPU",
     "the-gpu-check-benchgpu-prepared-not-yet-run-on-a-gpu"),
    ("Real text on one GPU (`config/gpu-tatoeba.yaml`): prepared, not yet run",
     "real-text-on-one-gpu-configgpu-tatoebayaml-prepared-not-yet-run"),
    ("The grid search (A.1) and Figures 2 and 3", "the-grid-search-a1-and-figures-2-and-3"),
    ("Bad input stops the run before any training; a full disk loses nothing",
     "bad-input-stops-the-run-before-any-training-a-full-disk-loses-nothing"),
    ("sockeye3_no_dropout", "sockeye3_no_dropout"),
    ("de→en", "deen"),
])
def test_github_slug(heading: str, slug: str) -> None:
    assert github_slug(heading) == slug


def test_duplicate_headings_are_numbered(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Notes\n\n## Notes\n\n```\n# not a heading\n```\n\nNotes\n-----\n")
    assert anchors(page) == {"notes", "notes-1", "notes-2"}


def test_the_link_check_finds_broken_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    (tmp_path / "a.md").write_text("# Title\n\n## Second part\n")
    (tmp_path / "b.md").write_text("[ok](a.md#second-part) [gone](c.md) [bad](a.md#nope) `[code](x.md)`\n"
                                   "[self](#title) [web](https://example.com/x.md)\n\n```\n[fenced](y.md)\n```\n")
    assert broken_links("b.md") == ["b.md:1: [gone](c.md): c.md does not exist",
                                    "b.md:1: [bad](a.md#nope): no heading with anchor #nope in a.md",
                                    "b.md:2: [self](#title): no heading with anchor #title in b.md"]


@pytest.mark.parametrize("name", markdown_files())
def test_markdown_links_resolve(name: str) -> None:
    problems = broken_links(name)
    assert not problems, f"{len(problems)} broken link(s):\n" + "\n".join(problems)


def test_readme_is_short() -> None:
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md:{len(lines)}: {len(lines)} lines, at most {README_MAX_LINES}"
