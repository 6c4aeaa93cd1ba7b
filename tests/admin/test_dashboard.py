"""The dashboard: team miles, miles per runner, heroes honored by kind, and the chart."""

import re
from datetime import UTC, datetime, timedelta

from r4h_pwa.admin.service import chart_bars, dashboard, miles_per_month
from tests.factories import make_hero, make_run, make_runner, make_track


def _numbered(runner, hero, track, mile, finished_at):
    return make_run(runner, hero, track, status="synced", mile_number=mile, finished_at=finished_at)


def _team(db):
    """Two runners with history, three heroes honored (one twice), and one planned run."""
    now = datetime.now(UTC)
    track = make_track()
    ana = make_runner(name="Ana", starting_mile_count=1293, miles_logged=2)
    ben = make_runner(name="Ben", starting_mile_count=0, miles_logged=1)
    police = make_hero(kind="police", name="Officer One")
    k9 = make_hero(kind="k9", name="Rex")
    fire = make_hero(kind="fire", name="Firefighter Planned")
    _numbered(ana, police, track, 1294, now)
    _numbered(ana, k9, track, 1295, now - timedelta(days=62))
    _numbered(ben, police, track, 1, now)  # the same hero again: still one police hero
    make_run(ben, fire, track)  # planned: not honored yet
    db.session.commit()
    return now


def test_dashboard_figures(db):
    _team(db)
    board = dashboard()
    assert board.team_miles == 1293 + 2 + 0 + 1
    assert [r.name for r in board.runners] == ["Ana", "Ben"]
    kinds = dict(board.heroes_by_kind)
    assert (kinds["Police"], kinds["K9"], kinds["Fire"], kinds["EMS"]) == (1, 1, 0, 0)
    assert board.heroes_honored == 2
    assert board.planned_count == 1
    assert len(board.recent_runs) == 3


def test_team_miles_count_admins_too(db):
    make_runner(role="admin", starting_mile_count=7)
    db.session.commit()
    assert dashboard().team_miles == 7


def test_miles_per_month_buckets_the_last_twelve_months(db):
    now = _team(db)
    months = miles_per_month(now)
    assert len(months) == 12
    assert months[-1] == (now.date().replace(day=1), 2)
    assert sum(miles for _, miles in months) == 3


def test_old_miles_fall_out_of_the_chart(db):
    now = datetime(2024, 6, 15, tzinfo=UTC)
    runner, hero, track = make_runner(), make_hero(), make_track()
    _numbered(runner, hero, track, 1, datetime(2023, 6, 30, 12, tzinfo=UTC))  # 12 months back
    # 03:00 UTC on July 1 is still June 30 at the team's track (the chart's months are theirs).
    _numbered(runner, hero, track, 2, datetime(2023, 7, 1, 3, tzinfo=UTC))
    _numbered(runner, hero, track, 3, datetime(2023, 7, 1, 16, tzinfo=UTC))
    db.session.commit()
    months = miles_per_month(now)
    assert months[0][0].isoformat() == "2023-07-01"
    assert [m for _, m in months] == [1] + [0] * 11


def test_chart_bars_scale_to_the_tallest_month():
    from datetime import date

    bars, top = chart_bars([(date(2024, m, 1), m % 3) for m in range(1, 13)])
    assert top == 2
    tallest = [b for b in bars if b.miles == 2]
    empty = [b for b in bars if b.miles == 0]
    assert all(b.height == tallest[0].height > 0 for b in tallest)
    assert all(b.height == 0 for b in empty)
    assert bars[0].label == "Jan" and bars[-1].long_label == "December 2024"


def test_dashboard_page(admin_client, db):
    _team(db)
    html = admin_client.get("/admin/").get_data(as_text=True)
    team = re.search(r'data-testid="team-miles"><strong>([\d,]+)</strong>', html).group(1)
    assert team == "1,296"
    assert re.search(r'<tr data-kind="Police"><td>Police</td><td class="num">1</td>', html)
    assert re.search(r'<tr data-kind="K9"><td>K9</td><td class="num">1</td>', html)
    assert re.search(r'<tr data-kind="Fire"><td>Fire</td><td class="num">0</td>', html)
    assert "Ana" in html and "1,295" in html


def test_dashboard_chart_is_accessible_svg_without_inline_style(admin_client, db):
    now = _team(db)
    html = admin_client.get("/admin/").get_data(as_text=True)
    svg = re.search(r"<svg[^>]*data-testid=\"miles-chart\".*?</svg>", html, re.S).group(0)
    assert 'role="img"' in svg and 'aria-labelledby="chart-title chart-desc"' in svg
    assert '<title id="chart-title">' in svg and '<desc id="chart-desc">3 miles' in svg
    assert svg.count('class="bar"') == 2  # two months with miles
    assert svg.count('class="label"') == 12
    assert "style=" not in html and "<script" not in html.split("</main>")[0]
    table = re.search(r'data-testid="miles-chart-data">.*?</table>', html, re.S).group(0)
    assert f'<th scope="row">{now:%B %Y}</th><td>2</td>' in table


def test_empty_dashboard_renders(admin_client):
    html = admin_client.get("/admin/").get_data(as_text=True)
    assert 'data-testid="team-miles"><strong>0</strong>' in html
    assert "No finished runs yet." in html
