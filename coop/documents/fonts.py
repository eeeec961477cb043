"""The CJK font of the PDFs: a subset of the system's Noto Sans CJK SC (regular and bold) holding GB2312, ASCII,
CJK and full-width punctuation and the 大写 numerals, built from the system font with fontTools and kept in a
cache folder; the full system font stays behind it in font-family for rare characters (names such as 㛃, 䶮, 𠮷).
The same subset of Noto Sans Mono CJK SC serves the CJK words of monospaced lines (a 财务公开 sheet's digests).

Why: for every PDF WeasyPrint copies each face it uses whole into memory to subset it — the two Noto Sans CJK
collections are ~40 MB — so a worker's memory swung by hundreds of MB and every PDF paid the copy. A 3.5 MB face
holds the same glyphs, metrics and OpenType features for the characters documents use, so a page looks the same.

Built by `scripts/setup` (`python -m coop.documents.fonts`, ~20 s of CPU) or on first use in the background; until
it exists, or if it cannot be built (no fontTools, no system font), documents use the full font as before.
"""
from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

#: the family documents name first (PDF_FONT_FAMILY); the subset's own name, so it never stands in for the full font
FAMILY = "Coop Noto Sans CJK SC"
#: the monospaced one, named after "DejaVu Sans Mono" where a template wants monospace (fontconfig's CJK monospace
#: is Noto Sans Mono CJK SC: the same glyphs, but a 20 MB face loaded and subset for a line of each sheet)
MONO_FAMILY = "Coop Noto Sans Mono CJK SC"
#: bump when the character set or the subsetting options change: the cache key includes it
VERSION = "1"
#: subset → (system file, CSS weight, face in the file, our family)
SOURCES = {
    "regular": ("NotoSansCJK-Regular.ttc", 400, "Noto Sans CJK SC", FAMILY),
    "bold": ("NotoSansCJK-Bold.ttc", 700, "Noto Sans CJK SC", FAMILY),
    "mono": ("NotoSansCJK-Regular.ttc", 400, "Noto Sans Mono CJK SC", MONO_FAMILY),
}
FONT_DIRS = ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/noto-cjk", "/usr/share/fonts/google-noto-cjk",
             "/usr/share/fonts/truetype/noto")
#: characters outside GB2312 that documents print: 大写 amounts, punctuation and marks of the templates
EXTRA = "零壹贰叁肆伍陆柒捌玖拾佰仟万亿圆元角分整正负￥¥·—–‘’“”…、。，：；！？（）《》【】〔〕＿⎙✓✔✗×÷≤≥±％‰℃№①②③④⑤⑥⑦⑧⑨⑩"


def charset() -> str:
    chars = {chr(c) for c in range(0x20, 0x7F)} | {chr(c) for c in range(0xA0, 0x100)}
    chars |= {chr(c) for c in range(0x2000, 0x2070)} | {chr(c) for c in range(0x3000, 0x3040)}
    chars |= {chr(c) for c in range(0xFF00, 0xFFF0)} | set(EXTRA)
    for hi in range(0xA1, 0xF8):  # GB2312: 6,763 hanzi and 682 symbols
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes((hi, lo)).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return "".join(sorted(chars))


def cache_dir() -> Path:
    base = os.environ.get("COOP_FONT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "coop", "fonts")
    return Path(base)


def find_source(name: str) -> Path | None:
    for d in FONT_DIRS:
        p = Path(d) / name
        if p.is_file():
            return p
    return None


def _key(source: Path) -> str:
    st = source.stat()
    return hashlib.sha256(f"{VERSION}|{source}|{st.st_size}|{int(st.st_mtime)}".encode()).hexdigest()[:12]


def subset_path(weight: str) -> Path | None:
    """Where the subset of `weight` is (or would be) kept; None without the system font."""
    source = find_source(SOURCES[weight][0])
    return cache_dir() / f"coop-cjk-sc-{weight}-{_key(source)}.otf" if source else None


def available() -> dict[str, Path]:
    """The subsets that exist now, by name (all or none: a regular face beside a synthetic bold would change the
    look)."""
    paths = {w: subset_path(w) for w in SOURCES}
    if all(p is not None and p.is_file() for p in paths.values()):
        return paths  # type: ignore[return-value]
    return {}


def font_face_css() -> str:
    """@font-face rules for the subset, or '' while it does not exist (the full font then serves)."""
    return "".join(
        f'@font-face {{ font-family: "{SOURCES[w][3]}"; font-weight: {SOURCES[w][1]}; src: url("{p.as_uri()}"); }}\n'
        for w, p in available().items())


def build(weight: str) -> Path:
    """Subset one face of Noto Sans CJK into the cache (atomically: a reader never sees half a file)."""
    from fontTools import subset
    from fontTools.ttLib import TTCollection

    dest = subset_path(weight)
    if dest is None:
        raise FileNotFoundError(f"Noto Sans CJK ({SOURCES[weight][0]}) is not installed")
    if dest.is_file():
        return dest
    source = find_source(SOURCES[weight][0])
    collection = TTCollection(str(source), lazy=True)
    font = next(f for f in collection.fonts if f["name"].getDebugName(1) == SOURCES[weight][2])
    options = subset.Options(layout_features=["*"], name_IDs=["*"], name_languages=["*"], notdef_outline=True,
                             hinting=True, glyph_names=False, desubroutinize=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in charset()])
    subsetter.subset(font)
    _rename(font, weight)
    font.recalcTimestamp = False  # the source's dates: the same system font gives the same bytes
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, suffix=".tmp")
    os.close(fd)
    try:
        font.save(tmp)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide it from a web server running as another user
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dest


def _rename(font, weight: str) -> None:
    """Family and PostScript names of our own, so fontconfig never takes the subset for the full font."""
    style = "Bold" if weight == "bold" else "Regular"
    family = SOURCES[weight][3]
    postscript = "CoopNotoSansMonoCJKsc" if weight == "mono" else "CoopNotoSansCJKsc"
    names = {1: family, 4: f"{family} {style}", 6: f"{postscript}-{style}", 16: family}
    for rec in font["name"].names:
        if rec.nameID in names:
            rec.string = names[rec.nameID]
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = [names[6]]


def build_all() -> dict[str, Path]:
    return {w: build(w) for w in SOURCES}


def build_in_background() -> bool:
    """Start building the subsets in a process of its own (once per cache folder at a time); False if it cannot."""
    if available() or subset_path("regular") is None:
        return False
    failed = cache_dir() / ".failed"
    if failed.exists() and time.time() - failed.stat().st_mtime < 86400:
        return False  # it failed lately: not again on every PDF
    lock = cache_dir() / ".building"
    try:
        cache_dir().mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        if time.time() - lock.stat().st_mtime < 600:
            return False  # another process is building it
        lock.unlink(missing_ok=True)
        return build_in_background()
    except OSError:
        return False
    os.close(fd)
    import subprocess

    root = Path(__file__).resolve().parents[2]
    subprocess.Popen([sys.executable, "-m", "coop.documents.fonts", "--unlock", str(lock)], cwd=root,
                     stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    return True


def main(argv: list[str]) -> int:
    try:
        for w, p in build_all().items():
            print(f"{w}: {p} ({p.stat().st_size // 1024} KB)")
        return 0
    except Exception as exc:  # the full font serves; say why
        print(f"document font subset not built: {exc}", file=sys.stderr)
        if "--unlock" in argv:  # a background build: remember, so PDFs do not start another each time
            try:
                (cache_dir() / ".failed").write_text(str(exc))
            except OSError:
                pass
        return 1
    finally:
        if "--unlock" in argv:
            Path(argv[argv.index("--unlock") + 1]).unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
