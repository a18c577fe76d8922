"""The court evidence pack: one ZIP per case and date, byte-identical, hashed, nothing after the date."""

import hashlib
import io
import shutil
import subprocess
import zipfile
from datetime import date
from decimal import Decimal

import pytest

from arrears.legal import evidence_pack
from arrears.legal.claims import claim
from tests.legal.pack.conftest import AS_OF, LETTER_PDF, RECORDING, _attempt, at

pytestmark = pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext (poppler-utils) is not installed")


def pack_bytes(case, as_of=AS_OF) -> bytes:
    return evidence_pack.to_bytes(evidence_pack.build(case, as_of))


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def text(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def test_it_builds_the_same_bytes_twice(case, evidence):
    # when
    first, second = pack_bytes(case), pack_bytes(case)
    # then
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2026, 5, 9, 0, 0, 0)}


def test_it_lists_every_file_in_a_fixed_order_with_the_manifest_last(case, evidence):
    # when
    names = list(members(pack_bytes(case)))
    # then
    assert names == [
        "00_证据目录.pdf",
        "01_合同与收费依据/contract_物业服务合同_2024_2027.pdf",
        "02_房屋产权记录.pdf",
        "03_欠费及违约金计算明细.pdf",
        "04_函件/01_YG-CF-2026-000001.pdf",
        "05_催收记录.pdf",
        "05_催收记录附件/001_第1条_录音.m4a",
        "06_承诺与分期.pdf",
        "07_缴费记录.pdf",
        "08_投诉异议与工单.pdf",
        "09_时效中断事件.pdf",
        "manifest.txt",
    ]


def test_the_manifest_hashes_every_other_file(case, evidence):
    # given
    files = members(pack_bytes(case))
    manifest = files.pop("manifest.txt").decode()
    # when
    listed = dict(reversed(line.split("  ", 1)) for line in manifest.splitlines())
    # then
    assert listed == {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    assert files["05_催收记录附件/001_第1条_录音.m4a"] == RECORDING
    assert files["04_函件/01_YG-CF-2026-000001.pdf"] == LETTER_PDF


def test_the_index_numbers_every_item_and_says_what_is_not_uploaded(case, evidence):
    # when
    index = text(members(pack_bytes(case))["00_证据目录.pdf"])
    # then: items 1 to 9 numbered, each with its file
    for number in ("1.1", "1.2", "2", "3", "4.1", "5.1", "5.2", "6", "7", "8", "9.1"):
        assert f"\n {number} " in index or f"\n{number} " in index, number
    assert "物业服务合同：物业服务合同（2024—2027）" in index
    assert "收费标准依据：未上传" in index
    assert "YG-CF-2026-000001" in index and "EA123456789CN" in index
    assert "催收记录 3 条（其中被拦截 1 条）" in index
    for name in ("02_房屋产权记录.pdf", "03_欠费及违约金计算明细.pdf", "05_催收记录.pdf", "06_承诺与分期.pdf",
                 "07_缴费记录.pdf", "08_投诉异议与工单.pdf", "09_时效中断事件.pdf"):
        assert name in index


def test_it_shows_nothing_after_the_date(case, evidence):
    # when
    files = members(pack_bytes(case))
    everything = "".join(text(data) for name, data in files.items() if name.endswith(".pdf") and "/" not in name)
    # then: no later contract, letter, call, late-logged call, photo, payment or ticket resolution
    assert not any("续签" in name or "YG-LS" in name or "照片" in name for name in files)
    for later in ("续签", "YG-LS-2026-000009", "次日电话", "补录", "R-LATER-0002", "77.00", "更换电梯主板", "2026-05-10"):
        assert later not in everything, later
    # and the ticket shows as it stood on the 9th
    assert "电梯长期故障无人修" in text(files["08_投诉异议与工单.pdf"])


def test_the_contact_log_shows_the_blocked_call_with_its_rule_and_the_correction(case, evidence):
    # when
    log = text(members(pack_bytes(case))["05_催收记录.pdf"])
    # then
    assert "已拦截：不在可联系时段——22:30 不在可联系时段（21:00 后）" in log.replace("\n", "").replace(" ", "")\
        or "已拦截：不在可联系时段" in log
    assert "22:30" in log and "(21:00" in log.replace("（", "(")
    assert "已被第 2 条更正" in log and "更正第 1 条：金额记错：应为500元" in log
    assert hashlib.sha256(RECORDING).hexdigest()[:40] in log.replace("\n", "").replace(" ", "") or \
        hashlib.sha256(RECORDING).hexdigest()[:20] in log


def test_a_correction_logged_after_the_date_does_not_supersede_yet(case, evidence):
    # when: the pack as of the 8th, before the correction was logged on the 9th
    log = text(members(pack_bytes(case, date(2026, 5, 8)))["05_催收记录.pdf"])
    # then
    assert "业主答应5月17日缴600元" in log and "500元" not in log and "已被第" not in log


def test_the_statement_states_the_claim_per_charge(case, evidence):
    # given: January to April at 200.00 (100 m² × 2.00), due the 5th, 0.05% a day; January paid on 20 January
    owed = claim(unit_id=case.unit_id, owner_id=case.owner_id, as_of=AS_OF)
    # when
    statement = " ".join(text(members(pack_bytes(case))["03_欠费及违约金计算明细.pdf"]).split())
    # then: January 15 days × 0.10 = 1.50 (piecewise: paid), February 93 days = 9.30, March 65 = 6.50, April 34 = 3.40
    assert owed.total == Decimal("620.70")
    assert "欠费本金 ¥600.00，违约金 ¥20.70，合计 ¥620.70" in statement
    assert "2026-01-05 200.00 200.00 0.00 0.00 0.05%/日 0 分段* 本金的 100% 1.50" in statement
    assert "2026-02-05 200.00 0.00 0.00 200.00 0.05%/日 0 93 本金的 100% 9.30" in statement
    assert "2026-04-05 200.00 0.00 0.00 200.00 0.05%/日 0 34 本金的 100% 3.40" in statement
    assert "合计 800.00 200.00 0.00 600.00 20.70" in statement


def test_the_limitation_item_points_at_the_recording(case, evidence):
    # when
    limitation_text = text(members(pack_bytes(case))["09_时效中断事件.pdf"])
    # then
    assert "业主承诺缴费" in limitation_text and "001_第1条_录音.m4a" in limitation_text.replace("\n", "")


def test_a_missing_stored_file_is_listed_as_missing_and_the_pack_still_builds(case, evidence):
    # given: the recording's file is gone from storage
    recording = evidence["recording"]
    recording.file.storage.delete(recording.file.name)
    # when
    pack = evidence_pack.build(case, AS_OF)
    log = text(dict(pack.entries)["05_催收记录.pdf"])
    # then: listed as missing, left out of the ZIP rather than failing the pack
    assert "文件缺失" in log
    assert "05_催收记录附件/001_第1条_录音.m4a" not in members(evidence_pack.to_bytes(pack))


def test_the_day_ends_at_midnight_in_shanghai(case, insider):
    # given: a call at 23:59 on the 9th and one at 00:00 on the 10th, Shanghai time (15:59 and 16:00 UTC)
    _attempt(case, insider, at(9, 23, 59), outcome="answered", notes="九日深夜的记录")
    _attempt(case, insider, at(10, 0, 0), outcome="answered", notes="十日零点的记录")
    # when
    log = text(members(pack_bytes(case))["05_催收记录.pdf"])
    # then
    assert "九日深夜的记录" in log and "十日零点的记录" not in log


def test_stored_files_are_copied_a_chunk_at_a_time(case, evidence, monkeypatch):
    # given: chunks of 7 bytes, so the 37-byte recording takes six reads
    monkeypatch.setattr(evidence_pack, "CHUNK", 7)
    # when
    files = members(pack_bytes(case))
    # then
    assert files["05_催收记录附件/001_第1条_录音.m4a"] == RECORDING
    assert f"{hashlib.sha256(RECORDING).hexdigest()}  05_催收记录附件/001_第1条_录音.m4a" in files["manifest.txt"].decode()
