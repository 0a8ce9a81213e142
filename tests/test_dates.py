"""Article dates and the time in questions: table-driven, one row per format people write."""
from __future__ import annotations

import json
from datetime import date

import pytest

from rag import dates
from rag.ingest import read_paths
from rag.period import find

ARTICLE_DATES = [
    # feeds (.jsonl "date")
    ("2025-01-27T10:00:00+09:00", "2025-01-27T10:00:00+09:00"),
    ("2025-01-27T01:00:00Z", "2025-01-27T10:00:00+09:00"),  # UTC, shown as the Korean time
    ("2025-01-27T10:00:00", "2025-01-27T10:00:00+09:00"),  # no zone: KST
    ("2025-01-27 10:00", "2025-01-27T10:00:00+09:00"),
    ("2025-01-27", "2025-01-27"),  # the day alone stays a day, with no made-up time
    ("Mon, 27 Jan 2025 10:00:00 +0900", "2025-01-27T10:00:00+09:00"),  # RFC 2822, as in RSS
    ("Mon, 27 Jan 2025 16:30:00 GMT", "2025-01-28T01:30:00+09:00"),  # the next day in Korea
    ("27 Jan 2025 10:00:00 +0900", "2025-01-27T10:00:00+09:00"),
    ("2025.01.27", "2025-01-27"),
    ("2025. 1. 27.", "2025-01-27"),
    ("2025/01/27", "2025-01-27"),
    ("2025.01.28 10:21", "2025-01-28T10:21:00+09:00"),
    ("2025년 1월 27일", "2025-01-27"),
    ("2025년 1월 27일 오후 3시 5분", "2025-01-27T15:05:00+09:00"),
    ("2025년 1월 27일 오전 12:30", "2025-01-27T00:30:00+09:00"),
    # not dates: left undated, never guessed
    ("", None),
    ("어제", None),
    ("2025-02-30", None),
    ("2025.13.01", None),
    ("곧 발표", None),
]


@pytest.mark.parametrize("raw, stored", ARTICLE_DATES)
def test_article_dates_are_stored_in_one_form_with_the_korean_time_zone(raw, stored):
    assert dates.parse(raw) == stored


HEADS = [
    ("입력 2025.01.28 10:21\n본문이다.", "2025-01-28T10:21:00+09:00"),
    ("제목\n입력 2025.01.28 10:21 | 수정 2025.01.29 09:00\n본문", "2025-01-28T10:21:00+09:00"),  # 입력, not 수정
    ("기사입력 : 2025-01-28 10:21\n본문", "2025-01-28T10:21:00+09:00"),
    ("등록 2025.01.28. 오후 2:05\n본문", "2025-01-28T14:05:00+09:00"),
    ("2025년 1월 27일\n본문이다.", "2025-01-27"),  # a dateline alone on its line
    ("(서울=연합뉴스) 기자 = 본문이 지난 2025년 1월 27일 발표를 다룬다.", None),  # a day inside the story is not its date
    ("본문만 있는 기사다.\n둘째 줄.", None),
]


@pytest.mark.parametrize("text, stored", HEADS)
def test_the_date_at_the_top_of_a_text_article_is_its_date(text, stored):
    assert dates.from_text(text) == stored


def test_files_carry_their_dates_and_undated_articles_stay_undated(tmp_path):
    (tmp_path / "a.md").write_text("# 삼성전자 실적\n\n입력 2025.01.28 10:21\n\n삼성전자가 실적을 발표했다.", encoding="utf-8")
    (tmp_path / "b.txt").write_text("날짜가 없는 기사다. 본문이다.", encoding="utf-8")
    rows = [{"title": "t1", "text": "첫 기사 본문.", "date": "Mon, 27 Jan 2025 16:30:00 GMT"},
            {"title": "t2", "text": "둘째 기사 본문.", "date": "언젠가"}]
    (tmp_path / "c.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    report = read_paths([tmp_path])
    by_text = {a.text[:5]: a.date for a in report.articles}
    assert by_text == {"입력 20": "2025-01-28T10:21:00+09:00", "날짜가 없": None, "첫 기사 ": "2025-01-28T01:30:00+09:00", "둘째 기사": None}
    assert [p.where for p in report.problems] == [f"{tmp_path / 'c.jsonl'}:2"]  # the unreadable date is reported, the article kept


TODAY = date(2024, 11, 30)  # a Saturday
PERIODS = [
    # absolute days and periods
    ("1월 27일 코스피는?", "2024-01-27"),
    ("2024년 10월 27일 무슨 일", "2024-10-27"),
    ("2024.10.27 사고", "2024-10-27"),
    ("12월 3일 발표", "2023-12-03"),  # without a year: the latest one on or before today
    ("10월 27~29일 날씨", "2024-10-27 ~ 2024-10-29"),
    ("2024년 10월 뉴스", "2024-10-01 ~ 2024-10-31"),
    ("10월에 무슨 일", "2024-10-01 ~ 2024-10-31"),
    ("10월 초", "2024-10-01 ~ 2024-10-10"),
    ("10월 중순", "2024-10-11 ~ 2024-10-20"),
    ("10월 말 기온", "2024-10-21 ~ 2024-10-31"),
    ("2월 초", "2024-02-01 ~ 2024-02-10"),
    ("27일 코스피는?", "2024-11-27"),
    ("지난 27일 발표", "2024-11-27"),
    # relative to the reference day
    ("오늘 뉴스", "2024-11-30"),
    ("어제 코스피", "2024-11-29"),
    ("그저께 사고", "2024-11-28"),
    ("3일 전 발표", "2024-11-27"),
    ("지난 3일간", "2024-11-28 ~ 2024-11-30"),
    ("이번 주 소식", "2024-11-25 ~ 2024-12-01"),
    ("지난주 딥시크 소식", "2024-11-18 ~ 2024-11-24"),
    ("이번 달", "2024-11-01 ~ 2024-11-30"),
    ("지난달 실적", "2024-10-01 ~ 2024-10-31"),
    ("올해", "2024-01-01 ~ 2024-11-30"),
    ("작년 매출", "2023-01-01 ~ 2023-12-31"),
    ("최근 엔비디아", "2024-11-24 ~ 2024-11-30"),
    ("요즘 엔비디아 주가", "2024-11-24 ~ 2024-11-30"),
    # holidays from the table
    ("설 연휴에 무슨 일이 있었어?", "2024-02-09 ~ 2024-02-12"),
    ("추석 연휴 교통", "2024-09-16 ~ 2024-09-18"),
    ("2025년 추석", "2025-10-05 ~ 2025-10-08"),
    ("한글날 행사", "2024-10-09"),
    ("개천절", "2024-10-03"),
    # English
    ("what happened yesterday?", "2024-11-29"),
    ("news from last week", "2024-11-18 ~ 2024-11-24"),
    ("this month", "2024-11-01 ~ 2024-11-30"),
    ("on October 9", "2024-10-09"),
    ("October 27, 2024", "2024-10-27"),
    ("9 October", "2024-10-09"),
    ("in October", "2024-10-01 ~ 2024-10-31"),
    ("early November", "2024-11-01 ~ 2024-11-10"),
    ("late Oct", "2024-10-21 ~ 2024-10-31"),
    ("Chuseok traffic", "2024-09-16 ~ 2024-09-18"),
    ("Lunar New Year", "2024-02-09 ~ 2024-02-12"),
    ("what is happening recently?", "2024-11-24 ~ 2024-11-30"),
    # no time at all
    ("엔비디아 주가는 왜 떨어졌어?", None),
    ("설명해줘", None),
    ("설악산 단풍", None),
    ("3일 만에 복구", None),
    ("May I ask about Nvidia?", None),
    ("몇 월에 발표했어?", None),
    ("배추값 작년보다 몇 % 올랐어?", None),  # a comparison, not a period: the question is about now
    ("지난달 대비 수출은?", None),
    ("작년 같은 기간보다 늘었어?", None),
]


@pytest.mark.parametrize("question, label", PERIODS)
def test_time_in_questions_resolves_to_days(question, label):
    period = find(question, TODAY)
    assert (period.label if period else None) == label


def test_recent_asks_for_newer_articles_and_a_period_remembers_its_reference_day():
    recent, last_week = find("요즘 엔비디아 주가", TODAY), find("지난주 소식", TODAY)
    assert recent.recent and not last_week.recent
    assert last_week.reference == TODAY and last_week.said == "지난주"
