"""A small real evaluation run (`rag eval`) on KorQuAD 1.0 dev (LG CNS), so that quality
regressions show: the report's shape, and retrieval that finds the gold paragraph."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KORQUAD = ROOT.parent / "shared" / "eval" / "korquad" / "KorQuAD_v1.0_dev.json"
RAG = Path(sys.executable).with_name("rag")

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not KORQUAD.exists(), reason=f"{KORQUAD} not found")]


def test_small_eval_reports_every_number(tmp_path):
    out = tmp_path / "report.json"
    run = subprocess.run(
        [str(RAG), "eval", str(KORQUAD), "--paragraphs", "60", "--sample", "20", "--seed", "3",
         "--answers", "4", "--unanswerable", "2", "--eval-dir", str(tmp_path / "index"), "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=1800,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "hybrid" in run.stdout and "containment" in run.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["seed"] == 3 and report["questions"] == 20 and report["paragraphs"] == 60
    assert set(report["retrieval"]) == {"dense", "bm25", "hybrid"}
    for metrics in report["retrieval"].values():
        assert set(metrics) == {"R@1", "R@5", "R@10", "MRR"}
        assert 0 <= metrics["R@1"] <= metrics["R@5"] <= metrics["R@10"] <= 1
    assert report["retrieval"]["hybrid"]["R@5"] >= 0.9
    assert report["answers"]["n"] == 4 and len(report["answer_records"]) == 4
    expected = {"containment", "first_sentence_containment", "citation_precision", "false_refusal", "korean_only"}
    assert expected <= report["answers"].keys()
    assert report["unanswerable"]["n"] == 2
    assert report["settings"]["top_k"] and report["models"]["llm"]
