"""One team-miles number: the dashboard and the public wall show the same total."""

import re

from tests.factories import make_admin, make_run, make_runner
from tests.helpers import sign_in


def _total(html: str) -> str:
    return re.search(r'data-testid="team-miles">(?:<strong>)?([\d,]+)<', html).group(1)


def test_dashboard_and_wall_show_the_same_team_miles(client, db):
    admin = make_admin()
    active = make_runner(starting_mile_count=1293)
    make_run(active, status="synced", mile_number=1294)
    active.miles_logged = 1
    # A runner who left the team keeps the miles they ran: they still count.
    make_runner(starting_mile_count=40, is_active_account=False)
    db.session.commit()

    wall = client.get("/honor").get_data(as_text=True)
    sign_in(client, admin.email)
    dashboard = client.get("/admin/").get_data(as_text=True)

    assert _total(wall) == _total(dashboard) == "1,334"
