"""The one-question SMS after departure and the KPI `satisfaction` (issue 10).

The question goes through the real dispatch job, the real `twilio` client and the fake Twilio on
127.0.0.1; replies come in as signed webhooks from the fake Twilio.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from respijt import clock
from respijt.care_requests import replies
from respijt.care_requests.workflow import OPEN_REQUEST_STATUSES
from respijt.claims import kpis as kpi_module
from respijt.claims.kpis import flatten
from respijt.messages import delivery
from respijt.models import (
    InboundMessage,
    Municipality,
    OutboxMessage,
    Reservation,
    SatisfactionSurvey,
)
from respijt.privacy import access_log as privacy
from respijt.reservations import notices, satisfaction, steps
from respijt.scheduler import jobs
from tests.accounts_support import web_login
from tests.claims_helpers import PROVIDER, at, check_in, deliver, freeze, request, stay
from tests.messages.test_sms_integration import drain, twilio_config

CONTACT = "+31687654321"
STRANGER = "+31611112222"
ARRIVAL, DEPARTURE = date(2027, 3, 10), date(2027, 3, 13)
QUESTION = (
    "respijt: hoe tevreden bent u over het logeren tot 13 mrt? Antwoord met een cijfer van "
    "1 (slecht) tot 5 (heel goed)."
)
MARCH = kpi_module.KpiFilter(date(2027, 3, 1), date(2027, 4, 1))


def confirmed_stay(db: Any, make: Any, contact: str = CONTACT) -> Reservation:
    """A confirmed stay for a care request whose contact mobile is `contact`."""
    freeze(date(2027, 3, 1))
    municipality = make.municipality("GM0503", name="Delft")
    location = make.location(municipality=municipality, name="De Linde")
    unit = make.unit(location=location, capacity=1)
    care_request = request(
        db.session, municipality, arrival=ARRIVAL, departure=DEPARTURE, contact_mobile=contact
    )
    return stay(db.session, unit, ARRIVAL, DEPARTURE, care_request)


def questions(db: Any) -> list[OutboxMessage]:
    db.session.commit()
    found = list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template == satisfaction.TEMPLATE)
            .order_by(OutboxMessage.id)
        )
    )
    db.session.commit()
    return found


def survey(db: Any) -> SatisfactionSurvey | None:
    db.session.expire_all()
    return db.session.scalar(select(SatisfactionSurvey))


def last_inbound(db: Any) -> tuple[str, str, int | None]:
    db.session.expire_all()
    row = db.session.scalar(select(InboundMessage).order_by(InboundMessage.id.desc()).limit(1))
    assert row is not None
    return row.command, row.outcome, row.reservation_id


def asked(app: Any, db: Any, make: Any) -> Reservation:
    """A stay checked out at 10:00 UTC on its departure day, the question sent."""
    reservation = confirmed_stay(db, make)
    deliver(db.session, reservation)
    drain(app, db, twilio_config(app))
    assert [q.status for q in questions(db)] == ["sent"]
    return reservation


# --- asking ---------------------------------------------------------------------------------


def test_check_out_sends_one_question_without_client_data(app, db, make, fake_twilio_server):
    reservation = confirmed_stay(db, make)
    deliver(db.session, reservation)
    # A rule that runs twice (a retried transaction) queues nothing more.
    notices.reservation_changed(db.session, reservation, previous="checked_in", now=clock.now())
    db.session.commit()

    drain(app, db, twilio_config(app))
    drain(app, db, twilio_config(app))

    sent = [m for m in fake_twilio_server.messages(to=CONTACT) if "tevreden" in m.body]
    assert [m.body for m in sent] == [QUESTION]
    for private in ("J.", "Marja", "De Linde", reservation.short_code, "ouderen", "vakantie"):
        assert private not in sent[0].body
    assert "http" not in sent[0].body
    [row] = questions(db)
    assert (row.status, row.recipient, row.urgent) == ("sent", CONTACT, False)
    # Listed to the coordinators of the client's region (GET /api/v1/messages), nobody else's.
    assert row.region_id == reservation.unit.location.municipality.region_id is not None
    row_survey = survey(db)
    assert row_survey is not None
    assert row_survey.reservation_id == reservation.id
    assert row_survey.outbox_message_id == row.id
    assert row_survey.departure == DEPARTURE and row_survey.score is None
    assert db.session.scalar(select(func.count()).select_from(SatisfactionSurvey)) == 1


def test_a_check_out_in_the_quiet_hours_asks_the_next_morning(app, db, make, fake_twilio_server):
    reservation = confirmed_stay(db, make)
    check_in(db.session, reservation)
    late = datetime(2027, 3, 13, 21, 30, tzinfo=UTC)  # 22:30 in Amsterdam
    clock.freeze(late)
    steps.check_out(db.session, reservation, caller=PROVIDER, now=late, today=DEPARTURE)
    db.session.commit()
    config = twilio_config(app, RESPIJT_QUIET_HOURS="21:00-08:00")

    jobs.dispatch_outbox(db.session, late, config)
    db.session.commit()

    assert fake_twilio_server.messages(to=CONTACT) == []  # the confirmation waits too
    [waiting] = questions(db)
    assert waiting.status == "pending"
    assert waiting.next_attempt_at == datetime(2027, 3, 14, 7, 0, tzinfo=UTC)  # 08:00 local
    morning = datetime(2027, 3, 14, 7, 0, 1, tzinfo=UTC)
    clock.freeze(morning)
    jobs.dispatch_outbox(db.session, morning, config)
    db.session.commit()
    sent = [m.body for m in fake_twilio_server.messages(to=CONTACT) if "tevreden" in m.body]
    assert sent == [QUESTION]


def test_an_early_departure_asks_about_the_shortened_stay(db, make):
    reservation = confirmed_stay(db, make)
    check_in(db.session, reservation)
    leave = DEPARTURE - timedelta(days=1)
    freeze(leave, 10)
    steps.check_out(db.session, reservation, caller=PROVIDER, now=clock.now(), today=leave)
    db.session.commit()

    [question] = questions(db)
    assert question.body == QUESTION.replace("13 mrt", "12 mrt")
    assert question.next_attempt_at == clock.now()
    row = survey(db)
    assert row is not None and row.departure == leave


def test_a_number_that_texted_stop_is_not_asked(app, db, make, fake_twilio_server):
    fake_twilio_server.send_inbound(CONTACT, "STOP")
    assert delivery.is_opted_out(db.session, CONTACT)
    reservation = confirmed_stay(db, make)
    deliver(db.session, reservation)
    drain(app, db, twilio_config(app))

    assert questions(db) == [] and survey(db) is None
    assert not [m for m in fake_twilio_server.messages(to=CONTACT) if "tevreden" in m.body]
    # It cannot answer either: a number is not understood from someone never asked.
    digit = fake_twilio_server.send_inbound(CONTACT, "4")
    assert digit.replies == [replies.HELP]
    assert last_inbound(db)[:2] == ("other", "not_understood")


def test_a_stop_before_the_question_went_out_leaves_nobody_asked(app, db, make, fake_twilio_server):
    reservation = confirmed_stay(db, make)
    check_in(db.session, reservation)
    late = datetime(2027, 3, 13, 21, 30, tzinfo=UTC)
    clock.freeze(late)
    steps.check_out(db.session, reservation, caller=PROVIDER, now=late, today=DEPARTURE)
    db.session.commit()
    fake_twilio_server.send_inbound(CONTACT, "STOP")  # while the question waits for 08:00
    clock.freeze(datetime(2027, 3, 14, 7, 0, 1, tzinfo=UTC))

    drain(app, db, twilio_config(app))

    assert [(q.status, q.error_code) for q in questions(db)] == [("skipped", "opted_out")]
    assert fake_twilio_server.send_inbound(CONTACT, "3").replies == [replies.HELP]
    row = survey(db)
    assert row is not None and row.score is None


@pytest.mark.parametrize("ending", ["no_show", "cancel"])
def test_no_question_after_a_no_show_or_a_cancellation(db, make, ending):
    reservation = confirmed_stay(db, make)
    freeze(ARRIVAL, 14)
    if ending == "no_show":
        steps.mark_no_show(db.session, reservation, caller=PROVIDER, now=clock.now(), today=ARRIVAL)
    else:
        steps.cancel(
            db.session,
            reservation,
            party="provider",
            caller=PROVIDER,
            now=clock.now(),
            reason="Ziek geworden",
        )
    db.session.commit()
    assert questions(db) == [] and survey(db) is None


def test_no_question_for_a_stay_booked_without_a_care_request(db, make):
    freeze(date(2027, 3, 1))
    reservation = stay(db.session, make.unit(capacity=1), ARRIVAL, DEPARTURE)
    deliver(db.session, reservation)
    assert questions(db) == [] and survey(db) is None


# --- replies --------------------------------------------------------------------------------


def test_a_reply_3_is_recorded_and_thanked_and_a_second_answer_changes_nothing(
    app, db, make, fake_twilio_server
):
    reservation = asked(app, db, make)
    clock.freeze(clock.now() + timedelta(hours=3))

    answer = fake_twilio_server.send_inbound(CONTACT, " 3 ")

    assert answer.status_code == 200
    assert answer.replies == ["Bedankt voor uw antwoord. Uw cijfer 3 is genoteerd."]
    row = survey(db)
    assert row is not None and (row.score, row.answered_at) == (3, clock.now())
    assert last_inbound(db) == ("satisfaction", "recorded", reservation.id)

    again = fake_twilio_server.send_inbound(CONTACT, "5")
    assert again.replies == [satisfaction.ALREADY]
    row = survey(db)
    assert row is not None and row.score == 3
    assert last_inbound(db) == ("satisfaction", "already_answered", reservation.id)


def test_out_of_range_and_keywords_from_an_asked_number_are_not_taken_as_answers(
    app, db, make, fake_twilio_server
):
    reservation = asked(app, db, make)

    six = fake_twilio_server.send_inbound(CONTACT, "6")
    assert six.replies == [satisfaction.OUT_OF_RANGE]
    assert last_inbound(db) == ("satisfaction", "out_of_range", reservation.id)
    ja = fake_twilio_server.send_inbound(CONTACT, "JA")
    assert "Zet de code" in ja.replies[0]  # the JA/NEE handler answered, not the survey
    assert last_inbound(db)[:2] == ("confirm", "no_code")
    words = fake_twilio_server.send_inbound(CONTACT, "Heel goed!")
    assert words.replies == [replies.HELP]
    row = survey(db)
    assert row is not None and row.score is None  # still open

    assert "cijfer 4" in fake_twilio_server.send_inbound(CONTACT, "4.").replies[0]
    fake_twilio_server.send_inbound(CONTACT, "STOP")
    assert delivery.is_opted_out(db.session, CONTACT)
    assert last_inbound(db)[:2] == ("opt_out", "opted_out")
    row = survey(db)
    assert row is not None and row.score == 4


def test_a_digit_from_a_number_never_asked_gets_the_usual_help(app, db, make, fake_twilio_server):
    asked(app, db, make)
    stranger = fake_twilio_server.send_inbound(STRANGER, "3")
    assert stranger.replies == [replies.HELP]
    assert last_inbound(db) == ("other", "not_understood", None)
    row = survey(db)
    assert row is not None and row.score is None


def test_a_late_reply_is_thanked_but_not_counted_and_the_window_is_configurable(
    app, db, make, fake_twilio_server, monkeypatch
):
    reservation = asked(app, db, make)
    [question] = questions(db)
    assert question.sent_at is not None
    clock.freeze(question.sent_at + timedelta(days=7, minutes=1))

    late = fake_twilio_server.send_inbound(CONTACT, "2")

    assert late.replies == [satisfaction.LATE]
    assert last_inbound(db) == ("satisfaction", "late", reservation.id)
    row = survey(db)
    assert row is not None and row.score is None

    monkeypatch.setitem(app.config, "RESPIJT_SATISFACTION_REPLY_DAYS", 8)
    assert "cijfer 2" in fake_twilio_server.send_inbound(CONTACT, "2").replies[0]
    row = survey(db)
    assert row is not None and row.score == 2


def test_retention_cuts_the_links_and_keeps_the_score_for_the_kpi(
    app, db, make, fake_twilio_server
):
    asked(app, db, make)
    fake_twilio_server.send_inbound(CONTACT, "5")
    later = at(DEPARTURE + timedelta(days=400))

    assert (
        privacy.purge(
            db.session, later, dry_run=True, open_request_statuses=OPEN_REQUEST_STATUSES
        ).anonymised["satisfaction"]
        == 1
    )
    report = privacy.purge(
        db.session, later, dry_run=False, open_request_statuses=OPEN_REQUEST_STATUSES
    )
    db.session.commit()

    assert report.anonymised["satisfaction"] == 1
    row = survey(db)
    assert row is not None
    assert (row.reservation_id, row.outbox_message_id, row.score) == (None, None, 5)
    assert row.anonymised_at == later
    figures = kpi_module.kpi_figures(db.session, MARCH, now=later, stale_after_hours=72)
    assert figures["satisfaction"]["answers"] is None  # one answer: suppressed, still counted
    assert "satisfaction.answers" in figures["suppression"]["cells"]
    assert (
        privacy.purge(
            db.session, later, dry_run=False, open_request_statuses=OPEN_REQUEST_STATUSES
        ).anonymised["satisfaction"]
        == 0
    )


# --- the KPI --------------------------------------------------------------------------------


def answers(db: Any, make: Any) -> dict[str, Any]:
    """Scores by (client's gemeente, provider), stays ending in March unless noted:
    - Delft, provider P: 5 × 5, 5 × 4, 2 × 3, and one question never answered;
    - Leiden, provider Q: a 2 and a 1;
    - Delft, P, departed 1 April: a 1 (outside March);
    - Delft, P, departed 1 March: a 4 counts; departed 28 February: a 5 does not.
    """
    delft = make.municipality("GM0503", name="Delft")
    leiden = make.municipality("GM0546", name="Leiden")
    p, q = make.provider(name="P Zorg"), make.provider(name="Q Zorg")
    rows = (
        [(delft, p, date(2027, 3, 12), 5)] * 5
        + [(delft, p, date(2027, 3, 20), 4)] * 4
        + [(delft, p, date(2027, 3, 1), 4)]
        + [(delft, p, date(2027, 3, 31), 3)] * 2
        + [(delft, p, date(2027, 3, 15), None)]
        + [(leiden, q, date(2027, 3, 5), 2), (leiden, q, date(2027, 3, 6), 1)]
        + [(delft, p, date(2027, 4, 1), 1), (delft, p, date(2027, 2, 28), 5)]
    )
    for municipality, provider, departure, score in rows:
        db.session.add(
            SatisfactionSurvey(
                municipality_id=municipality.id,
                provider_id=provider.id,
                departure=departure,
                asked_at=at(departure, 10),
                score=score,
                answered_at=at(departure, 12) if score else None,
            )
        )
    db.session.commit()
    return {"p": p, "q": q}


def kpis(db: Any, f: kpi_module.KpiFilter = MARCH) -> dict[str, Any]:
    return kpi_module.kpi_figures(db.session, f, now=at(date(2027, 4, 10)), stale_after_hours=72)


def test_kpi_answers_mean_and_distribution_hand_computed_with_suppression(db, make):
    data = answers(db, make)

    # All of March: 5×5 + 5×4 + 2×3 + 2 + 1 = 54 over 14 answers = 3.857 → 3.86. Scores 1, 2
    # and 3 (1, 1, 2 people) are hidden; three hidden cells need no second one.
    k = kpis(db)
    assert k["satisfaction"] == {
        "answers": 14,
        "mean": 3.86,
        "distribution": {"1": None, "2": None, "3": None, "4": 5, "5": 5},
    }
    assert {f"satisfaction.distribution.{n}" for n in "123"} <= set(k["suppression"]["cells"])

    # Delft: 51 / 12 = 4.25. Score 3 (2 people) alone would follow from the total, so the
    # smallest other cell (score 4: 5) is hidden with it.
    delft = kpis(db, kpi_module.KpiFilter(MARCH.night_from, MARCH.night_to, municipality="GM0503"))
    assert delft["satisfaction"] == {
        "answers": 12,
        "mean": 4.25,
        "distribution": {"1": 0, "2": 0, "3": None, "4": None, "5": 5},
    }

    # Provider Q: two answers, everything about them suppressed.
    q = kpis(db, kpi_module.KpiFilter(MARCH.night_from, MARCH.night_to, provider_id=data["q"].id))
    assert q["satisfaction"] == {
        "answers": None,
        "mean": None,
        "distribution": {"1": None, "2": None, "3": 0, "4": 0, "5": 0},
    }
    assert {"satisfaction.answers", "satisfaction.mean"} <= set(q["suppression"]["cells"])

    csv_rows = dict(flatten(k, decimal_comma=True))
    assert csv_rows["satisfaction.answers"] == "14"
    assert csv_rows["satisfaction.mean"] == "3,86"
    assert csv_rows["satisfaction.distribution.1"] == "<5"
    assert csv_rows["satisfaction.distribution.5"] == "5"


def test_kpi_satisfaction_counts_only_a_coordinators_own_regions(db, make):
    answers(db, make)
    delft = db.session.scalars(select(Municipality).filter_by(code="GM0503")).one()
    own = kpi_module.KpiFilter(
        MARCH.night_from, MARCH.night_to, regions=frozenset({delft.region_id})
    )
    # Delft's region only: Leiden's 2 and 1 are left out (51 / 12 = 4.25, as for Delft alone).
    assert kpis(db, own)["satisfaction"]["answers"] == 12
    assert kpis(db, own)["satisfaction"]["mean"] == 4.25


def test_kpi_satisfaction_in_the_api_csv_dashboard_and_monthly_report(client, db, make):
    answers(db, make)
    coordinator = make.token("coordinator")
    csv_answer = client.get(
        "/api/v1/reports/kpis?from=2027-03-01&to=2027-04-01&format=csv&decimal=comma",
        headers=coordinator,
    )
    assert csv_answer.status_code == 200
    text = csv_answer.data.decode("utf-8-sig")
    assert "\nTevredenheid, gemiddelde;3,86\n" in text
    assert "\nTevredenheid, verdeling, cijfer 2;<5\n" in text

    report = client.get("/reports/monthly/GM0503/2027-03", headers=coordinator)
    html = report.get_data(as_text=True)
    assert report.status_code == 200
    assert 'gemiddeld cijfer (1 slecht – 5 heel goed)</th>\n        <td class="num">4,25<' in html
    assert 'Tevredenheid: cijfer 5</th>\n        <td class="num">5<' in html
    assert "nog niet beschikbaar</td>" in html  # the meldpunt calls: no calls in the dataset
    assert 'href="/reports/monthly/GM0503/2027-03.pdf">Download als PDF' in html

    delft = db.session.scalars(select(Municipality).filter_by(code="GM0503")).one()
    web_login(client, make.user("coordinator", regions=[delft.region]))
    page = client.get("/coordinator/cijfers?van=2027-03-01&tot=2027-04-01&gemeente=GM0503")
    assert page.status_code == 200
    dashboard = page.get_data(as_text=True)
    assert "Tevredenheid na vertrek" in dashboard
    cell = '</th><td class="utrecht-table__cell kpi-value">'
    assert f'scope="row">Gemiddeld cijfer{cell}4,25<' in dashboard
    assert f'scope="row">Cijfer 3{cell}&lt;5<' in dashboard
