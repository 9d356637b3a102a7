"""CI syntax: Azure DevOps logging commands, GitHub Actions workflow commands and files, plain
lines elsewhere; escaping; which results become outputs; the key only as a secret."""

from __future__ import annotations

import io

import pytest

from azml2aks.cli import ci as C

RUN_RESULT = {
    "train": {"job_name": "bold_kiwi_1", "status": "Completed"},
    "register": {"name": "wine-classifier", "version": "3"},
    "package": {"environment_name": "wine-env", "environment_version": "2"},
    "attach": {"compute": "local"},
    "deploy": {"endpoint": "wine-endpoint", "scoring_uri": "https://wine.example/score", "result": "promoted",
               "colour": "green"},
    "run_id": "20260101-000000-abcd",
}


def writer(kind, **environ) -> tuple[C.CI, io.StringIO]:
    stream = io.StringIO()
    return C.CI(kind, stream=stream, environ=environ), stream


def test_detect_reads_the_variables_each_agent_sets():
    assert C.detect({"TF_BUILD": "True"}) == "azure-devops"
    assert C.detect({"GITHUB_ACTIONS": "true"}) == "github"
    assert C.detect({}) is None


def test_vso_property_escapes_percent_newlines_semicolon_and_bracket_as_azure_devops_documents():
    assert C.vso_property("a%b\r\nc;d]e") == "a%AZP25b%0D%0Ac%3Bd%5De"


def test_vso_data_keeps_semicolons_and_brackets_but_escapes_percent_and_newlines():
    assert C.vso_data("50%; [x]\nnext") == "50%AZP25; [x]%0Anext"


def test_a_value_with_a_semicolon_cannot_inject_a_second_property():
    line = C.vso("task.setvariable", "v", variable="name;issecret=false]x")
    assert line == "##vso[task.setvariable variable=name%3Bissecret=false%5Dx]v"


def test_azure_devops_output_is_a_setvariable_line_with_is_output():
    ci, out = writer("azure-devops")
    ci.set_output("modelVersion", "3")
    assert out.getvalue() == "##vso[task.setvariable variable=modelVersion;isOutput=true]3\n"


def test_azure_devops_secret_output_is_masked_first_and_marked_issecret():
    ci, out = writer("azure-devops")
    ci.publish_key("s3cr3t")
    assert out.getvalue().splitlines() == [
        "##vso[task.setsecret]s3cr3t",
        "##vso[task.setvariable variable=endpointKey;isOutput=true;issecret=true]s3cr3t",
    ]


def test_github_outputs_are_appended_to_the_output_file_in_the_multiline_form(tmp_path):
    target = tmp_path / "github_output"
    target.write_text("earlier=1\n")
    ci, out = writer("github", GITHUB_OUTPUT=str(target))
    ci.set_output("scoringUri", "https://x/score")
    ci.set_output("note", "two\nlines")
    text = target.read_text()
    assert text.startswith("earlier=1\n")
    blocks = text.split("\n", 1)[1]
    first_delim = blocks.split("\n", 1)[0].split("<<", 1)[1]
    assert blocks.startswith(f"scoringUri<<{first_delim}\nhttps://x/score\n{first_delim}\n")
    assert "\ntwo\nlines\n" in blocks
    assert out.getvalue() == ""  # nothing on the log for a plain output


def test_github_secret_output_is_masked_with_add_mask(tmp_path):
    ci, out = writer("github", GITHUB_OUTPUT=str(tmp_path / "o"))
    ci.publish_key("s3cr3t")
    assert out.getvalue() == "::add-mask::s3cr3t\n"
    assert "endpointKey<<" in (tmp_path / "o").read_text()


def test_the_output_block_refuses_a_value_holding_its_delimiter():
    with pytest.raises(ValueError):
        C.gh_output_block("x", "a\nEOF\nb", delimiter="EOF")


def test_groups_open_and_close_in_pairs_per_agent():
    for kind, opened, closed in (("azure-devops", "##[group]train (local)", "##[endgroup]"),
                                 ("github", "::group::train (local)", "::endgroup::")):
        ci, out = writer(kind)
        ci.group("train (local)")
        ci.group("register (local)")  # opening a group closes the open one
        ci.end_group()
        ci.end_group()  # nothing open: no stray endgroup
        lines = out.getvalue().splitlines()
        assert lines[0] == opened and lines.count(closed) == 2 and len(lines) == 4


def test_outside_ci_groups_are_plain_headings_and_nothing_is_published(tmp_path):
    ci, out = writer(None)
    ci.group("deploy (local)")
    ci.end_group()
    assert ci.publish("run", RUN_RESULT) == {}
    ci.publish_key("s3cr3t")
    assert not ci.upload_summary(tmp_path / "report.md")
    assert out.getvalue() == "== deploy (local)\n"


def test_a_run_publishes_job_model_environment_endpoint_uri_and_result():
    assert C.outputs_of("run", RUN_RESULT) == {
        "jobName": "bold_kiwi_1", "jobStatus": "Completed", "modelName": "wine-classifier", "modelVersion": "3",
        "environmentName": "wine-env", "environmentVersion": "2", "endpointName": "wine-endpoint",
        "scoringUri": "https://wine.example/score", "rolloutResult": "promoted", "deployedColour": "green"}


def test_a_single_stage_publishes_its_own_outputs_and_a_dry_run_publishes_none():
    assert C.outputs_of("register", RUN_RESULT["register"]) == {"modelName": "wine-classifier", "modelVersion": "3"}
    assert C.outputs_of("wait", RUN_RESULT["train"])["jobName"] == "bold_kiwi_1"
    assert C.outputs_of("deploy", {**RUN_RESULT["deploy"], "result": "planned"}) == {}
    assert C.outputs_of("status", {"name": "wine-endpoint"}) == {}


def test_no_result_key_ever_becomes_the_secret_output():
    assert C.KEY_OUTPUT not in C.outputs_of("run", {**RUN_RESULT, "keys": {"primaryKey": "x"}})


def test_upload_summary_names_the_absolute_path_on_azure_devops(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "report.md").write_text("## hi\n")
    ci, out = writer("azure-devops")
    assert ci.upload_summary("report.md")
    assert out.getvalue() == f"##vso[task.uploadsummary]{tmp_path / 'report.md'}\n"


def test_upload_summary_appends_the_markdown_to_the_github_step_summary(tmp_path):
    (tmp_path / "report.md").write_text("## run 1: promoted\n")
    summary = tmp_path / "summary"
    summary.write_text("# earlier step\n")
    ci, _ = writer("github", GITHUB_STEP_SUMMARY=str(summary))
    assert ci.upload_summary(tmp_path / "report.md")
    assert summary.read_text() == "# earlier step\n## run 1: promoted\n"


def test_errors_and_warnings_are_annotations_with_escaped_data():
    ci, out = writer("azure-devops")
    ci.error("100% broken\nsecond line")
    assert out.getvalue() == "##vso[task.logissue type=error]100%AZP25 broken%0Asecond line\n"
    ci, out = writer("github")
    ci.error("100% broken")
    assert out.getvalue() == "::error::100%25 broken\n"
    assert C.CI("github", environ={}).warning_prefix() == "::warning::"
