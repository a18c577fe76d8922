"""How a public arrears notice shows a room: its building and the end of its room number, never more.

个人信息保护法 asks for the least that serves the purpose. A notice serves its purpose when the owner
recognises their own home and a neighbour cannot tell whose it is, so a label is the building's name,
a fixed mask and the last two characters of the room: 3栋1单元1201 → "3栋**01".

- The mask is always two stars, whatever the room's length: "*01" for 901 beside "**01" for 1201
  would tell which floors they are on.
- The entrance (单元) is never shown: it would narrow "**01" to one stairwell.
- A room of three characters keeps its last two, of two characters its last one, of one none: a
  label never shows a whole room number.
- A label must fit at least MIN_CANDIDATES rooms of its building (listed or not): when fewer rooms
  end that way, one character less is shown, then none, and a building too small to hide a room in
  is hidden as well ("****"). So no two labels, read together or alone, point at one home.
- The order of the list says nothing either: labels come by building, then label, then amount,
  never by floor or entrance, and hidden rooms come last, not among their building's neighbours.

Pure functions: values in, values out; the caller reads the rooms from the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

MIN_CANDIDATES = 3
MASK = "**"
HIDDEN = "****"  # a room of a building too small to hide it in: not even the building is shown


def shown_characters(room: str) -> int:
    """How many trailing characters of `room` the rule may show: two, but never the whole room."""
    return max(0, min(2, len(room) - 1))


def _fits(room: str, tail: str) -> bool:
    """Whether `room` would be read as a candidate for a label ending in `tail` (it ends so and is longer)."""
    return len(room) > len(tail) and room.endswith(tail)


def label(building: str, room: str, rooms_of_building: Iterable[str]) -> str:
    """The masked label of one room: "3栋**01", "3栋**1", "3栋**" or "****" (see the module's rule)."""
    room = room.strip()
    rooms = [r.strip() for r in rooms_of_building]
    for keep in range(shown_characters(room), -1, -1):
        tail = room[len(room) - keep:] if keep else ""
        if sum(1 for other in rooms if _fits(other, tail)) >= MIN_CANDIDATES:
            return f"{building}{MASK}{tail}"
    return HIDDEN


def labels(listed: Mapping[int, tuple[int, str, str]], rooms_by_building: Mapping[int, list[str]]) -> dict[int, str]:
    """Labels of the listed units: `listed` maps unit id → (building id, building name, room);
    `rooms_by_building` holds every room of each of those buildings."""
    return {unit_id: label(name, room, rooms_by_building.get(building_id, ()))
            for unit_id, (building_id, name, room) in listed.items()}


def small_buildings(units_by_building: Mapping[int, int]) -> set[int]:
    """Buildings with fewer rooms than MIN_CANDIDATES: a count of them would name a home, so the
    counts mode adds them up in one line (其他楼栋)."""
    return {building_id for building_id, count in units_by_building.items() if count < MIN_CANDIDATES}


def order_key(label_text: str, *, building_rank: int, amount) -> tuple:
    """Where a label stands on the poster: hidden rooms last, the rest by building, label and amount."""
    hidden = label_text == HIDDEN
    return (hidden, 0 if hidden else building_rank, label_text, amount if amount is not None else 0)
