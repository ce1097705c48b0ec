from datetime import UTC, date, datetime

from surgehub import reference
from surgehub.returns.validate import shipped_register


def test_lists_the_ten_localities_in_register_order() -> None:
    codes = [loc.sub_icb_code for loc in reference.localities()]
    assert codes == ["00T", "00V", "01D", "14L", "00Y", "01G", "01W", "01Y", "02A", "02H"]


def test_hub_is_active_only_inside_its_dates() -> None:
    glossop = next(h for h in reference.shipped_hubs() if h.hub_code == "01Y-H2")
    assert not glossop.active_on(date(2026, 11, 14))
    assert glossop.active_on(date(2026, 11, 15))
    view = shipped_register().as_of(datetime(2026, 11, 25, tzinfo=UTC))
    assert [h.hub_code for h in view.active_hubs("01y", date(2026, 11, 14))] == ["01Y-H1"]


def test_every_hub_belongs_to_a_known_locality() -> None:
    codes = {loc.sub_icb_code for loc in reference.localities()}
    assert {h.sub_icb_code for h in reference.shipped_hubs()} <= codes
