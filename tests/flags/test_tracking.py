"""Carrier and tracking number: checked per carrier, shipped once tracked, told to the family."""

import pytest

from r4h_pwa.flags.service import read_shipment
from r4h_pwa.validation import ValidationError
from tests.factories import ADDRESS, TRACKING
from tests.helpers import reload, sign_in


@pytest.mark.parametrize(
    ("carrier", "number", "stored"),
    [
        ("USPS", "9400 1118 9922 3197 4284 90", ("USPS", "9400111899223197428490")),
        ("usps", "94001118992231974284", ("USPS", "94001118992231974284")),
        ("USPS", "ea123456789us", ("USPS", "EA123456789US")),
        ("UPS", "1Z999AA10123456784", ("UPS", "1Z999AA10123456784")),
        ("FedEx", "123456789012", ("FedEx", "123456789012")),
        ("fedex", "123456789012345", ("FedEx", "123456789012345")),
        ("FedEx", "1" * 20, ("FedEx", "1" * 20)),
        ("FedEx", "1" * 22, ("FedEx", "1" * 22)),
        ("Hand delivery", "", ("Hand delivery", "")),
        ("", "", ("", "")),
    ],
)
def test_good_tracking_numbers_are_kept_in_one_shape(carrier, number, stored):
    values = read_shipment({**ADDRESS, "carrier": carrier, "tracking_number": number})
    assert (values["carrier"], values["tracking_number"]) == stored


@pytest.mark.parametrize(
    ("carrier", "number", "field", "message"),
    [
        ("USPS", "9400", "tracking_number", "This is not a USPS tracking number: 20 to 22"),
        ("USPS", "1" * 23, "tracking_number", "not a USPS tracking number"),
        ("USPS", "EA123456789CA", "tracking_number", "not a USPS tracking number"),
        ("UPS", "1Z999", "tracking_number", "This is not a UPS tracking number: 1Z and 16"),
        ("UPS", "2Z999AA10123456784", "tracking_number", "not a UPS tracking number"),
        ("FedEx", "1234567890123", "tracking_number", "12, 15, 20 or 22 digits"),
        ("FedEx", "12345678901A", "tracking_number", "not a FedEx tracking number"),
        ("DHL", "1234567890", "carrier", "Choose USPS, UPS, FedEx or hand delivery."),
        ("", "1Z999AA10123456784", "carrier", "Choose the carrier of this tracking number."),
        ("Hand delivery", "123", "tracking_number", "delivered by hand has no tracking"),
    ],
)
def test_bad_tracking_numbers_are_refused_per_carrier(carrier, number, field, message):
    with pytest.raises(ValidationError) as caught:
        read_shipment({**ADDRESS, "carrier": carrier, "tracking_number": number})
    assert message in caught.value.fields[field]


def test_api_refuses_a_bad_number_and_stores_nothing(client, db, story):
    before = len(reload(db, story.shipment_id).run.shipments)
    response = client.post(
        f"/api/v1/runs/{story.run_id}/shipments",
        headers=story.headers,
        json={**ADDRESS, "carrier": "UPS", "tracking_number": "1Z42"},
    )
    assert response.status_code == 422
    assert "tracking_number" in response.json["error"]["fields"]
    assert len(reload(db, story.shipment_id).run.shipments) == before


def _ship(client, story, carrier="USPS", number=TRACKING):
    sign_in(client, story.admin_email)
    data = {**ADDRESS, "handwritten_note": "y", "carrier": carrier, "tracking_number": number}
    return client.post(f"/admin/shipments/{story.shipment_id}/edit", data=data)


def test_a_tracking_number_marks_the_shipment_shipped(client, db, story):
    assert reload(db, story.shipment_id).status == "draft"  # the story's draft has a number
    assert _ship(client, story).status_code == 303
    shipment = reload(db, story.shipment_id)
    assert shipment.status == "shipped" and shipment.shipped_at is not None
    page = client.get(f"/admin/shipments/{story.shipment_id}").get_data(as_text=True)
    assert (f'href="https://tools.usps.com/go/TrackConfirmAction?tLabels={TRACKING}"') in page


def test_family_page_says_on_its_way_with_the_carriers_link_never_the_address(client, db, story):
    family = f"/f/{story.family_token}"
    assert 'data-testid="on-its-way"' not in client.get(family).get_data(as_text=True)
    _ship(client, story, "FedEx", "123456789012")
    client.post("/logout")
    html = client.get(family).get_data(as_text=True)
    assert "Your flag is on its way" in html
    assert 'href="https://www.fedex.com/fedextrack/?trknbr=123456789012"' in html
    for private in (
        "800 Research Drive",
        "Suite 9",
        "Woodland Park",
        "80863",
        "Chief Chris Deisler",
        "Deliver with the chief",
    ):
        assert private not in html


def test_shipments_are_named_after_the_hero_and_the_recipient(client, story):
    sign_in(client, story.admin_email)
    title = "Flag for Officer Julian Becerra → Chief Chris Deisler"
    page = client.get(f"/admin/shipments/{story.shipment_id}").get_data(as_text=True)
    assert f'<h1 data-testid="shipment-title">{title}</h1>' in page
    assert f"<title>{title} · Running 4 Heroes</title>" in page
    assert title in client.get("/admin/shipments").get_data(as_text=True)
