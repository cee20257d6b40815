"""Every relative link and #anchor of the project's Markdown pages resolves:
the file (or folder) exists inside the repository, and an anchor names a
heading of the target page, by GitHub's slug rules.

Pages: README.md, CHANGELOG.md, docs/*.md, adapters/**/README.md and
src/sandbox/README.md. Links to other sites (http:, https:, mailto:) are
not fetched: the test suite reads nothing outside the repository.

The pinned test environment (tests/requirements.txt) has no Markdown
parser, so this file reads the little of CommonMark that links need: fenced
code blocks and code spans (whose text is not a link), ATX and setext
headings, inline links and images, reference definitions and HTML
href/id/name attributes."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[2]


def pages() -> list[Path]:
    found = [ROOT / "README.md", ROOT / "CHANGELOG.md", ROOT / "src/sandbox/README.md"]
    found += sorted((ROOT / "docs").glob("*.md"))
    found += sorted((ROOT / "adapters").glob("**/README.md"))
    return [page for page in found if page.is_file()]


FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[([^\]]+)\]:[ \t]*(<[^>]*>|\S+)")
HTML_ATTRIBUTE = re.compile(r"""\b(href|id|name)\s*=\s*["']([^"']*)["']""", re.I)
CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)", re.S)
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.I)
LINE_ANCHOR = re.compile(r"^L\d+(?:-L\d+)?$")


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of every line outside fenced code blocks."""
    kept: list[tuple[int, str]] = []
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        opening = FENCE.match(line)
        if fence is None:
            if opening:
                fence = opening.group(1)
                continue
            kept.append((number, line))
        elif opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence) \
                and not line.strip()[len(opening.group(1)):].strip():
            fence = None
    return kept


def without_code_spans(line: str) -> str:
    """The line with each code span's text blanked out (its links are text)."""
    return CODE_SPAN.sub(lambda span: " " * len(span.group(0)), line)


def heading_text(markdown: str) -> str:
    """What GitHub renders of a heading's inline Markdown, as text."""
    text = CODE_SPAN.sub(lambda span: span.group(2).strip(), markdown)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links and images: their text
    text = re.sub(r"!?\[([^\]]*)\]\[[^\]]*\]", r"\1", text)  # reference links
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = re.sub(r"(\*+|(?<!\w)_+|_+(?!\w))", "", text)  # emphasis markers, not a_b
    return text.strip()


def slug(text: str) -> str:
    """GitHub's heading anchor (github-slugger): lower case; letters, marks,
    digits, '_', '-' and spaces kept, every other character dropped; each
    space becomes '-'."""
    kept = []
    for character in text.lower():
        category = unicodedata.category(character)
        if character in " -" or category[0] in "LMN" or category == "Pc":
            kept.append(character)
    return "".join(kept).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every anchor a page has: its headings' slugs (the second of two equal
    slugs gets -1, the third -2, ...) and HTML id/name attributes."""
    found: set[str] = set()
    counts: dict[str, int] = {}

    def add_heading(markdown: str) -> None:
        base = slug(heading_text(markdown))
        count = counts.get(base, 0)
        counts[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")

    previous = ""
    for _, line in prose_lines(page.read_text(encoding="utf-8")):
        heading = ATX_HEADING.match(line)
        if heading:
            add_heading(heading.group(2) or "")
            previous = ""
            continue
        underline = SETEXT_UNDERLINE.match(line)
        if underline and previous.strip() and not previous.lstrip().startswith(("|", "-", "*", ">")):
            add_heading(previous.strip())
            previous = ""
            continue
        for attribute, value in HTML_ATTRIBUTE.findall(line):
            if attribute.lower() in ("id", "name"):
                found.add(value)
        previous = line
    return found


def destination_after(text: str, start: int) -> str | None:
    """The link destination that starts at text[start] (just after "](")."""
    rest = text[start:].lstrip()
    if rest.startswith("<"):
        end = rest.find(">")
        return rest[1:end] if end > 0 else None
    depth, taken = 0, []
    for character in rest:
        if character == "(":
            depth += 1
        elif character == ")":
            if depth == 0:
                break
            depth -= 1
        elif character.isspace():
            break
        taken.append(character)
    return "".join(taken)


def links(page: Path) -> list[tuple[int, str]]:
    """(line number, destination) of every link and image of a page."""
    found: list[tuple[int, str]] = []
    for number, line in prose_lines(page.read_text(encoding="utf-8")):
        definition = REFERENCE_DEFINITION.match(line)
        if definition:
            found.append((number, definition.group(2).strip("<>")))
            continue
        prose = without_code_spans(line)
        for match in re.finditer(r"\]\(", prose):
            destination = destination_after(prose, match.end())
            if destination is not None:
                found.append((number, destination))
        for attribute, value in HTML_ATTRIBUTE.findall(prose):
            if attribute.lower() == "href":
                found.append((number, value))
    return found


_anchor_cache: dict[Path, set[str]] = {}


def problem_with(page: Path, destination: str, root: Path = ROOT) -> str | None:
    """Why a link of `page` does not resolve, or None when it does; a link
    may not leave `root`."""
    if EXTERNAL.match(destination):
        return None
    path_part, _, anchor = destination.partition("#")
    target = (page.parent / unquote(path_part)).resolve() if path_part else page
    if not target.is_relative_to(root):
        return "points outside the repository"
    name = target.relative_to(root)
    if not target.exists():
        return f"{name} does not exist"
    if not anchor:
        return None
    if target.suffix.lower() != ".md":
        if LINE_ANCHOR.match(anchor):
            return None
        return f"#{anchor} on {name}, which is not a Markdown page"
    if target not in _anchor_cache:
        _anchor_cache[target] = anchors(target)
    if unquote(anchor) not in _anchor_cache[target]:
        known = ", ".join(sorted(_anchor_cache[target]))
        return f"{name} has no heading #{anchor} (it has: {known})"
    return None


@pytest.mark.parametrize("page", pages(), ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    broken = []
    for number, destination in links(page):
        problem = problem_with(page, destination)
        if problem:
            broken.append(f"{page.relative_to(ROOT)}:{number}: ({destination}) {problem}")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_the_pages_are_there() -> None:
    names = {str(page.relative_to(ROOT)) for page in pages()}
    for required in ("README.md", "CHANGELOG.md", "docs/architecture.md", "adapters/c/README.md",
                     "adapters/airflow/README.md", "src/sandbox/README.md"):
        assert required in names


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("Two commands", "two-commands"),
        ("`--sandbox`", "--sandbox"),
        ("What `.ci/test-all.sh` runs", "what-citest-allsh-runs"),
        ("Deferrable AMC tasks on libamc's poller", "deferrable-amc-tasks-on-libamcs-poller"),
        ("[Unreleased]", "unreleased"),
        ("The `amc_client_new` config", "the-amc_client_new-config"),
        ("**Bold** and *em*", "bold-and-em"),
        ("Déjà vu → 2×", "déjà-vu--2"),
        ("[A link](docs/x.md) here", "a-link-here"),
    ],
)
def test_slugs_follow_github(heading: str, expected: str) -> None:
    assert slug(heading_text(heading)) == expected


def test_a_broken_link_and_a_broken_anchor_are_found(tmp_path: Path) -> None:
    """The checker itself: a missing file, a missing heading, a link in code
    (ignored), a duplicate heading's -1 anchor and a setext heading."""
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\nIntro\n=====\n\n## Same\n\n## Same\n\n"
        "[ok](#same-1) [ok](#intro) [bad](#nowhere) [missing](no-such-file.md)\n"
        "`[in code](no-such-file.md)`\n\n```\n[in a fence](no-such-file.md)\n```\n"
        "[outside](../elsewhere.md) [web](https://example.com/x#y)\n",
        encoding="utf-8")
    problems = [problem_with(page, destination, root=tmp_path) for _, destination in links(page)]
    assert [problem is None for problem in problems] == [True, True, False, False, False, True], problems
    assert "no heading #nowhere" in str(problems[2])
    assert "no-such-file.md does not exist" in str(problems[3])
    assert "outside the repository" in str(problems[4])
