"""The evaluation corpora of the real-question set: which files, which sample, their index.

`bundled` is the project's own articles; the news corpora are months of `../shared/news/`. A
news corpus is indexed as its questions' gold articles and a fixed sample of the rest
(`SAMPLE`, eval/README.md): a month is about 8,000 chunks, over an hour of embedding here.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from ..config import PROJECT_ROOT, Config
from ..errors import ConfigError
from ..export import location
from ..ingest import read_paths
from ..types import Article
from .eval_index import build_index
from .evaluate import Corpus

NEWS = PROJECT_ROOT.parent / "shared" / "news"
# articles indexed per corpus unless --articles says otherwise (0: all): the questions' gold and a fixed sample (eval/README.md)
SAMPLE = {"bundled": None, "news": 500, "news-11": 500, "news-dated": 400}
# None: the config's articles/. "news-dated": questions that name a day or a period, over both months
CORPORA = {"bundled": None, "news": [NEWS / "chosun-2024-10.jsonl"],
           "news-dated": [NEWS / "chosun-2024-10.jsonl", NEWS / "chosun-2024-11.jsonl"],
           "news-11": [NEWS / "chosun-2024-11.jsonl"]}


def where(article: Article) -> str:
    """How the set names an article: its url, else file:line."""
    return article.url or location(article)


def corpus_articles(name: str, config: Config, questions: Sequence, limit: int | None = None) -> Corpus:
    """The corpus's articles; with `limit`, the questions' gold articles and a fixed sample of
    the others, `limit` in all (a month of news is about 8,000 chunks: over an hour of embedding here)."""
    paths = CORPORA[name] or [config.articles_dir]
    if missing := [p for p in paths if not p.exists()]:
        raise ConfigError(f"The {name} corpus is not at {missing[0]}.")
    articles = read_paths(paths).articles
    if limit is not None and limit < len(articles):
        gold = {g for q in questions for g in (*q.gold, *q.topic_gold, *q.same_topic)}
        kept = [a for a in articles if where(a) in gold]
        others = [a for a in articles if where(a) not in gold]
        kept += random.Random(7).sample(others, max(0, limit - len(kept)))
        articles = sorted(kept, key=lambda a: articles.index(a))
    return Corpus(articles, [], name)


def corpus_index(name: str, config: Config, everything: Sequence, embedder, articles_limit: int | None = None,
                 progress: Callable[[str], None] | None = None):
    """The evaluation index of a corpus (in the model cache): its sample unless `articles_limit` (0: all)."""
    limit = SAMPLE.get(name) if articles_limit is None else (articles_limit or None)
    articles = corpus_articles(name, config, [q for q in everything if q.corpus == name], limit)
    folder = config.cache_dir / "eval" / f"real-{name}{f'-{limit}' if limit else ''}"
    if progress:
        progress(f"평가 색인 / evaluation index: {len(articles.articles)} articles of {name} → {folder}")
    return build_index(articles, folder, embedder, config, (lambda stage, done, total: progress(f"  {stage} {done}/{total}")) if progress else None)
