"""A process of its own that turns HTML into PDFs for a web worker (#24), and the URL fetcher every rendering uses.

Run as a script by coop.documents.pdf (`python render_process.py`): it imports only the standard library and
WeasyPrint, loads fonts once (fontconfig, Pango, the document font's @font-face), then for each job forks a child
that renders with the cyclic garbage collector off and exits. So:
- the web worker's memory never holds WeasyPrint's trees or font copies (they die with the child);
- no collector passes over the growing box tree (~40% of a long report's CPU in the worker) and none afterwards;
- the worker's threads keep answering pages while a PDF renders (the request thread waits on a pipe, not the GIL).

Protocol on stdin/stdout: a request is a 4-byte big-endian header length, a JSON header {"n": bytes of HTML,
"root": static folder or null, "css": extra stylesheet} and the HTML in UTF-8; the answer is one status byte
(P: a PDF follows, E: an error message follows), an 8-byte length and the payload.
"""
from __future__ import annotations

import contextvars
import gc
import json
import os
import re
import struct
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urlparse


class FetchRefused(ValueError):
    pass


def make_url_fetcher(root: Path | None, fonts: tuple[Path, ...] = ()):
    """data: URIs, files under the app's static folder and the document font files; anything else (http, other
    files) is refused."""
    from weasyprint.urls import URLFetcher

    allowed = {p.resolve() for p in fonts}

    class LockedFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            parsed = urlparse(url)
            if parsed.scheme == "data":
                return super().fetch(url, headers)
            if parsed.scheme == "file":
                path = Path(unquote(parsed.path)).resolve()
                if path.is_file() and (path in allowed or root is not None and path.is_relative_to(root)):
                    return super().fetch(path.as_uri(), headers)
            raise FetchRefused(f"PDF 不加载外部资源：{url[:100]}")

    return LockedFetcher(allowed_protocols=("data", "file"), allow_redirects=False)


def font_files(css: str) -> tuple[Path, ...]:
    """The file: URLs an @font-face stylesheet names (ours only: built by coop.documents.fonts)."""
    out = []
    for part in css.split('url("')[1:]:
        url = part.split('"', 1)[0]
        if url.startswith("file:"):
            out.append(Path(unquote(urlparse(url).path)))
    return tuple(out)


#: user-agent rules our documents can never match (they have no dir= or hidden attributes, links, nested lists,
#: presentational attributes or footnotes); each would be tried on every element of a long table
_NEVER = re.compile(r"\[dir|\[hidden\]|:link|:visited|::footnote|::note|^:is\([^)]*\)\s*(:is|\[|ul)|"
                    r"^:is\([^)]*\)\[")


def _lean(css_text: str) -> str:
    out = []
    for line in css_text.splitlines():
        head = line.split("{", 1)[0]
        if "{" in line and not line.lstrip().startswith("@") and _NEVER.search(head):
            if "(" in head:
                continue  # the whole rule (a selector list inside :is() is not split here)
            selectors = [x for x in head.split(",") if not _NEVER.search(x.strip())]
            if not selectors:
                continue
            line = ", ".join(x.strip() for x in selectors) + " {" + line.split("{", 1)[1]
        out.append(line)
    return "\n".join(out)


_lean_sheets: dict[str, list] = {}


def _document_class():
    """WeasyPrint's HTML with user-agent and presentational-hint sheets lean of the rules above (the look stays:
    tests/test_pdf_look.py compares against WeasyPrint's own sheets); plain HTML if WeasyPrint changed inside."""
    from weasyprint import CSS, HTML

    if not (hasattr(HTML, "_ua_stylesheets") and hasattr(HTML, "_ph_stylesheets")):
        return HTML
    if not _lean_sheets:
        import weasyprint

        folder = Path(weasyprint.__file__).parent / "css"
        try:
            sheets = {name: [CSS(string=_lean((folder / name).read_text(encoding="utf-8")))]
                      for name in ("html5_ua.css", "html5_ph.css")}
        except OSError:
            return HTML
        _lean_sheets.update(sheets)

    class LeanHTML(HTML):
        def _ua_stylesheets(self, forms=False):
            return _lean_sheets["html5_ua.css"] + (super()._ua_stylesheets(True)[1:] if forms else [])

        def _ph_stylesheets(self):
            return _lean_sheets["html5_ph.css"]

    return LeanHTML


# ---------------------------------------------------------------- library caches that miss


class _UntilRegexes(dict):
    """tinyhtml5 (2.1) keeps the regex of each chars_until() call in a dict, but stores it under the regex instead
    of the characters (`characters = cache[(characters, opposite)] = regex` rebinds `characters` first), so every
    call misses and builds it again (~45 % of parsing a long report). Filled here under the key it looks up."""

    def __missing__(self, key):
        characters, opposite = key
        regex = "".join([f"\\x{ord(c):02x}" for c in characters])
        self[key] = compiled = re.compile(f"[{regex if opposite else '^' + regex}]+")
        return compiled


class _ParsedTypes(dict):
    """WeasyPrint subsets each font face with `ffi.new(f"hb_codepoint_t[{n}]", values)`: a C type for every
    length n, which cffi parses with pycparser (~2 ms; twice a face and PDF). cffi looks each type string up in its
    dict of parsed types first; an array of n code points is made here from the parsed element type instead."""

    def __init__(self, ffi, parsed: dict):
        super().__init__(parsed)
        self.ffi = ffi

    def __missing__(self, cdecl):
        if type(cdecl) is str and cdecl.startswith("hb_codepoint_t[") and cdecl[15:-1].isdigit() \
                and cdecl.endswith("]"):
            item = self.ffi.typeof("hb_codepoint_t")
            self[cdecl] = parsed = (self.ffi._backend.new_array_type(self.ffi._backend.new_pointer_type(item),
                                                                     int(cdecl[15:-1])), False)
            return parsed
        raise KeyError(cdecl)


def _install_caches() -> None:
    try:
        from tinyhtml5 import inputstream
    except ImportError:
        inputstream = None
    if inputstream is not None and type(getattr(inputstream, "characters_until_regex", None)) is dict:
        inputstream.characters_until_regex = _UntilRegexes()
    from weasyprint.text.ffi import ffi

    if type(getattr(ffi, "_parsed_types", None)) is dict and hasattr(ffi, "_backend"):
        probe = "hb_codepoint_t[%d]" % (len(ffi._parsed_types) + 12345)
        made = _ParsedTypes(ffi, {})[probe][0]
        if ffi.typeof(probe) is made:  # the very type cffi's own parser gives: safe to stand in for it
            ffi._parsed_types = _ParsedTypes(ffi, ffi._parsed_types)


# ---------------------------------------------------------------- WeasyPrint hot spots, for the version read

#: the WeasyPrint versions whose code the patches below were written against and checked with (byte-identical PDFs
#: of the bench's documents with and without them; tests/test_pdf_patches.py: the same page images at 100 and 300
#: dpi; tests/test_pdf_look.py against plain WeasyPrint); any other version renders unpatched
PATCHED_VERSIONS = ("70.0",)
#: set while render() runs: the patches act only then, so plain WeasyPrint calls in the same process are untouched
_ours = contextvars.ContextVar("coop_render", default=False)
#: set only in a forked child, which lives for one PDF: a worker rendering itself must not hold every layout of a
#: long report until it is drawn (the memory WeasyPrint drops them to bound)
_keeping = contextvars.ContextVar("coop_keep_layouts", default=False)


class _Nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


_NOTHING = _Nothing()


class _Borders:
    """Stands in for the PDF stream while WeasyPrint lists a table's collapsed border segments (two `with` blocks a
    segment, ~700 segments a page: a plain object, not a generator context each time)."""

    def __init__(self):
        self.segments: list[tuple] = []

    def artifact(self):
        return _NOTHING

    stacked = artifact


def _merged(segments: list[tuple]) -> list[tuple]:
    """The segments with each run of same-looking (solid or double, opaque) segments joined where they touch on one
    line: a collapsed grid draws one segment per cell side (~700 a page); a column rule or a row rule is one line.
    Runs keep their order (a heavier border still paints over a lighter one); within a run the ink is the same."""
    out: list[tuple] = []
    run: dict[tuple, list[list[float]]] = {}
    run_key = None

    def flush():
        for (vertical, at), spans in run.items():
            spans.sort()
            joined = [spans[0]]
            for a, b in spans[1:]:
                if a <= joined[-1][1]:
                    joined[-1][1] = max(joined[-1][1], b)
                else:
                    joined.append([a, b])
            width, style, color = run_key
            for a, b in joined:
                out.append((at, a, at, b, width, style, color) if vertical else (a, at, b, at, width, style, color))
        run.clear()

    for seg in segments:
        x1, y1, x2, y2, width, style, color = seg
        mergeable = style in ("solid", "double") and getattr(color, "alpha", 0) == 1
        key = (width, style, color) if mergeable else None
        if key != run_key or key is None:
            flush()
            run_key = key
        if key is None:
            out.append(seg)
            continue
        vertical = x1 == x2
        at, a, b = (x1, min(y1, y2), max(y1, y2)) if vertical else (y1, min(x1, x2), max(x1, x2))
        run.setdefault((vertical, at), []).append([a, b])
    flush()
    return out


def _install_border_merging() -> None:
    """draw_collapsed_borders of these versions draws only through stream.artifact(), stream.stacked() and
    weasyprint.draw.draw_line, which serves nothing else in weasyprint.draw."""
    from weasyprint import draw

    if getattr(draw, "_coop_merges_borders", False):
        return
    draw_borders, draw_line = draw.draw_collapsed_borders, draw.draw_line

    def line(stream, *args, **kwargs):  # draw.draw_line serves only draw_collapsed_borders in these versions
        if isinstance(stream, _Borders) and not kwargs and len(args) == 7:
            stream.segments.append(args)
        else:
            draw_line(stream, *args, **kwargs)

    def collapsed_borders(stream, table):
        if not _ours.get():
            return draw_borders(stream, table)
        borders = _Borders()
        draw_borders(borders, table)
        for segment in _merged(borders.segments):
            with stream.artifact(), stream.stacked():
                draw_line(stream, *segment)

    draw.draw_line, draw.draw_collapsed_borders = line, collapsed_borders
    draw._coop_merges_borders = True


def _install_layout_keeping() -> None:
    """WeasyPrint shapes every piece of text twice: a Pango layout measures it, is dropped (deactivate, to bound
    memory on huge documents), and is built again from the same style and text to draw it (reactivate: a new Pango
    context, font description, attributes and shaping; ~5 % of a long report). In a forked child's render()
    (keep_layouts: it lives for one PDF) the measured layout is kept until its one drawing; a layout with
    justification spacing, a different style at drawing time or a second drawing takes WeasyPrint's own path."""
    from weasyprint.text.line_break import Layout

    if getattr(Layout, "_coop_keeps", False):
        return
    deactivate, reactivate = Layout.deactivate, Layout.reactivate

    def keep(self):
        if _keeping.get() and not self.justification_spacing and (
                getattr(self, "_coop_kept", None) is None or self._coop_shared):
            self._coop_kept = True  # measured, or drawn for one of the boxes sharing it: kept for the next drawing
        else:
            deactivate(self)

    def reuse(self, style):
        if getattr(self, "_coop_kept", None):
            self._coop_kept = False  # drawn once: WeasyPrint's own path from now on
            if style is self.style:
                return
            deactivate(self)
        reactivate(self, style)

    Layout.deactivate, Layout.reactivate = keep, reuse
    Layout._coop_keeps = True


#: per render(): what the patches below found once and hand out again, keyed by the style object it came from (kept
#: in the value: an id is only unique while its object lives). None outside render(): WeasyPrint's own code then.
_memo = contextvars.ContextVar("coop_memo", default=None)


class _Memo:
    def __init__(self):
        self.lines: dict = {}
        self.lengths: dict = {}
        self.backgrounds: dict = {}
        self.struts: dict = {}
        self.cells: dict = {}
        self.drawn: dict = {}


def _install_line_memo() -> None:
    """A long report prints the same words in the same style thousands of times (借, 贷, 本月合计, 2025-01-02, an
    account's name…), and WeasyPrint measures each with Pango afresh. split_first_line is a function of its arguments
    (the text, the style object, the width…): in render() its answer, the measured layout included, is handed out
    again for the same arguments. The layout is then drawn for every box that has it; in a forked child (kept
    layouts) it stays live for each of those drawings instead of being shaped again."""
    from weasyprint.layout import inline
    from weasyprint.text.line_break import Layout

    if getattr(inline, "_coop_memo", False):
        return
    split = inline.split_first_line

    def split_first_line(text, style, context, max_width, justification_spacing, is_line_start=True,
                         minimum=False):
        memo = _memo.get()
        if memo is None or justification_spacing:
            return split(text, style, context, max_width, justification_spacing, is_line_start, minimum)
        key = (text, id(style), max_width, is_line_start, minimum)
        hit = memo.lines.get(key)
        if hit is not None and hit[0] is style:
            hit[1][0]._coop_shared = True
            return hit[1]
        found = split(text, style, context, max_width, justification_spacing, is_line_start, minimum)
        memo.lines[key] = (style, found)
        return found

    strut = inline.strut

    def line_strut(style):  # the used line height and baseline of a style: the same for every box of that style
        memo = _memo.get()
        if memo is None:
            return strut(style)
        hit = memo.struts.get(id(style))
        if hit is None or hit[0] is not style:
            hit = memo.struts[id(style)] = (style, strut(style))
        return hit[1]

    inline.split_first_line, inline.strut = split_first_line, line_strut
    from weasyprint.layout import preferred

    if preferred.split_first_line is split:  # the widths of the page footers and of flex items: the same answers
        preferred.split_first_line = split_first_line
    inline._coop_memo = True
    Layout._coop_shared = False


#: the used lengths resolve_percentages sets from a style and a containing block (the border widths it sets depend
#: on the box as well, and are set as WeasyPrint does)
_RESOLVED = ("margin_left", "margin_right", "margin_top", "margin_bottom", "padding_left", "padding_right",
             "padding_top", "padding_bottom", "width", "min_width", "max_width", "height", "min_height", "max_height")


def _install_percent_memo() -> None:
    """resolve_percentages turns a box's computed lengths into used ones, 14 lookups and calls a box, for each of the
    ~15,000 boxes of a long report — mostly table cells sharing a handful of style objects and column widths. With
    box-sizing: content-box the 14 lengths depend only on the style and the containing block's size: in render()
    they are worked out once per (style, size) and copied to the next box."""
    from weasyprint.formatting_structure import boxes
    from weasyprint.layout import absolute, block, column, float as float_, grid, inline, page, percent, table

    if getattr(percent, "_coop_memo", False):
        return
    resolve = percent.resolve_percentages
    Box, PageBox = boxes.Box, boxes.PageBox

    def resolve_percentages(box, containing_block):
        memo = _memo.get()
        if memo is None:
            return resolve(box, containing_block)
        style = box.style
        if isinstance(containing_block, Box):
            size = containing_block.width, containing_block.height
        else:
            size = tuple(containing_block)
        key = (id(style), size, isinstance(box, PageBox))
        hit = memo.lengths.get(key)
        if hit is None or hit[0] is not style:
            resolve(box, containing_block)
            if style["box_sizing"] == "content-box":  # else the borders and padding change the lengths
                lengths = {name: box.__dict__[name] for name in _RESOLVED}
                borders = {f"border_{side}_width": style[f"border_{side}_width"]
                           for side in ("top", "right", "bottom", "left")}
                memo.lengths[key] = (style, lengths, style["border_collapse"] == "collapse", borders)
            return
        _, lengths, collapse, borders = hit
        attributes = box.__dict__
        attributes.update(lengths)
        if collapse:  # a collapsed border width already set on the box (the table's resolution) stays
            for name, width in borders.items():
                if name not in attributes:
                    attributes[name] = width
        else:
            attributes.update(borders)

    for module in (absolute, block, column, float_, grid, inline, page, percent, table):
        if getattr(module, "resolve_percentages", None) is resolve:
            module.resolve_percentages = resolve_percentages
    percent._coop_memo = True


def _install_plain_backgrounds() -> None:
    """layout_box_backgrounds visits every box of a page to find its background; a box whose style has none (no
    colour, image, shadow, border image or mask, square corners: nearly every cell) gets background None and zero
    radii. In render() that verdict is kept per style object and such a box is settled without the lookups."""
    from weasyprint.layout import background

    if getattr(background, "_coop_plain", False):
        return
    layout_box = background.layout_box_backgrounds
    corners = ("top_left", "top_right", "bottom_right", "bottom_left")

    def plain(style) -> bool:
        if style["border_image_source"][0] != "none" or style["mask_border_source"][0] != "none":
            return False
        for corner in corners:
            rx, ry = style[f"border_{corner}_radius"]
            if (0, "px") not in (rx, ry):
                return False
        if style["visibility"] == "hidden":
            return True
        if any(type_ == "url" or value for type_, value in style["background_image"]):
            return False
        from weasyprint.draw.color import get_color

        return get_color(style, "background_color").alpha == 0 and not style["box_shadow"]

    def layout_box_backgrounds(page, box, get_image_from_uri, layout_children=True, style=None):
        memo = _memo.get()
        if memo is None or style is not None or box is page:
            return layout_box(page, box, get_image_from_uri, layout_children, style)
        hit = memo.backgrounds.get(id(box.style))
        if hit is None or hit[0] is not box.style:
            hit = memo.backgrounds[id(box.style)] = (box.style, plain(box.style))
        if not hit[1]:
            return layout_box(page, box, get_image_from_uri, layout_children, style)
        box.border_top_left_radius = box.border_top_right_radius = (0, 0)
        box.border_bottom_right_radius = box.border_bottom_left_radius = (0, 0)
        if layout_children:
            for child in box.all_children():
                layout_box_backgrounds(page, child, get_image_from_uri)
        box.background = None

    background.layout_box_backgrounds = layout_box_backgrounds
    background._coop_plain = True


def _install_shared_cascade() -> None:
    """StyleFor.__init__ (these versions) shares one computed style among elements with the same parent style, style
    attribute and matched rules, but first files every matched declaration of every element into its cascaded
    style — ~5,000 table cells a long report, nearly all sharing. In render() the matched rules are looked up
    first and only an element that computes a new style (or has a pseudo-element rule) gets its declarations filed;
    the same code as WeasyPrint's otherwise, in the same order."""
    from weasyprint import css

    if getattr(css.StyleFor, "_coop_shares", False):
        return
    init = css.StyleFor.__init__
    inf = css.inf
    find_style_attributes, preprocess_declarations = css.find_style_attributes, css.preprocess_declarations
    declaration_precedence = css.declaration_precedence

    def __init__(self, html, sheets, presentational_hints, font_config, target_collector):
        if _memo.get() is None:
            return init(self, html, sheets, presentational_hints, font_config, target_collector)
        self._cascaded_styles = cascaded_styles = {}
        self._computed_styles = computed_styles = {}
        self.initial_page_sizes = {"box": None, "area": None}
        self._sheets = sheets
        self.font_config = font_config
        css.PROGRESS_LOGGER.info("Step 3 - Applying CSS")
        layer_order = inf
        elements_declarations = {}
        for specificity, element, declarations, base_url in find_style_attributes(
                html.etree_element, presentational_hints, html.base_url):
            style = cascaded_styles.setdefault((element, None), {})
            elements_declarations[element] = tuple(declarations)
            for name, values, importance in preprocess_declarations(base_url, declarations):
                precedence = declaration_precedence("author", importance)
                weight = (precedence, layer_order, specificity)
                old_weight = style.get(name, (None, None))[1]
                if old_weight is None or old_weight <= weight:
                    style[name] = values, weight

        def file(etree_element, matched, only_pseudo):
            for sheet, origin, sheet_specificity, selector, layer_order in matched:
                specificity, order, pseudo_type, (declarations, layer) = selector
                if only_pseudo and pseudo_type is None:
                    continue
                specificity = sheet_specificity or specificity
                style = cascaded_styles.setdefault((etree_element, pseudo_type), {})
                for name, values, importance in declarations:
                    precedence = declaration_precedence(origin, importance)
                    weight = (precedence, layer_order, specificity)
                    old_weight = style.get(name, (None, None))[1]
                    if old_weight is None or old_weight <= weight:
                        style[name] = values, weight

        computed_cache = {}
        for element in html.wrapper_element.iter_subtree():
            etree_element = element.etree_element
            parent = element.parent.etree_element if element.parent else None
            parent_id = id(computed_styles[parent, None]) if element.parent else None
            element_declarations = elements_declarations.get(etree_element)
            selectors_keys = []
            matched = []
            pseudo = False
            for sheet, origin, sheet_specificity in sheets:
                for selector in sheet.matcher.match(element):
                    specificity, order, pseudo_type, (declarations, layer) = selector
                    layer_order = inf if layer is None else sheet.layers.index(layer)
                    selectors_keys.append((sheet, specificity, id(declarations), layer_order))
                    matched.append((sheet, origin, sheet_specificity, selector, layer_order))
                    pseudo = pseudo or pseudo_type is not None
            key = (parent_id, element_declarations, tuple(selectors_keys))
            if key in computed_cache:
                if pseudo:
                    file(etree_element, matched, True)
                computed_styles[etree_element, None] = computed_cache[key]
            else:
                file(etree_element, matched, False)
                self.set_computed_styles(
                    etree_element, root=html.etree_element, parent=parent,
                    base_url=html.base_url, target_collector=target_collector)
                computed_cache[key] = computed_styles[etree_element, None]

        for element, pseudo_type in cascaded_styles:
            if pseudo_type:
                self.set_computed_styles(
                    element, pseudo_type=pseudo_type, root=html.etree_element, parent=element,
                    base_url=html.base_url, target_collector=target_collector)
        self._cascaded_styles.clear()

    css.StyleFor.__init__ = __init__
    css.StyleFor._coop_shares = True


#: collapse_table_borders of these versions, edited at three places (each must be found exactly once, or nothing is
#: patched): a box whose four borders are `none` is not offered to the grid (a `none` border never beats the grid's
#: own null border, compared strictly), and a style's side is read (style, width, colour, score) once, not per cell
_BORDER_EDITS = (
    ("""    def set_borders(box, x, y, w, h):
        style = box.style
""", """    def set_borders(box, x, y, w, h):
        style = box.style
        if all(style[f'border_{side}_style'] == 'none' for side in ('top', 'right', 'bottom', 'left')):
            return
"""),
    ("""        from ..draw.color import get_color

        style = box_style[f'border_{side}_style']
        width = box_style[f'border_{side}_width']
        color = get_color(box_style, f'border_{side}_color')

        # See https://www.w3.org/TR/CSS21/tables.html#border-conflict-resolution.
        score = ((1 if style == 'hidden' else 0), width, style_scores[style])

        style = style_map.get(style, style)
        previous_score, _ = border_grid[grid_y][grid_x]
        # Strict < so that the earlier call wins in case of a tie.
        if previous_score < score:
            border_grid[grid_y][grid_x] = (score, (style, width, color))
""", """        known = sides_read.get((id(box_style), side))
        if known is None or known[0] is not box_style:
            from ..draw.color import get_color

            style = box_style[f'border_{side}_style']
            width = box_style[f'border_{side}_width']
            color = get_color(box_style, f'border_{side}_color')
            score = ((1 if style == 'hidden' else 0), width, style_scores[style])
            style = style_map.get(style, style)
            known = sides_read[id(box_style), side] = (box_style, score, (style, width, color))
        _, score, border = known
        previous_score, _ = border_grid[grid_y][grid_x]
        # Strict < so that the earlier call wins in case of a tie.
        if previous_score < score:
            border_grid[grid_y][grid_x] = (score, border)
"""),
    ("""    def set_one_border(border_grid, box_style, side, grid_x, grid_y):
""", """    sides_read = {}

    def set_one_border(border_grid, box_style, side, grid_x, grid_y):
"""),
)


def _install_border_grid() -> None:
    """Resolving a collapsed grid offers every side of every cell, row, row group, column and the table to the grid
    (~47,000 calls for the 16-page 总账), reading style, width and colour each time; rows, columns and the table
    have no borders at all here. WeasyPrint's own function with the edits of _BORDER_EDITS, used in render()."""
    import inspect

    from weasyprint.formatting_structure import build
    from weasyprint.layout import table

    if getattr(build, "_coop_border_grid", False):
        return
    original = build.collapse_table_borders
    try:
        source = inspect.getsource(table.collapse_table_borders)
    except (OSError, TypeError):
        return
    for old, new in _BORDER_EDITS:
        if source.count(old) != 1:
            return
        source = source.replace(old, new)
    namespace = dict(vars(table))
    exec(compile(source, table.__file__, "exec"), namespace)
    edited = namespace["collapse_table_borders"]

    def collapse_table_borders(table_box, grid_width, grid_height):
        if _memo.get() is None:
            return original(table_box, grid_width, grid_height)
        return edited(table_box, grid_width, grid_height)

    build.collapse_table_borders = collapse_table_borders
    build._coop_border_grid = True


#: what a table cell's layout depends on besides its style and its words (all set by the table before it): the
#: cell's x, its used lengths and its (collapsed) borders; its y only moves it
_CELL_FACTS = ("position_x", "width", "height", "computed_height", "min_height", "max_height", "min_width",
               "max_width", "margin_top", "margin_right", "margin_bottom", "margin_left", "padding_top",
               "padding_right", "padding_bottom", "padding_left", "border_top_width", "border_right_width",
               "border_bottom_width", "border_left_width")


def _install_cell_memo() -> None:
    """A table cell that holds one line of words (or nothing) is laid out by WeasyPrint's general block and line
    machinery: ~5,000 cells for the 16-page 总账, ~70 % of them repeating an earlier cell exactly (本月合计, 借, an
    amount carried into 本年累计, an empty cell). In render() the first layout of such a cell is kept (its line and
    text boxes as laid out) per style, words, x, width, lengths and borders; the next cell with the same facts gets
    copies of those boxes moved down to its own y, and the height WeasyPrint gave the first. A cell that would reach
    within 1 pt of the page's bottom is laid out by WeasyPrint itself."""
    from weasyprint.formatting_structure import boxes
    from weasyprint.layout import block

    if getattr(block, "_coop_cells", False):
        return
    layout = block.block_container_layout
    TableCellBox, LineBox, TextBox = boxes.TableCellBox, boxes.LineBox, boxes.TextBox

    def clone(box):
        new = box.copy()
        if isinstance(box, boxes.ParentBox):
            new.children = [clone(child) for child in box.children]
        return new

    def block_container_layout(context, box, bottom_space, skip_stack, page_is_empty, absolute_boxes, fixed_boxes,
                               adjoining_margins, first_letter_style, first_line_style, discard, max_lines):
        memo = _memo.get()
        args = (context, box, bottom_space, skip_stack, page_is_empty, absolute_boxes, fixed_boxes,
                adjoining_margins, first_letter_style, first_line_style, discard, max_lines)
        if (memo is None or type(box) is not TableCellBox or skip_stack is not None or adjoining_margins is not None
                or first_letter_style is not None or first_line_style is not None or discard or max_lines is not None
                or box.first_letter_style is not None or box.first_line_style is not None):
            return layout(*args)
        children = box.children
        if not children:
            styles, words = (box.style,), None
        elif (len(children) == 1 and type(children[0]) is LineBox and len(children[0].children) == 1
                and type(children[0].children[0]) is TextBox):
            line, text = children[0], children[0].children[0]
            styles, words = (box.style, line.style, text.style), text.text
        else:
            return layout(*args)
        facts = box.__dict__
        if not all(name in facts for name in _CELL_FACTS):  # not set up by the table layout as these versions do
            return layout(*args)
        key = (tuple(map(id, styles)), words, page_is_empty, tuple([facts[name] for name in _CELL_FACTS]))
        hit = memo.cells.get(key)
        if hit is None or any(a is not b for a, b in zip(hit[0], styles)):
            y = box.position_y
            found = layout(*args)
            if found[0] is not None and found[1] is None:
                memo.cells[key] = (styles, clone(found[0]), y, found[2:])
            return found
        _, laid, y, rest = hit
        dy = box.position_y - y
        if context.overflows_page(bottom_space, laid.position_y + dy + laid.margin_height() + 1):
            return layout(*args)
        new_children = [clone(child) for child in laid.children]
        for original, child in zip(children, new_children):  # the anonymous boxes of this cell, not of the first
            child.element = original.element
            for inner, inner_original in zip(child.children, original.children):
                inner.element = inner_original.element
                if getattr(inner, "pango_layout", None) is not None:
                    inner.pango_layout._coop_shared = True
            child.translate(0, dy)
        new_box = box.copy_with_children(new_children)
        new_box.height = laid.height
        next_page, adjoining_margins, collapsing_through, max_lines = rest
        return new_box, None, dict(next_page), list(adjoining_margins), collapsing_through, max_lines

    block.block_container_layout = block_container_layout
    block._coop_cells = True


class _Recorder:
    """Stands in for the page's stream while draw_first_line draws a shared layout the first time: passes every call
    on and notes the text operators, to be issued again for the next box with that layout."""

    _NOTED = ("add_font", "set_font_size", "show_text", "set_text_rise")

    def __init__(self, stream):
        self._stream = stream
        self.calls: list[tuple] = []

    def __getattr__(self, name):
        attribute = getattr(self._stream, name)
        if name not in self._NOTED:
            return attribute

        def noted(*args):
            self.calls.append((name, args))
            return attribute(*args)
        return noted


def _install_drawing_replay() -> None:
    """Drawing a line of text walks its Pango glyph runs in Python, glyph by glyph, to write the text operators
    (~9 % of a long report). A layout shared by many boxes (the same words in the same style: _install_line_memo,
    _install_cell_memo) writes the same operators each time but for where the line starts: in a forked child's
    render() they are noted at its first drawing and written again for the others, after the new text matrix."""
    from weasyprint.draw import text as draw_text

    if getattr(draw_text, "_coop_replay", False):
        return
    draw_first_line = draw_text.draw_first_line

    def draw_line_of_text(stream, textbox, text_overflow, block_ellipsis, matrix):
        memo = _memo.get()
        layout = getattr(textbox, "pango_layout", None)
        if memo is None or not _keeping.get() or layout is None or not layout._coop_shared:
            return draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix)
        key = (id(layout), text_overflow, block_ellipsis)
        hit = memo.drawn.get(key)
        if hit is None or hit[0] is not layout or hit[1] is not textbox.style:
            recorder = _Recorder(stream)
            emojis = draw_first_line(recorder, textbox, text_overflow, block_ellipsis, matrix)
            if not emojis:
                memo.drawn[key] = (layout, textbox.style, recorder.calls)
            return emojis
        if hit[2]:  # nothing is written for a line of spaces
            stream.set_text_matrix(*matrix.values)
            for name, args in hit[2]:
                getattr(stream, name)(*args)
        return []

    draw_text.draw_first_line = draw_line_of_text
    draw_text._coop_replay = True


class _Found:
    __slots__ = ("etree_element",)

    def __init__(self, element):
        self.etree_element = element


def _quick_queries(root) -> None:
    """WeasyPrint (these versions) finds a document's <style>/<link> and its <title>/<meta>/<link> with cssselect2's
    query_all on the root: a wrapper object made and tested for each of the ~6,000 elements of a long report, twice
    (~3 % of it). Both callers read only the found elements' etree_element; for plain element names the same
    elements in the same order come from ElementTree's own walk (a name matches the local name in any namespace, as a
    type selector without a namespace does)."""
    query_all = root.query_all

    def quick(*selectors):
        if not selectors or not all(type(s) is str and s.isalpha() and s.islower() for s in selectors):
            return query_all(*selectors)
        names = set(selectors)
        return iter([_Found(element) for element in root.etree_element.iter()
                     if type(element.tag) is str and element.tag.rpartition("}")[2] in names])

    root.query_all = quick


_install_lock = threading.Lock()  # a worker rendering itself may start two renderings at once


def _install_patches() -> bool:
    """Installs what applies to this WeasyPrint; True if the version-bound patches are in."""
    import weasyprint

    with _install_lock:
        _install_caches()
        if weasyprint.__version__ not in PATCHED_VERSIONS:
            return False
        _install_border_merging()
        _install_layout_keeping()
        _install_line_memo()
        _install_percent_memo()
        _install_plain_backgrounds()
        _install_shared_cascade()
        _install_border_grid()
        _install_cell_memo()
        _install_drawing_replay()
        return True


#: whitespace beside table-structure tags: CSS drops it (between cells) or collapses it (a cell's edges), but the
#: parser and box builder would still carry a text node for each
_TABLE_SPACE = re.compile(r">\s+(?=</?(?:td|th|tr|thead|tbody|tfoot|colgroup|col|table)\b)")


def render(html: str, root: Path | None, css: str = "", font_config=None, *, keep_layouts: bool = False,
           patched: bool = True) -> bytes:
    """The PDF of `html`. `keep_layouts`: in a process that ends with this PDF (a forked child), keep each
    measured text layout for its drawing instead of shaping it again. `patched=False`: WeasyPrint's own code for
    every step the version-bound patches above take over (tests compare the two)."""
    from weasyprint import CSS

    HTML = _document_class()
    html = _TABLE_SPACE.sub(">", html)

    fonts = font_files(css)
    fetcher = make_url_fetcher(root, fonts)
    if font_config is None:
        from weasyprint.text.fonts import FontConfiguration

        font_config = FontConfiguration()
    sheets = [CSS(string=css, url_fetcher=fetcher, font_config=font_config)] if css else []
    patched = _install_patches() and patched
    token, keeping = _ours.set(patched), _keeping.set(keep_layouts and patched)
    memo = _memo.set(_Memo() if patched else None)
    try:
        document = HTML(string=html, url_fetcher=fetcher)
        if patched:
            _quick_queries(document.wrapper_element)
        return document.write_pdf(stylesheets=sheets, font_config=font_config)
    finally:
        _memo.reset(memo)
        _keeping.reset(keeping)
        _ours.reset(token)


# ---------------------------------------------------------------- the process


#: a page like ours (the family, sizes and weights, a ruled table, a chart, the page footer): rendered once here
#: before any child, so what WeasyPrint, Pango and cffi set up on first use — fonts at each size, fontsets, C types,
#: code paths — is inherited by every child instead of being set up again in each
_WARM_UP = """<!doctype html><html lang="zh-CN"><head><style>
@page {{ size: A4; margin: 10mm; font-family: {family};
  @bottom-center {{ content: "第 " counter(page) " 页 / 共 " counter(pages) " 页"; font-size: 8pt; color: #333; }}
  @bottom-right {{ content: "打印日期：2025-01-01"; font-size: 7pt; color: #666; }} }}
html {{ font-size: 9pt; }} body {{ font-family: {family}; margin: 0; }}
h1 {{ font-size: 17pt; font-weight: bold; letter-spacing: 0.3em; text-decoration: underline double; }}
.f {{ display: flex; justify-content: space-between; }}
table {{ width: 100%; border-collapse: collapse; table-layout: fixed; }}
th, td {{ border: 0.6pt solid #000; padding: 1.2pt 3pt; line-height: 1.3; overflow-wrap: anywhere; }}
th {{ font-weight: bold; background: #f2f2f2; }} tr {{ break-inside: avoid; }}
td.n {{ text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }} .neg {{ color: #c00000; }}
tr.t td {{ font-weight: bold; border-top: 1.6pt double #000; }}
.m {{ font-family: "DejaVu Sans Mono", {mono}monospace; font-size: 6pt; }}
</style></head><body><h1>总账凭证</h1><div class="f"><span>编制单位：村股份经济合作社</span><span>单位：元</span></div>
<table><colgroup><col style="width: 10%"><col style="width: 60%"><col style="width: 30%"></colgroup>
<thead><tr><th colspan="2">2025年</th><th rowspan="2">余额</th></tr><tr><th>月</th><th>摘要</th></tr></thead>
<tbody><tr><td>1</td><td>上年结转（第1笔）记-0001</td><td class="n">1,234,567.89</td></tr>
<tr class="t"><td></td><td>本年累计</td><td class="n neg">-0.01</td></tr></tbody></table>
{sizes}<div class="m">SHA-256 摘要：0123456789abcdef</div>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 440 260" width="440" height="260" font-family="{first}">
<text x="10" y="18" font-size="15" font-weight="bold">各月收支</text><text x="10" y="40" font-size="12">1月 0.5万元</text>
<rect x="50" y="50" width="10" height="100" fill="#2e7d32"/><line x1="50" y1="200" x2="400" y2="200" stroke="#555"/>
</svg></body></html>"""
_SIZES = ("6pt", "6.5pt", "7pt", "7.5pt", "8pt", "8.5pt", "9pt", "9.5pt", "10pt", "10.5pt", "11pt", "12pt", "13pt",
          "14pt", "17pt", "19pt", "20pt")


def warm_up_html(first_job: str, css: str = "") -> str:
    """The warm-up page in the family the first document names (Pango keeps fonts by the whole family list) and
    the monospaced document face of `css` (coop.documents.fonts) after DejaVu Sans Mono, like a sheet's digests."""
    found = re.search(r"font-family:\s*([^;{}<]+);", first_job)
    family = found.group(1).strip() if found else "sans-serif"
    mono = "".join(f'"{f}", ' for f in dict.fromkeys(re.findall(r'font-family: "([^"]*Mono[^"]*)"', css)))
    sizes = "".join(f'<p style="font-size: {s}">汉字 0,.-（）：<b>汉字 0</b></p>' for s in _SIZES)
    first = family.split(",")[0].strip().strip("'\"")
    return _WARM_UP.format(family=family, first=first, sizes=sizes, mono=mono)


def _read(f, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = f.read(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return bytes(buf)


def _answer(status: bytes, payload: bytes) -> bytes:
    return status + struct.pack(">Q", len(payload)) + payload


def serve(inp, out) -> None:
    from weasyprint.text.fonts import FontConfiguration

    # one font configuration for every child: fontconfig, Pango's font map and the @font-face files load once here
    configs: dict[str, FontConfiguration] = {}
    while True:
        try:
            head = json.loads(_read(inp, struct.unpack(">I", _read(inp, 4))[0]))
            html = _read(inp, head["n"]).decode("utf-8", "surrogatepass")
        except EOFError:
            return
        css = head.get("css") or ""
        root = Path(head["root"]) if head.get("root") else None
        if css not in configs:
            configs[css] = FontConfiguration()
            try:
                render(warm_up_html(html, css), root, css, configs[css])
            except Exception:  # noqa: BLE001 — only a head start: the documents render (and report) all the same
                pass
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: render, answer, exit without tidying up (the OS frees it all at once)
            os.close(r)
            gc.disable()
            try:
                data = _answer(b"P", render(html, root, css, configs[css], keep_layouts=True))
            except BaseException as exc:  # noqa: BLE001 — reported to the worker, which raises it
                data = _answer(b"E", f"{type(exc).__name__}: {exc}".encode())
            with os.fdopen(w, "wb") as f:
                f.write(data)
            os._exit(0)
        os.close(w)
        with os.fdopen(r, "rb") as f:
            data = f.read()
        _, status = os.waitpid(pid, 0)
        if len(data) < 9 or len(data) != 9 + struct.unpack(">Q", data[1:9])[0]:
            data = _answer(b"E", f"rendering process ended abnormally (status {status})".encode())
        out.write(data)
        out.flush()


if __name__ == "__main__":
    sys.path.pop(0)  # this folder: its modules (pdf, fonts…) must not shadow what WeasyPrint imports
    serve(sys.stdin.buffer, sys.stdout.buffer)
