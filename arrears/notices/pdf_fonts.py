"""The CJK font for letter PDFs: find it on this machine, and cut a small font per letter.

A Chinese font holds 30,000–65,000 glyphs. Embedding it through fpdf2 as it is costs about 0.8 s a
letter: fontTools parses the whole collection and subsets CFF outlines glyph by glyph, every time.
So each face is opened once per process, each glyph is converted once to a TrueType outline and
kept, and a letter gets a font of just the characters it can print, built from those outlines in
milliseconds. fpdf2 then embeds that small font (a CID TrueType subset) as it would any other.

Nothing is ever downloaded: with no font found, `letter_fonts` raises a DomainError saying which
setting to set and that Debian's fonts-noto-cjk provides one.
"""

from __future__ import annotations

import io
import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.recordingPen import DecomposingRecordingPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, TTFont, newTable
from fontTools.ttLib.tables._g_l_y_f import Glyph

from arrears.core.errors import DomainError

# A face that cannot print these is not a Chinese font, whatever its name says.
PROBE = "物业费催缴函"


@dataclass(frozen=True)
class FontFile:
    path: str
    index: int | None = None  # the face in a .ttc collection; None: its Simplified Chinese face


@dataclass(frozen=True)
class LetterFonts:
    regular: FontFile
    bold: FontFile | None  # None: bold text is set in the regular face


def letter_fonts() -> LetterFonts:
    """The fonts named by ARREARS_PDF_FONT*, or the first of ARREARS_PDF_FONT_SEARCH on this machine."""
    configured = getattr(settings, "ARREARS_PDF_FONT", "")
    bold = getattr(settings, "ARREARS_PDF_FONT_BOLD", "")
    if bold and not os.path.isfile(bold):
        raise _missing_file("ARREARS_PDF_FONT_BOLD", bold)
    bold_file = FontFile(bold, getattr(settings, "ARREARS_PDF_FONT_BOLD_INDEX", None)) if bold else None
    if configured:
        if not os.path.isfile(configured):
            raise _missing_file("ARREARS_PDF_FONT", configured)
        return LetterFonts(FontFile(configured, getattr(settings, "ARREARS_PDF_FONT_INDEX", None)), bold_file)
    for regular, sibling in getattr(settings, "ARREARS_PDF_FONT_SEARCH", ()):
        if os.path.isfile(regular):
            if bold_file is None and sibling and os.path.isfile(sibling):
                bold_file = FontFile(sibling)
            return LetterFonts(FontFile(regular), bold_file)
    raise DomainError(
        "找不到可用于生成函件 PDF 的中文字体：请将 ARREARS_PDF_FONT 设置为字体文件（.ttc/.otf/.ttf）的路径；"
        "Debian/Ubuntu 可安装 fonts-noto-cjk 软件包（apt-get install fonts-noto-cjk）。",
        "No Chinese font for letter PDFs: set ARREARS_PDF_FONT to the path of a .ttc/.otf/.ttf font file; "
        "on Debian or Ubuntu the fonts-noto-cjk package provides one (apt-get install fonts-noto-cjk).",
        code="pdf_font_missing",
    )


def _missing_file(setting: str, path: str) -> DomainError:
    return DomainError(
        f"{setting} 指定的字体文件不存在：{path}",
        f"The font file named by {setting} does not exist: {path}",
        code="pdf_font_missing",
    )


def face_for(font: FontFile, *, bold: bool = False) -> Face:
    """The process's one open copy of `font`, with the outlines it has converted so far."""
    path = os.path.realpath(font.path)
    with _faces_lock:
        index = font.index
        if index is None:
            index = _picked.get((path, bold))
            if index is None:
                index = _picked[(path, bold)] = pick_face(path, bold=bold)
        face = _faces.get((path, index))
        if face is None:
            face = _faces[(path, index)] = Face(path, index)
        return face


_faces: dict[tuple[str, int], Face] = {}
_picked: dict[tuple[str, bool], int] = {}
_faces_lock = threading.Lock()


class Face:
    """One face of a font file, opened lazily; `font_bytes(chars)` is a small TrueType font."""

    def __init__(self, path: str, index: int):
        self.path, self.index = path, index
        self._lock = threading.Lock()
        try:
            self._master = TTFont(path, fontNumber=self.index, lazy=True, recalcTimestamp=False)
            self._cmap = self._master.getBestCmap() or {}
        except Exception as exc:  # a damaged file or a wrong index: say which setting to fix
            raise DomainError(
                f"无法读取字体文件 {path}（第 {self.index} 个字面）：{exc}",
                f"Cannot read font {path} (face {self.index}): {exc}",
                code="pdf_font_unreadable",
            ) from exc
        if any(ord(char) not in self._cmap for char in PROBE):
            raise DomainError(
                f"字体 {path}（第 {self.index} 个字面）不含中文字形，请换一个中文字体（ARREARS_PDF_FONT）。",
                f"Font {path} (face {self.index}) has no Chinese glyphs: set ARREARS_PDF_FONT to a CJK font.",
                code="pdf_font_not_cjk",
            )
        self._glyphs = self._master.getGlyphSet()
        self._is_cff = "CFF " in self._master or "CFF2" in self._master
        self._upem = self._master["head"].unitsPerEm
        self._outlines: dict[str, _Outline] = {}

    def has(self, char: str) -> bool:
        return ord(char) in self._cmap

    def font_bytes(self, chars: Iterable[str]) -> bytes:
        """A TrueType font of `chars` (those this face has) and .notdef, the same bytes every time."""
        codes = sorted({ord(char) for char in chars} & self._cmap.keys())
        with self._lock:  # fontTools reads the file lazily: one reader at a time
            names = [".notdef"]
            for code in codes:
                if self._cmap[code] not in names:
                    names.append(self._cmap[code])
            outlines = {name: self._outline(name) for name in names}
            return self._build(names, {code: self._cmap[code] for code in codes}, outlines)

    def _outline(self, name: str) -> _Outline:
        outline = self._outlines.get(name)
        if outline is None:
            # Decompose components, turn cubic curves into quadratic ones within 1/1000 em
            # (0.004 mm at 12 pt) and keep the compiled glyph: converted once per process.
            recording = DecomposingRecordingPen(self._glyphs)
            self._glyphs[name].draw(recording)
            pen = TTGlyphPen(None)
            recording.replay(Cu2QuPen(pen, max_err=self._upem / 1000, reverse_direction=self._is_cff))
            glyph = pen.glyph()
            glyph.recalcBounds(None)
            contours = max(glyph.numberOfContours, 0)
            outline = self._outlines[name] = _Outline(
                data=glyph.compile(None, recalcBBoxes=False),
                advance=self._master["hmtx"][name][0],
                left_bearing=getattr(glyph, "xMin", 0) if contours else 0,
                points=len(glyph.coordinates) if contours else 0,
                contours=contours,
            )
        return outline

    def _build(self, names: list[str], cmap: dict[int, str], outlines: dict[str, _Outline]) -> bytes:
        master = self._master
        builder = FontBuilder(self._upem, isTTF=True)
        # Bounding boxes come from the master (a superset) and each outline's own header: not
        # recomputing them keeps the build in milliseconds and the bytes fixed.
        builder.font.recalcBBoxes = False
        builder.setupGlyphOrder(names)
        builder.setupCharacterMap(cmap)
        glyf = newTable("glyf")
        glyf.glyphOrder = names
        glyf.glyphs = {name: Glyph(outlines[name].data) for name in names}
        builder.font["glyf"] = glyf
        builder.font["loca"] = newTable("loca")
        builder.setupHorizontalMetrics({name: (outlines[name].advance, outlines[name].left_bearing) for name in names})
        hhea = master["hhea"]
        builder.setupHorizontalHeader(
            ascent=hhea.ascent, descent=hhea.descent, lineGap=hhea.lineGap,
            advanceWidthMax=max(outline.advance for outline in outlines.values()),
        )
        naming = master["name"]
        strings = {
            "familyName": naming.getBestFamilyName(),
            "styleName": naming.getBestSubFamilyName(),
            "fullName": naming.getBestFullName(),
            "psName": naming.getDebugName(6) or re.sub(r"[^A-Za-z0-9-]", "", naming.getBestFullName()),
        }
        for key, name_id in (("copyright", 0), ("licenseDescription", 13), ("licenseInfoURL", 14)):
            if naming.getDebugName(name_id):
                strings[key] = naming.getDebugName(name_id)
        builder.setupNameTable(strings, mac=False)
        os2 = master["OS/2"]
        builder.setupOS2(
            usWeightClass=os2.usWeightClass, fsType=os2.fsType,
            sTypoAscender=os2.sTypoAscender, sTypoDescender=os2.sTypoDescender, sTypoLineGap=os2.sTypoLineGap,
            usWinAscent=os2.usWinAscent, usWinDescent=os2.usWinDescent,
            sxHeight=getattr(os2, "sxHeight", 0), sCapHeight=getattr(os2, "sCapHeight", 0),
            yStrikeoutSize=os2.yStrikeoutSize, yStrikeoutPosition=os2.yStrikeoutPosition,
        )
        post = master["post"]
        builder.setupPost(underlinePosition=post.underlinePosition, underlineThickness=post.underlineThickness)
        head = master["head"]
        builder.updateHead(
            created=head.created, modified=head.modified, fontRevision=head.fontRevision,
            xMin=head.xMin, yMin=head.yMin, xMax=head.xMax, yMax=head.yMax,
        )
        maxp = builder.font["maxp"]
        maxp.numGlyphs = len(names)
        maxp.maxPoints = max(outline.points for outline in outlines.values())
        maxp.maxContours = max(outline.contours for outline in outlines.values())
        out = io.BytesIO()
        builder.save(out)
        return out.getvalue()


@dataclass(frozen=True)
class _Outline:
    data: bytes  # a compiled, hint-free TrueType glyph
    advance: int
    left_bearing: int
    points: int
    contours: int


def pick_face(path: str, *, bold: bool = False) -> int:
    """The face of a collection to print Simplified Chinese with; 0 for a single font."""
    with open(path, "rb") as file:
        if file.read(4) != b"ttcf":
            return 0
    collection = TTCollection(path, lazy=True)
    try:
        faces = [(font["name"].getBestFamilyName() or "", font["name"].getBestSubFamilyName() or "")
                 for font in collection.fonts]
    finally:
        collection.close()
    weights = ("Bold", "Semibold", "Medium") if bold else ("Regular", "Book", "Medium")

    def score(item: tuple[int, tuple[str, str]]) -> tuple[int, int, int]:
        index, (family, style) = item
        simplified = bool(re.search(r"\bSC\b|\bGB\b|Hans|简", family))
        weight = len(weights) - weights.index(style) if style in weights else 0
        return (simplified, weight, -index)

    return max(enumerate(faces), key=score)[0]
