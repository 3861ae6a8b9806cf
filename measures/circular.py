"""The weekly 通报 as a Word document (python-docx), laid out as a government circular (GB/T 9704):
版头 with the issuing office in red over a red rule, 小标宋 title, 主送机关, 仿宋 body with 黑体/楷体 headings,
附件 list, signature and date, page numbers "— n —", then one attachment per table.

It renders the weekly digest (measures.digest) only, so every row it shows is a row of the digest's JSON.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

log = logging.getLogger(__name__)

# GB/T 9704-2012: fonts by role, sizes in points (三号 16, 二号 22, 四号 14, 小四 12)
TITLE_FONT, BODY_FONT, H1_FONT, H2_FONT = "方正小标宋简体", "仿宋_GB2312", "黑体", "楷体_GB2312"
FALLBACK = {"仿宋_GB2312": "仿宋", "楷体_GB2312": "楷体"}  # the name Word/LibreOffice try next
RED = RGBColor(0xE6, 0x00, 0x12)
BODY_PT, TITLE_PT, TABLE_PT, PAGE_PT = 16, 22, 10.5, 14


@dataclass(frozen=True)
class Column:
    header: str
    text: Callable[[dict[str, Any]], str]
    link: Callable[[dict[str, Any]], list[tuple[str, str]]] | None = None  # (url, caption) pairs


def _links(key: str, caption: str = "链接") -> Callable[[dict[str, Any]], list[tuple[str, str]]]:
    return lambda r: [(r[key], caption)] if r.get(key) else []


def _evidence_links(r: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["url"], e["text"]) for e in r.get("evidence") or []]


def _site(r: dict[str, Any]) -> str:
    return r["site_id"]


# attachment tables: (title, digest key, columns); the test reads the .docx back against these
TABLES: list[tuple[str, str, list[Column]]] = [
    ("单项否决指标未达标网站", "veto", [
        Column("网站", _site), Column("主办单位", lambda r: r["agency"]), Column("指标", lambda r: r["label"]),
        Column("问题", lambda r: r["finding"]),
        Column("证据", lambda r: "；".join(e["text"] for e in r["evidence"]), _evidence_links)]),
    ("本周未更新网站", "other_failures", [
        Column("网站", _site), Column("主办单位", lambda r: r["agency"]), Column("指标", lambda r: r["label"]),
        Column("问题", lambda r: r["finding"]),
        Column("证据", lambda r: "；".join(e["text"] for e in r["evidence"]), _evidence_links)]),
    ("超期未更新栏目", "stale_columns", [
        Column("网站", _site), Column("主办单位", lambda r: r["agency"]), Column("栏目", lambda r: r["column"]),
        Column("类型", lambda r: r["column_type"]), Column("最后更新", lambda r: str(r["last_update"])),
        Column("未更新天数", lambda r: "" if r["age_days"] is None else str(r["age_days"])),
        Column("证据", lambda r: "链接" if r["url"] else "", _links("url"))]),
    ("空白栏目", "blank_columns", [
        Column("网站", _site), Column("主办单位", lambda r: r["agency"]), Column("栏目", lambda r: r["column"]),
        Column("证据", lambda r: "链接" if r["url"] else "", _links("url"))]),
    ("逾期未办事项（按单位）", "overdue", [
        Column("单位", lambda r: r["agency"], _links("agency_url", "")), Column("职责", lambda r: r["label"]),
        Column("事项", lambda r: r["item"]), Column("时限", lambda r: r["deadline"]),
        Column("状态", lambda r: r["status"]), Column("证据", lambda r: "链接" if r["url"] else "", _links("url"))]),
    ("本周新增问题", "newly_failing", [
        Column("单位或网站", lambda r: r["who"]), Column("指标", lambda r: r["label"]),
        Column("问题", lambda r: r["finding"]), Column("证据", lambda r: "链接" if r["url"] else "", _links("url"))]),
    ("较上周改进的单位", "improved", [
        Column("单位", lambda r: r["agency"], _links("agency_url", "")), Column("上周问题数", lambda r: str(r["before"])),
        Column("本周问题数", lambda r: str(r["after"]))]),
]


# ---------------------------------------------------------------- low-level formatting


def _font(run, name: str, size: float, bold: bool = False, color: RGBColor | None = None) -> None:
    """A run in a Chinese font: the east-Asian slot is what Word uses for CJK text."""
    run.font.name = FALLBACK.get(name, name)
    run.font.size = Pt(size)
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), name)


def _para(doc, text: str = "", font: str = BODY_FONT, size: float = BODY_PT, align=None, indent: bool = False,
          bold: bool = False, color: RGBColor | None = None):
    p = doc.add_paragraph()
    p.paragraph_format.line_spacing = Pt(28)  # 每页22行 at 三号
    p.paragraph_format.space_after = Pt(0)
    if align is not None:
        p.alignment = align
    if indent:
        p.paragraph_format.first_line_indent = Pt(size * 2)  # 首行缩进2字
    if text:
        _font(p.add_run(text), font, size, bold, color)
    return p


def _hyperlink(paragraph, url: str, text: str, size: float = TABLE_PT) -> None:
    """An external hyperlink (python-docx has no API for it)."""
    r_id = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), r_id)
    run = OxmlElement("w:r")
    props = OxmlElement("w:rPr")
    fonts = OxmlElement("w:rFonts")
    fonts.set(qn("w:eastAsia"), BODY_FONT)
    fonts.set(qn("w:ascii"), "仿宋")
    props.append(fonts)
    for tag, val in (("w:color", "0563C1"), ("w:u", "single"), ("w:sz", str(int(size * 2)))):
        el = OxmlElement(tag)
        el.set(qn("w:val"), val)
        props.append(el)
    run.append(props)
    t = OxmlElement("w:t")
    t.text = text
    t.set(qn("xml:space"), "preserve")
    run.append(t)
    link.append(run)
    paragraph._p.append(link)


def _red_rule(paragraph) -> None:
    """The red separator line under the 版头 (a bottom border of the office paragraph)."""
    p_pr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "12"), ("w:space", "12"), ("w:color", "E60012")):
        bottom.set(qn(k), v)
    borders.append(bottom)
    p_pr.append(borders)


def _page_numbers(section) -> None:
    """Footer "— n —" in 四号 宋体 (GB/T 9704 7.5)."""
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run("— "), "宋体", PAGE_PT)
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    t = OxmlElement("w:t")
    t.text = "1"
    run.append(t)
    field.append(run)
    p._p.append(field)
    _font(p.add_run(" —"), "宋体", PAGE_PT)


def _page_setup(section) -> None:
    """A4, margins of GB/T 9704 (天头37mm, 订口28mm)."""
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)


# ---------------------------------------------------------------- the circular


def _table(doc, columns: list[Column], rows: list[dict[str, Any]]) -> None:
    table = doc.add_table(rows=1, cols=len(columns) + 1)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, header in zip(table.rows[0].cells, ["序号", *(c.header for c in columns)], strict=True):
        cell.text = ""
        _font(cell.paragraphs[0].add_run(header), H1_FONT, TABLE_PT)
    for n, row in enumerate(rows, 1):
        cells = table.add_row().cells
        _font(cells[0].paragraphs[0].add_run(str(n)), BODY_FONT, TABLE_PT)
        for cell, col in zip(cells[1:], columns, strict=True):
            text = col.text(row)
            links = col.link(row) if col.link else []
            if not links:
                _font(cell.paragraphs[0].add_run(text), BODY_FONT, TABLE_PT)
            for i, (url, caption) in enumerate(links):  # evidence captions, or a name linking to its page
                if i:
                    _font(cell.paragraphs[0].add_run("；"), BODY_FONT, TABLE_PT)
                _hyperlink(cell.paragraphs[0], url, caption or text)


def _attachments(digest: dict[str, Any]) -> list[tuple[str, str, list[Column]]]:
    """The tables that have rows (an empty table is said in the body, not attached)."""
    return [t for t in TABLES if digest.get(t[1])]


def _body(doc, digest: dict[str, Any], attached: list[tuple[str, str, list[Column]]]) -> None:
    s = digest["summary"]
    _para(doc, "一、总体情况", H1_FONT, indent=True)
    _para(doc, digest["summary_text"], indent=True)
    _para(doc, "二、主要问题", H1_FONT, indent=True)
    numbers = {key: n for n, (_, key, _) in enumerate(attached, 1)}
    findings = [
        ("（一）单项否决指标。", f"{s['veto_sites']}个网站触及单项否决指标", ["veto"]),
        ("（二）网站栏目更新。", f"{s['not_updated_sites']}个网站本周未更新，超期未更新栏目{s['stale_columns']}个，"
                           f"空白栏目{s['blank_columns']}个", ["other_failures", "stale_columns", "blank_columns"]),
        ("（三）时效类职责。", f"逾期未办事项{s['overdue_items']}件", ["overdue"]),
        ("（四）本周新增问题。", f"本周新增问题{s['newly_failing']}项", ["newly_failing"]),
        ("（五）改进情况。", f"较上周问题减少的单位{s['improved_agencies']}个", ["improved"]),
    ]
    for head, text, keys in findings:
        refs = "、".join(str(numbers[k]) for k in keys if k in numbers)
        p = _para(doc, indent=True)
        _font(p.add_run(head), H2_FONT, BODY_PT)
        _font(p.add_run(text + (f"，详见附件{refs}。" if refs else "。")), BODY_FONT, BODY_PT)
    if digest["not_judged"]:
        _para(doc, "三、暂无法评估事项", H1_FONT, indent=True)
        for line in digest["not_judged"]:
            _para(doc, line["line"] + "。", indent=True)
    if digest.get("report_url"):
        _para(doc, f"详细数据见监测平台：{digest['report_url']}", indent=True)


def write_circular(digest: dict[str, Any], path: str | Path) -> Path:
    """The 通报 .docx of a weekly digest."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = Document()
    section = doc.sections[0]
    _page_setup(section)
    _page_numbers(section)
    head = _para(doc, digest["office"], TITLE_FONT, 26, WD_ALIGN_PARAGRAPH.CENTER, color=RED)
    _red_rule(head)
    _para(doc)
    _para(doc, digest["title"], TITLE_FONT, TITLE_PT, WD_ALIGN_PARAGRAPH.CENTER)
    _para(doc)
    _para(doc, digest["recipients"])
    _para(doc, "现将本周（" + digest["week"]["period"] + "）政府网站和政务公开工作监测情况通报如下：", indent=True)
    attached = _attachments(digest)
    _body(doc, digest, attached)
    _para(doc)
    for n, (title, _, _) in enumerate(attached, 1):  # 附件说明: "附件：1．…" then aligned numbers
        _para(doc, ("附件：" if n == 1 else "　　　") + f"{n}．{title}", indent=True)
    _para(doc)
    end = digest["as_of"].split("-")  # the issue date: the day the week is reported
    _para(doc, digest["signature"], align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(doc, f"{end[0]}年{int(end[1])}月{int(end[2])}日", align=WD_ALIGN_PARAGRAPH.RIGHT)
    for n, (title, key, columns) in enumerate(attached, 1):
        new = doc.add_section(WD_SECTION.NEW_PAGE)
        _page_setup(new)
        _para(doc, f"附件{n}", H1_FONT)
        _para(doc, title, TITLE_FONT, TITLE_PT, WD_ALIGN_PARAGRAPH.CENTER)
        _table(doc, columns, digest[key])
    doc.save(path)
    return path


def to_pdf(docx_path: str | Path, out_dir: str | Path | None = None, timeout: float = 180) -> Path | None:
    """The .docx as PDF through LibreOffice when installed (never required); None without it."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        return None
    docx_path = Path(docx_path)
    out = Path(out_dir or docx_path.parent)
    subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(out), str(docx_path)],
                   check=True, capture_output=True, timeout=timeout)
    pdf = out / (docx_path.stem + ".pdf")
    return pdf if pdf.exists() else None


__all__ = ["TABLES", "to_pdf", "write_circular"]
