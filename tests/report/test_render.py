"""The report rendered: a self-contained HTML page with inline SVG plots, and the Markdown summary."""

from __future__ import annotations

import re

from azml2aks.journal import Journal
from azml2aks.report.markdown import cell, render_markdown
from azml2aks.report.view import build_view
from azml2aks.report.writer import render, write_report
from tests.report import journals as J


def test_the_html_page_needs_no_network_to_open():
    html, _, _ = render(J.promoted())
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html)
    assert "<?xml" not in html and "<!DOCTYPE svg" not in html


def test_the_html_page_holds_the_three_plots_as_inline_svg():
    html, _, _ = render(J.promoted())
    assert html.count("<svg") == 3
    assert html.count('<div class="plot">') == 3


def test_the_html_page_shows_leaderboard_lineage_contract_ladder_gates_and_verdict():
    html, _, _ = render(J.promoted())
    for text in ("AutoML leaderboard", "LightGBM ★ chosen", "git_commit", "Contract test <b>passed</b>",
                 "step 10 % (attempt 2)", "re-measured", "p99_ratio 3.6 &lt;= 2", "agreement 0.97 &gt;= 0.85",
                 "green: p50 8 ms, p99 12.5 ms", "samples_distinct=36", "decision_seconds=0.8",
                 "<b>promoted</b>"):
        assert text in html, text


def test_values_from_the_journal_are_escaped_in_html():
    data = J.rolled_back()
    data["facts"]["leaderboard"]["job-1"][0]["algorithm"] = "<img src=x onerror=alert(1)>"
    html, markdown, _ = render(data)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "Traceback: &lt;boom&gt;" in html


def test_a_rolled_back_run_reports_the_failed_gate_and_the_restored_split():
    html, markdown, _ = render(J.rolled_back())
    assert "## azml2aks run 20260101-100000-abcd: ❌ rolled back" in markdown
    assert "shadow failed gate(s): agreement; blue kept 100 % of the traffic" in markdown
    assert "agreement 0.5 >= 0.85 ❌" in markdown
    assert "Final traffic: blue=100." in markdown
    assert 'class="verdict bad"' in html


def test_the_markdown_summary_has_a_row_per_trial_and_per_round():
    markdown = render_markdown(build_view(J.promoted()))
    assert "| 1 | 2 | LightGBM ⭐ | 0.97 | 1.2 | `run-b` |" in markdown
    rounds = [line for line in markdown.splitlines() if re.match(r"\| [0-9.]+ \| (smoke|shadow|step)", line)]
    assert len(rounds) == 5
    assert "green 8/12.5 ms; blue 8/11.5 ms" in markdown
    assert "samples_distinct=36, decision_seconds=0.8" in markdown


def test_markdown_cells_escape_pipes_and_newlines():
    assert cell("a|b\nc") == "a\\|b c"


def test_a_journal_with_only_a_train_stage_still_renders():
    data = J.promoted()
    data["stages"] = {"train": data["stages"]["train"]}
    html, markdown, view = render(data)
    assert view["verdict"]["result"] == "not deployed"
    assert html.count("<svg") == 1 and "Rollout" not in markdown


def test_the_writer_puts_both_files_beside_the_journal(tmp_path):
    journal = Journal(tmp_path / "runs" / "20260101-100000-abcd" / "journal.json", J.promoted())
    journal.save()
    written = write_report(journal)
    folder = tmp_path / "runs" / "20260101-100000-abcd"
    assert written["html"] == str(folder / "report.html") and written["markdown"] == str(folder / "report.md")
    assert (folder / "report.md").read_text().startswith("## azml2aks run 20260101-100000-abcd: ✅ promoted")
    assert sorted(p.name for p in folder.iterdir()) == ["journal.json", "report.html", "report.md"]


def test_a_package_without_its_contract_test_says_why():
    data = J.promoted()
    data["stages"]["package"]["result"]["contract"] = {
        "ran": False, "skipped": "--no-contract: the package was not served and scored on this machine"}
    html, markdown, _ = render(data)
    assert "Contract test not run: --no-contract: the package was not served and scored on this machine." in markdown
    assert "Contract test not run: --no-contract: the package was not served" in html
