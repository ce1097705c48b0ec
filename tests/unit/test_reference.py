from datetime import date

from surgehub import reference


def test_lists_the_ten_localities_in_register_order() -> None:
    codes = [loc.sub_icb_code for loc in reference.localities()]
    assert codes == ["00T", "00V", "01D", "14L", "00Y", "01G", "01W", "01Y", "02A", "02H"]


def test_hub_is_active_only_inside_its_dates() -> None:
    glossop = next(h for h in reference.hubs() if h.hub_code == "01Y-H2")
    assert not glossop.active_on(date(2026, 11, 14))
    assert glossop.active_on(date(2026, 11, 15))
    assert [h.hub_code for h in reference.active_hubs("01y", date(2026, 11, 14))] == ["01Y-H1"]


def test_every_hub_belongs_to_a_known_locality() -> None:
    codes = {loc.sub_icb_code for loc in reference.localities()}
    assert {h.sub_icb_code for h in reference.hubs()} <= codes
