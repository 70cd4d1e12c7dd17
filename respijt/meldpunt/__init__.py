"""The meldpunt of each region: its duty rota (shifts generated ahead, overrides, swaps, gaps,
reminders) and the phone calls routed to whoever is on duty.

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
