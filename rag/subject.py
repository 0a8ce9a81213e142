"""Whose fact, and when: an answer sentence must not give one subject's fact to another.

The citation check compares words, and the words can all match while the subject changed:
"브로드컴 주가는 … 5,930억달러 감소" rests word for word on "엔비디아는 전 날 하락으로 시가총액이
5,930억달러 감소…". A follow-up ("그럼 브로드컴은?", "그럼 작년엔?") invites exactly that slip.
"""
from __future__ import annotations

from .korean import NOUN_TAGS, PROPER_TAGS, SUBJECT_TAGS, key, kiwi


def question_subjects(question: str) -> set[str]:
    """What the question is about: its leading noun phrase and its names, as keys.

    >>> sorted(question_subjects("그럼 오픈AI 기업가치 얼마야?")), sorted(question_subjects("브로드컴 주가는 왜 떨어졌어?"))
    (['오픈ai'], ['브로드컴'])
    """
    toks = kiwi().tokenize(question)
    runs = noun_runs(question, toks)
    lead = [r for r in runs if any(t.tag in SUBJECT_TAGS for t in r[1])][:1]
    named = [r for r in runs if any(t.tag in PROPER_TAGS for t in r[1])]
    return {key(text) for text, _ in lead + named if len(key(text)) > 1}


def hangul_names(question: str) -> set[str]:
    """The question's names written in Hangul, as keys (an English name may be spelled in
    Hangul by the article: no verdict on those).

    >>> sorted(hangul_names("일본 새 총리 누구야?")), sorted(hangul_names("Nvidia 주가 왜 떨어졌어?"))
    (['일본'], [])
    """
    toks = kiwi().tokenize(question)
    runs = noun_runs(question, toks)
    return {k for text, run in runs if any(t.tag in PROPER_TAGS for t in run) and _hangul(text) and len(k := key(text)) > 1}


def names_none_of(names: set[str], article_text: str) -> bool:
    """The article names none of the question's names: what it says is about something else
    ("일본 새 총리 누구야?" answered from an article on 한덕수 총리). A name glued to the next
    word's first syllable by missing spaces ("엔비디아주가왜") still counts, and a long name
    is found by either half (a person named once in full, then by surname: "테드 번디" … "번디는").

    >>> names_none_of({"일본"}, "한 총리는 국회에 출석했다"), names_none_of({"엔비디아주", "구글"}, "엔비디아 주가")
    (True, False)
    >>> names_none_of({"테드번디"}, "1972년 대학교를 졸업한 후에 번디는")
    False
    """
    text = key(article_text)
    def found(n: str) -> bool:
        half = len(n) // 2
        parts = [n, n[:-1] if len(n) > 2 else n] + ([n[:half], n[half:]] if len(n) >= 4 else [])
        return any(p in text for p in parts)
    return bool(names) and not any(found(n) for n in names)


def changed_subject(sentence: str, cited: str, before: str, subjects: set[str], explains: bool = False) -> bool:
    """The answer sentence gives the cited sentence's fact to another subject.

    The words can all match while the subject changed: "브로드컴 주가는 … 5,930억달러 감소"
    cited to "엔비디아는 전 날 하락으로 시가총액이 5,930억달러 감소…". A subject of the
    question named in the answer sentence must be in the cited sentence, or in the few
    sentences before it (news names a subject once, then goes on about it) when the cited
    sentence is not about a name of its own ("X는 …"); `before` is that stretch of the article. A sentence not naming the subject
    ("5,930억달러입니다") must not rest on a sentence about another name ("엑스AI는 …") either,
    unless the question asks why or how (`explains`): a cause is often another subject's doing.
    Nor must the cited sentence give the answer's fact to another name by "의" ("오픈AI의
    창립자인 샘 올트먼" is no answer to "딥시크 창업자 이름이 뭐야?").

    >>> c = "엔비디아는 시가총액이 5,930억달러 감소했다."
    >>> changed_subject("브로드컴은 5,930억달러 감소했다.", c, "", {"브로드컴"}), changed_subject("5,930억달러입니다.", c, "", {"브로드컴"})
    (True, True)
    >>> changed_subject("엔비디아는 5,930억달러 감소했다.", c, "", {"엔비디아"}), changed_subject("5,930억달러 감소했다.", c, "", set())
    (False, False)
    >>> changed_subject("엔비디아입니다.", c, "", {"시가총액"})  # the cited sentence's topic is the answer
    False
    """
    if not subjects:
        return False
    cited_key = key(cited)
    said = key(sentence)
    named = {x for x in subjects if x in said}
    about = topics(cited)
    # the cited sentence is about another name ("엑스AI는 … 750억 달러") - unless that name is
    # the answer ("조던 토마스입니다" for "바이오쇼크 PS3판 감독은?" on "조던 토마스는 …"), or the
    # answer's fact comes after the subject, nearer than after the other name ("차범근은 수비수
    # 홍명보에게까지 …" after "가모 슈 감독은 …")
    others = {t for t in about if _other(t, subjects) and t not in said}
    if not explains and (o := owner(sentence, cited, subjects)) and _other(o, subjects) and o not in said:
        return True
    if not explains and others and not _follows_subject(sentence, cited_key, subjects, others):
        return True
    if any(x in cited_key for x in named or subjects):
        return False
    return bool(named) and not any(x in key(before) for x in named)


def _follows_subject(sentence: str, cited_key: str, subjects: set[str], others: set[str]) -> bool:
    """In the cited sentence, the answer's first noun, name or number comes after a subject of
    the question, nearer than after any of the other names.

    >>> _follows_subject("홍명보입니다.", key("가모 슈 감독은 수비전술을 폈고, 차범근은 홍명보에게 공격을 지시했다."), {"차범근"}, {"가모"})
    True
    >>> _follows_subject("5,930억달러입니다.", key("엔비디아는 5,930억달러 감소했고 브로드컴은 1% 올랐다."), {"브로드컴"}, {"엔비디아"})
    False
    """
    at = _fact_at(sentence, cited_key, subjects)
    if at < 0:
        return False
    last = lambda names: max((cited_key.rfind(x, 0, at) for x in names), default=-1)  # noqa: E731
    return last(subjects) > last(others)


def owner(sentence: str, cited: str, subjects: set[str]) -> str | None:
    """The name the cited sentence gives the answer's first noun, name or number to, by "의":
    "오픈AI의 창립자인 샘 올트먼" makes 샘 올트먼 오픈AI's, whatever the question asked about.

    >>> owner("샘 올트먼입니다.", "오픈AI의 창립자인 샘 올트먼을 포함한 경영진도 놀랐다.", {"딥시크"})
    '오픈ai'
    >>> owner("오가타 다케토라입니다.", "아사히 신문사 전 부사장 오가타 다케토라를 임명했다.", {"아사히"}) is None
    True
    """
    found = _fact_at(sentence, key(cited), subjects)
    if found < 0:
        return None
    where = [i for i, ch in enumerate(cited) if key(ch)][found]  # from the key back to the text
    toks = kiwi().tokenize(cited)
    i = next((n for n, t in enumerate(toks) if t.end > where), 0) - 1
    while i >= 0 and toks[i].tag in _IN_PHRASE:  # back over "창립자인", "전 부사장"
        i -= 1
    run = []
    for t in reversed(toks[:i] if i > 0 and toks[i].tag == "JKG" else []):
        if t.tag not in NOUN_TAGS or (run and t.end != run[0].start):
            break
        run.insert(0, t)
    return key(cited[run[0].start : run[-1].end]) if any(t.tag in PROPER_TAGS for t in run) else None


_IN_PHRASE = NOUN_TAGS | {"NNB", "VCP", "ETM", "XSN", "MM"}


def _fact_at(sentence: str, cited_key: str, subjects: set[str]) -> int:
    """Where (in the cited sentence's key) the answer sentence's first noun, name or number
    other than the question's subjects is found; -1 if none is."""
    facts = [k for t in kiwi().tokenize(sentence) if t.tag in NOUN_TAGS and len(k := key(t.form)) > 1 and k not in subjects]
    return next((i for f in facts if (i := cited_key.find(f)) >= 0), -1)


_YEARS = {"작년": "last", "지난해": "last", "전년": "last", "올해": "this", "금년": "this", "내년": "next", "이듬해": "next"}


def other_year(question: str, cited: str) -> bool:
    """The question asks about one year ("그럼 작년엔?") and the cited sentence speaks of another.

    >>> other_year("안동 탈춤축제 작년 몇 명 왔어?", "올해 축제에는 148만여 명이 다녀갔다."), other_year("작년엔?", "지난해에는 88만 명이었다.")
    (True, False)
    """
    asked = {_YEARS[w] for w in _YEARS if w in question}
    said = {_YEARS[w] for w in _YEARS if w in cited}
    return bool(asked and said and not asked & said)


WINDOW_BEFORE = 250  # characters before a cited sentence where its subject may be named (about 3 sentences)


def about_another(sentence_topics: set[str], subjects: set[str]) -> bool:
    """The sentence is about a name that is none of the question's subjects, and not about one of
    them as well ("엑스AI는 …" for a question about 오픈AI; "챗GPT는 …, 딥시크는 …" is about 딥시크 too).

    >>> about_another({"엑스ai"}, {"오픈ai"}), about_another({"오픈ai"}, {"오픈ai"}), about_another(set(), {"오픈ai"})
    (True, False, False)
    >>> about_another({"챗gpt", "딥시크"}, {"딥시크"})
    False
    """
    return any(_other(t, subjects) for t in sentence_topics) and not any(t in subjects for t in sentence_topics)


def _other(topic: str, subjects: set[str]) -> bool:
    """The topic is none of the subjects, written in the same script ("딥시크" cannot be told
    from "deepseek" by its letters: no verdict then).

    >>> _other("엑스ai", {"오픈ai"}), _other("딥시크", {"deepseekr1"}), _other("브로드컴", {"브로드컴"})
    (True, False, False)
    """
    same = [x for x in subjects if _hangul(x) == _hangul(topic)]
    return bool(same) and not any(topic in x or x in topic for x in same)


def _hangul(text: str) -> bool:
    return any("가" <= ch <= "힣" for ch in text)


def topics(sentence: str) -> set[str]:
    """The names the sentence is about: a name run marked as topic or subject ("엔비디아는"),
    or owning it ("엑스AI의 기업 가치는").

    >>> sorted(topics("역시 전 날 폭락했던 브로드컴과 오라클은 각각 1%, 2%씩 올랐다.")), topics("시가총액은 줄었다.")
    (['브로드컴', '오라클'], set())
    >>> topics("호주 정부는 2월 4일 딥시크 사용을 금지했다."), topics("현재 엑스AI의 기업 가치는 약 750억 달러다.")
    ({'호주'}, {'엑스ai'})
    """
    toks = kiwi().tokenize(sentence)
    runs = noun_runs(sentence, toks)
    out = set()
    for i, (text, run) in enumerate(runs):
        after = next((t for t in toks if t.start >= run[-1].end), None)
        if after is not None and after.start == run[-1].end and after.tag in ("JX", "JKS") and after.form in "은는":
            # with the names joined to it: "브로드컴과 오라클은" is about both
            joined = [i]
            while joined[0] > 0 and _joins(toks, runs[joined[0] - 1][1][-1], run[0] if joined[0] == i else runs[joined[0]][1][0]):
                joined.insert(0, joined[0] - 1)
            out |= {key(runs[j][0]) for j in joined if any(t.tag in PROPER_TAGS for t in runs[j][1])}
            owner = runs[joined[0] - 1] if joined[0] > 0 else None  # "엑스AI의 기업 가치는": 엑스AI's
            if owner and any(t.tag in PROPER_TAGS for t in owner[1]) and _owns(toks, owner[1][-1], runs[joined[0]][1][0]):
                out.add(key(owner[0]))
    return out


def _owns(toks, left, right) -> bool:
    """Only "의" stands between two noun runs ("엑스AI의 기업")."""
    between = [t for t in toks if left.end <= t.start and t.end <= right.start]
    return [t.tag for t in between] == ["JKG"]


def _joins(toks, left, right) -> bool:
    """Two noun runs make one phrase ("호주 정부") or a list ("브로드컴과 오라클"): only a space,
    "과/와/및" or a comma stands between them."""
    between = [t for t in toks if left.end <= t.start and t.end <= right.start]
    return all(t.tag in ("JC", "SP") or t.form == "및" for t in between)


def noun_runs(text: str, toks) -> list[tuple[str, list]]:
    """Runs of adjacent noun tokens with no space between them ("오픈AI", "엑스AI")."""
    runs: list[list] = []
    for t in toks:
        if t.tag in NOUN_TAGS:
            if runs and runs[-1][-1].end == t.start and runs[-1][-1].tag in NOUN_TAGS:
                runs[-1].append(t)
                continue
            runs.append([t])
        else:
            runs.append([t])
    return [(text[r[0].start : r[-1].end], r) for r in runs if r[0].tag in NOUN_TAGS]
