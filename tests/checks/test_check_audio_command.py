"""`manage.py check_audio FILE [--json]`: the API's verdict, for operators and scripts."""

from __future__ import annotations

import io
import json
import re
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from checks import services
from checks.models import Check

from .conftest import EXCERPT_FROM_S, EXCERPT_S, LEAD_S, register_recording, wait_until


@pytest.fixture
def aurora(make_org, audio, committed):
    label = make_org("label", "Northern Lights Records")
    with committed():
        return register_recording(
            label,
            audio.reference,
            {"title": "Aurora", "isrc": "GBAAA2600001", "rights": [{"share_pct": "100"}]},
        )


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("check_audio", *args, stdout=out)
    return out.getvalue()


def test_json_output_is_the_verdict_the_api_gives(aurora, operator, audio):
    verdict = json.loads(run(str(audio.query), "--json"))

    check = Check.objects.get()
    assert check.organization == operator.organization  # the operator submits by default
    assert verdict == operator.get(f"/api/v1/checks/{check.pk}/").json()
    assert verdict["status"] == "done"
    [match] = verdict["matches"]
    assert match["recording"]["id"] == aurora["id"]
    assert match["query_start_s"] == pytest.approx(LEAD_S, abs=1.0)
    assert verdict["decision"]["action"] == "require_licence"


def test_plain_output_names_the_match_and_the_decision(aurora, operator, audio):
    lines = run(str(audio.query), "--territory", "FR", "--territory", "DE").splitlines()

    check = Check.objects.get()
    assert lines[0] == f"check {check.pk}: done"
    assert lines[1].startswith(
        "  match: 'Aurora' (GB-AAA-26-00001, Northern Lights Records) score "
    )
    where = re.search(r"submission ([\d.]+)-([\d.]+) s = reference ([\d.]+)-([\d.]+) s$", lines[1])
    assert where, lines[1]
    assert [float(x) for x in where.groups()] == pytest.approx(
        [LEAD_S, LEAD_S + EXCERPT_S, EXCERPT_FROM_S, EXCERPT_FROM_S + EXCERPT_S], abs=1.0
    )
    assert lines[2] == "  AI origin: no_evidence (confidence 0.00)"
    assert lines[3] == "  decision: require_licence (Stemma default v1)"
    assert lines[4] == "    Decision: require a licence."
    assert check.declared["territories"] == ["DE", "FR"]


def test_nothing_found_is_said_and_allowed(operator, audio):
    lines = run(str(audio.unrelated)).splitlines()
    assert lines[1] == "  no registered recording found"
    assert lines[3] == "  decision: allow (Stemma default v1)"


def test_a_missing_file_is_an_error(operator, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run(str(tmp_path / "nowhere.mp3"))
    assert Check.objects.count() == 0


def test_bad_audio_prints_the_failure_and_exits_non_zero(operator, audio):
    out = io.StringIO()
    with pytest.raises(CommandError, match="check failed: AUDIO_SILENT"):
        call_command("check_audio", str(audio.silent), "--json", stdout=out)
    verdict = json.loads(out.getvalue())
    assert (verdict["status"], verdict["error"]) == ("failed", "AUDIO_SILENT")


def test_an_unknown_organisation_is_an_error(audio):
    with pytest.raises(CommandError, match="no organisation 'Nobody'"):
        run(str(audio.unrelated), "--organization", "Nobody")


def test_a_check_a_worker_claimed_first_is_waited_for(
    transactional_db, aurora, operator, audio, monkeypatch, settings
):
    # Given a worker that gets the task and claims the check before the command can (a
    # thread here, holding the check "processing" for a moment as the test hook makes it)
    settings.STEMMA_TEST_CHECK_DELAY_S = 0.5
    workers: list[threading.Thread] = []

    def to_a_worker(check_id: int) -> None:
        def work() -> None:
            try:
                services.check_process(check_id)
            finally:
                connection.close()

        workers.append(threading.Thread(target=work))
        workers[-1].start()
        wait_until(lambda: Check.objects.get(pk=check_id).status == "processing")

    monkeypatch.setattr(services, "_enqueue", to_a_worker)

    # When the command runs, it prints the finished verdict, not a half-done one
    verdict = json.loads(run(str(audio.query), "--json"))
    for worker in workers:
        worker.join(timeout=30)
    assert len(workers) == 1
    assert verdict["status"] == "done"
    assert [m["recording"]["id"] for m in verdict["matches"]] == [aurora["id"]]
    assert verdict["attempts"] == 1
