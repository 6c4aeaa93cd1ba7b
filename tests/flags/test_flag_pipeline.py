"""The flag pipeline for admins: the run's flag panel, "Ship the flag", the dashboard queue."""

from datetime import timedelta

import sqlalchemy as sa

from r4h_pwa.flags.service import work_waiting
from r4h_pwa.models import Run, Runner, utcnow
from tests.factories import make_shipment, make_synced_run
from tests.helpers import reload, sign_in


def _runner(db, story) -> Runner:
    return db.session.get(Runner, story.runner_id)


def test_run_page_shows_its_shipment_with_status(client, story):
    sign_in(client, story.admin_email)
    page = client.get(f"/admin/runs/{story.run_id}").get_data(as_text=True)
    panel = page.split('data-testid="flag-panel"')[1].split("</section>")[0]
    assert "Flag for Officer Julian Becerra → Chief Chris Deisler" in panel
    assert f'href="/admin/shipments/{story.shipment_id}"' in panel
    assert '<span class="badge ship-draft" data-testid="flag-status">Draft</span>' in panel


def test_an_unshipped_mile_offers_ship_the_flag_prefilled_with_the_agency(client, db, story):
    run = make_synced_run(_runner(db, story), mile_number=1295)
    db.session.commit()
    sign_in(client, story.admin_email)
    page = client.get(f"/admin/runs/{run.id}").get_data(as_text=True)
    panel = page.split('data-testid="flag-panel"')[1].split("</section>")[0]
    assert "Not shipped yet." in panel
    ship = f'href="/admin/shipments/new?run={run.id}"'
    assert ship in panel and "Ship the flag" in panel
    form = client.get(f"/admin/shipments/new?run={run.id}").get_data(as_text=True)
    assert f'<option selected value="{run.id}">' in form
    assert 'value="Fountain Police Department"' in form
    assert (
        'checked id="recipient_kind-1" name="recipient_kind" type="radio" value="intermediary"'
    ) in form


def test_a_planned_run_has_no_ship_action(client, db, story):
    planned = make_synced_run(_runner(db, story), mile_number=None, status="planned")
    db.session.commit()
    sign_in(client, story.admin_email)
    page = client.get(f"/admin/runs/{planned.id}").get_data(as_text=True)
    assert "once the run has synced" in page and 'data-testid="ship-flag"' not in page


def _section(page: str, testid: str) -> str:
    return page.split(f'data-testid="{testid}"')[1].split("</section>")[0]


def test_dashboard_leads_with_the_work_waiting(client, db, story):
    runner = _runner(db, story)
    unshipped = make_synced_run(runner, mile_number=1295)
    printed = make_shipment(
        make_synced_run(runner, mile_number=1296),
        status="label_printed",
        recipient_name="Printed Family",
        label_printed_at=utcnow(),
    )
    late = make_shipment(
        make_synced_run(runner, mile_number=1297),
        status="shipped",
        recipient_name="Late Family",
        shipped_at=utcnow() - timedelta(days=15),
    )
    recent = make_shipment(
        make_synced_run(runner, mile_number=1298),
        status="shipped",
        recipient_name="Recent Family",
        shipped_at=utcnow() - timedelta(days=13),
    )
    replied = make_shipment(
        make_synced_run(runner, mile_number=1299),
        status="received",
        recipient_name="Replying Family",
        received_at=utcnow(),
        ack_message="Thank you so much.",
    )
    make_synced_run(runner, mile_number=None)  # incomplete: no flag to ship
    db.session.commit()
    sign_in(client, story.admin_email)
    page = client.get("/admin/").get_data(as_text=True)
    assert page.index('data-testid="work-waiting"') < page.index('data-testid="team-miles"')
    miles = _section(page, "work-unshipped")
    assert f'href="/admin/runs/{unshipped.id}#flag-title"' in miles
    assert miles.count("<li>") == 1  # the story's run has a shipment; the incomplete run none
    printed_list = _section(page, "work-printed")
    assert f'href="/admin/shipments/{printed.id}/edit"' in printed_list
    assert printed_list.count("<li>") == 1
    late_list = _section(page, "work-not-arrived")
    assert f"/admin/shipments/{late.id}" in late_list and "Recent Family" not in late_list
    replies = _section(page, "work-replies")
    assert f'href="/admin/shipments/{replied.id}#ack-title"' in replies
    assert "wrote a message" in replies
    assert '<span class="badge">4</span>' in page.split('id="work-heading"')[1][:80]
    assert recent.id not in page


def test_a_run_with_two_shipments_is_not_waiting(db, story):
    run = make_synced_run(db.session.get(Runner, story.runner_id), mile_number=1300)
    for _ in range(2):
        make_shipment(run)
    db.session.commit()
    work = work_waiting()
    assert work.miles_without_shipment == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Run)) == 2
    assert reload(db, story.shipment_id).status == "draft"
