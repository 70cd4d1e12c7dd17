"""The meldpunt duty rota per region: shifts generated ahead, overrides, swaps, gaps, reminders.

Shifts are defined in local wall-clock time (Europe/Amsterdam) and stored in UTC: every handover
is built from its own local date and time, so a week across a DST change is one local week
(167 or 169 hours), never 168 hours of real time. Shares follow the pool weights: each new
shift goes to the provider whose load per unit of weight would be lowest after taking it
(hours over the past year), and shifts holding a public holiday are dealt by the holiday load
first, so holidays rotate fairly too.

A shift's provider and start never change; an override shortens the shifts it cuts into or
replaces them, and a completed swap replaces the shift by a new row for the taker — so the
reminders (deduped per shift) follow whoever actually has the duty. Every change appends a
`RotaEvent`. Functions flush, never commit.
"""

from respijt.rota.changes import (
    RotaConflict,
    apply_override,
    approve_swap,
    offer_swap,
    refuse_swap,
    take_swap,
    withdraw_swap,
)
from respijt.rota.generation import (
    PoolMember,
    find_gaps,
    generate_all,
    generate_shifts,
    handovers,
    holiday_dates,
    parse_pattern,
    pool,
    region_by_code,
    shifts_between,
)
from respijt.rota.ical import create_feed_token, ical_feed, provider_for_feed
from respijt.rota.notices import add_handover_note, alert_gaps, handover_notes, send_reminders

__all__ = [
    "PoolMember",
    "RotaConflict",
    "add_handover_note",
    "alert_gaps",
    "apply_override",
    "approve_swap",
    "create_feed_token",
    "find_gaps",
    "generate_all",
    "generate_shifts",
    "handover_notes",
    "handovers",
    "holiday_dates",
    "ical_feed",
    "offer_swap",
    "parse_pattern",
    "pool",
    "provider_for_feed",
    "refuse_swap",
    "region_by_code",
    "send_reminders",
    "shifts_between",
    "take_swap",
    "withdraw_swap",
]
