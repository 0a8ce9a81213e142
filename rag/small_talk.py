"""Small talk: greetings, thanks and questions about the assistant itself.

There is nothing to search for in "안녕", and the refusal sentence would be a rude reply to
it; these get a short Korean reply saying what the assistant does, with no citation.
"""
from __future__ import annotations

import re

from .korean import kiwi

# matched on the whole (short) message
_HELLO = r"안녕|하이|헬로|반가워|반갑|처음 써|hi|hello|hey|good (morning|evening)"
_THANKS = r"고마워|고맙|감사(합니다|해|요)|thank|thx|땡큐|수고(했|하셨)"
_BYE = r"잘\s?(자|가|있어)|bye|good ?night|굿\s?나잇|다음에 (봐|또)"
_IDLE = r"심심|얘기(나|하자|해)|놀자|말동무"
_SELF = (r"(너|넌|니|네|당신)\s*(는|은|가|이)?\s*(누구|뭐|뭘|이름|정체|할 수|무엇|챗\s?gpt|gpt|ai|인공지능|사람|로봇)|"
         r"(who|what) are you|what can you do|your name|자기\s?소개|사용법|어떻게 (써|사용|쓰는)")
SMALL_TALK = {
    "hello": "안녕하세요! 저는 가지고 계신 뉴스 기사에서 답을 찾아 근거 기사 번호와 함께 알려 드리는 도우미입니다. "
             "예를 들어 \"엔비디아 주가는 왜 떨어졌어?\"처럼 기사 내용을 물어보세요.",
    "thanks": "천만에요! 기사에 대해 더 궁금한 것이 있으면 언제든 물어보세요.",
    "bye": "안녕히 가세요! 다음에 또 기사 내용을 물어보세요.",
    "self": "저는 이 컴퓨터에 있는 뉴스 기사만 근거로 답하는 로컬 질의응답 도우미입니다. 인터넷 검색은 하지 않고, "
            "답의 문장마다 근거가 된 기사 번호를 붙입니다. 기사를 올리면 그 기사에 대해서도 물어볼 수 있어요.",
    "idle": "저는 잡담보다는 뉴스 기사에 대한 질문에 답하는 도우미예요. \"딥시크가 뭐야?\"처럼 기사 내용을 물어봐 주세요.",
}


def small_talk(question: str) -> str | None:
    """The reply to a greeting, thanks or a question about the assistant; None for a question
    about the articles.

    >>> small_talk("안녕하세요~ 처음 써봐요") == SMALL_TALK["hello"], small_talk("who are you?") == SMALL_TALK["self"]
    (True, True)
    >>> small_talk("안녕 엔비디아 주가는 왜 떨어졌어?"), small_talk("너는 엔비디아 주가 알아?"), small_talk("오픈AI 이름의 뜻은?")
    (None, None, None)
    """
    text = question.lower().strip()
    # a long message, or one naming something ("너 딥시크 알아?"), is a question about the articles
    if len(text.split()) > 5 or len(text) > 30 or _names_a_topic(question):
        return None
    for kind, pattern in (("self", _SELF), ("thanks", _THANKS), ("bye", _BYE), ("idle", _IDLE), ("hello", _HELLO)):
        if re.search(pattern, text):
            return SMALL_TALK[kind]
    return None


def _names_a_topic(question: str) -> bool:
    """A Korean proper noun, or a capitalised English word after the first ("Nvidia")."""
    toks = kiwi().tokenize(question)
    return any(t.form.lower() not in _ABOUT_ITSELF and (t.tag == "NNP" or (t.tag == "SL" and t.start > 0 and t.form[0].isupper()))
               for t in toks)


_ABOUT_ITSELF = {"챗", "챗gpt", "gpt", "chatgpt", "ai", "i"}
