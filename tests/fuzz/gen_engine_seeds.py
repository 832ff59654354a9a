#!/usr/bin/env python3
"""Writes the fuzz_engine seed programs into tests/fuzz/corpus/engine/ and
the inputs of the defects it found into tests/fuzz/crashes/fuzz_engine/.

Each program is a small story on the fixture rules (tests/engine_fixture.h)
in the bytecode fuzz_engine.c reads; run this again after changing the
bytecode. The fuzzed-* seeds beside them come from a 10-minute run, kept for
the coverage they add; any bytes are a program, so they need no rewriting.
Usage: tests/fuzz/gen_engine_seeds.py
"""
import os
import struct
import sys

# pools, by index, as in fuzz_engine.c
LEAD_A, LEAD_B, LEAD_C, LEAD_NUM, LEAD_UTF8, LEAD_255, LEAD_256, LEAD_EMPTY = range(8)
TYPES = ["page_view", "email_click", "content_download", "pricing_view", "webinar_attended",
         "event_attended", "demo_request", "unsubscribe", "no_such_type", ""]
CHANNELS = ["", "web", "event", "email", "partner", "EVENT"]
KINDS = ["ASSIGN", "TOUCH", "ACCEPT", "REJECT", "REVERT", "QUALIFY", "OPPORTUNITY", "WON", "LOST",
         "INVALID"]
REASONS = ["NONE", "BAD_FIT", "BAD_TIMING", "NO_BUDGET", "NO_RESPONSE", "DUPLICATE", "COMPETITOR",
           "OTHER", "INVALID"]
REPS = ["", "rep-1", "rep-2"]
EMAILS = ["", "ada@acme.com", "bob@gmail.com", "x@", "@yahoo.com", "noat"]
TITLES = ["", "Head of Data", "student helper", "CTO"]
SENIORITIES = ["", "VP", "Director", "intern"]
INDUSTRIES = ["", "Software", "software", "Retail"]
COUNTRIES = ["", "US", "DE", "CN", "fr"]
EMPLOYEES = [0, 1, 199, 200, 4999, 5000, "max"]
REVENUES = [0, 999999, 1000000, 50000000, "max"]
SOURCES = ["", "event", "partner", "web"]
OWNERS = ["", "rep-1", "rep-3"]
REVIEW_DAYS = [0, 1, 30, 3650, 3651, -1, "max"]
TTLS = [0, 1, "1d", "180d", "max"]
EDGES = ["48h", "36h", "24h", "18h", "2d", "1d", "30d", "24d", "90d", "72d", "14d", "60d",
         "180d", "1ms", "-1ms", "5m+1ms"]
ABSOLUTE_NEAR = ["T0", "1", "0", "-1", "1d", "7d", "31d", "100d", "T0-1y", "T0+1y", "INT64_MIN",
                 "INT64_MIN+1d"]
ABSOLUTE_FAR = ["INT64_MAX", "INT64_MAX-1d", "FD_TIME_MAX", "FD_TIME_MAX+1", "2^53", "T0+100y",
                "FD_TIME_MAX-90d"]


def delta(kind, value=0):
    """A read_delta() operand: ('s', n) seconds, ('-s', n), ('m', n) minutes,
    ('h', n) hours, ('d', n) days, ('-d', n), ('-D', n) days (16 bits),
    ('raw', n) any int64, ('0',), ('edge', name)."""
    if kind == "s":
        return bytes([0]) + struct.pack(">H", value)
    if kind == "-s":
        return bytes([1]) + struct.pack(">H", value)
    if kind == "m":
        return bytes([2]) + struct.pack(">H", value)
    if kind == "d":
        return bytes([3, value])
    if kind == "-d":
        return bytes([4, value])
    if kind == "raw":
        return bytes([5]) + struct.pack(">q", value)
    if kind == "h":
        return bytes([21]) + struct.pack(">H", value)
    if kind == "-D":
        return bytes([13]) + struct.pack(">H", value)
    if kind == "0":
        return bytes([6])
    if kind == "edge":
        return bytes([7, EDGES.index(value)])
    raise ValueError(kind)


NOW = delta("0")


def position(mode, value=0):
    """'none' (0), 'next', 'same' (replay of the last), ('at', n) n < 64."""
    return bytes([{"none": 0, "next": 1, "same": 2}[mode] if mode != "at" else 3 | (value << 2)])


def engage(lead, type_, channel="", content=0, event_id=0, when=NOW, pos="next", partition=0):
    return (bytes([0, lead, event_id, TYPES.index(type_), CHANNELS.index(channel), content])
            + when + position(pos) + bytes([partition]))


def profile(lead, email="", title="", seniority="", industry="", country="", employees=0,
            revenue=0, source="", owner="", techs=(), when=NOW, pos="next", partition=0):
    return (bytes([1, lead, len(techs)]) + bytes(techs)
            + bytes([EMAILS.index(email), TITLES.index(title), SENIORITIES.index(seniority),
                     INDUSTRIES.index(industry), COUNTRIES.index(country),
                     EMPLOYEES.index(employees), REVENUES.index(revenue),
                     SOURCES.index(source), OWNERS.index(owner)])
            + when + position(pos) + bytes([partition]))


def activity(lead, kind, reason="NONE", rep="rep-1", review=0, activity_id=0, when=NOW,
             pos="next", partition=0):
    return (bytes([2, lead, activity_id, REPS.index(rep), KINDS.index(kind), REASONS.index(reason),
                   REVIEW_DAYS.index(review)])
            + when + position(pos) + bytes([partition]))


def advance(when):
    return bytes([3]) + when


def set_now(name):
    if name in ABSOLUTE_FAR:
        return bytes([4, 0xf8 + ABSOLUTE_FAR.index(name)])
    return bytes([4, ABSOLUTE_NEAR.index(name)])


def remove(lead):
    return bytes([5, lead])


def evict(ttl, max_):
    return bytes([6, TTLS.index(ttl), max_])


def restore(lead):
    return bytes([7, lead])


def max_leads(n):
    return bytes([8, n])


def view(lead, when=NOW):
    return bytes([9, lead]) + when


def reload(variant, migrate):
    """SIGHUP: variant 0 the same rules, 1 other points and SLA timing,
    2 fewer SLAs and a smaller context; then `migrate` (0..3) leads moved."""
    return bytes([10, variant, migrate])


GRADE_A = dict(email="ada@acme.com", seniority="VP", industry="Software", country="US",
               employees=200, revenue=50000000)

SEEDS = {
    # score to MQL (grade A, 45 >= 40), first-touch warning and breach, the
    # 90-day decision expiring to NURTURE, the review bringing it back
    "mql_sla_nurture_review": (
        profile(LEAD_A, **GRADE_A, source="web")
        + engage(LEAD_A, "pricing_view", "web", 1, 1)
        + engage(LEAD_A, "webinar_attended", "email", 2, 2, delta("m", 30))
        + engage(LEAD_A, "content_download", "web", 3, 3, delta("m", 60))
        + advance(delta("edge", "36h")) + view(LEAD_A) + advance(delta("edge", "24h"))
        + advance(delta("edge", "90d")) + advance(delta("edge", "90d")) + view(LEAD_A)),
    # hand raise, then sales all the way to CUSTOMER
    "hand_raise_to_customer": (
        engage(LEAD_B, "demo_request", "web", 0, 5)
        + activity(LEAD_B, "ASSIGN", rep="rep-2", activity_id=1)
        + activity(LEAD_B, "TOUCH", activity_id=2, when=delta("s", 3600))
        + advance(delta("m", 120))
        + activity(LEAD_B, "ACCEPT", activity_id=3)
        + activity(LEAD_B, "QUALIFY", activity_id=4, when=delta("s", 60))
        + activity(LEAD_B, "OPPORTUNITY", activity_id=5)
        + advance(delta("edge", "24d")) + advance(delta("edge", "30d"))
        + activity(LEAD_B, "WON", activity_id=6)),
    # REJECT to NURTURE with a 60-day review, the review, REJECT to DISQUALIFIED
    "reject_review_disqualify": (
        engage(LEAD_C, "demo_request")
        + activity(LEAD_C, "ACCEPT")
        + activity(LEAD_C, "REJECT", "BAD_TIMING")
        + advance(delta("edge", "60d")) + advance(delta("d", 1))
        + activity(LEAD_C, "REJECT", "BAD_FIT")
        + activity(LEAD_C, "REVERT")
        + activity(LEAD_C, "REJECT", "NONE")),
    # fast track by channel, the SAL decision expiring back to MQL, LOST
    "fast_track_expiry": (
        profile(LEAD_A, **GRADE_A)
        + engage(LEAD_A, "event_attended", "event", 4)
        + advance(delta("edge", "24h")) + advance(delta("edge", "24h"))
        + activity(LEAD_A, "ACCEPT", when=delta("s", 1))
        + activity(LEAD_A, "QUALIFY")
        + activity(LEAD_A, "LOST", "COMPETITOR", review=30)
        + advance(delta("edge", "30d"))),
    # disqualified by fit (personal email), requalified, partner SLA override
    "disqualify_requalify": (
        profile(LEAD_NUM, email="bob@gmail.com", country="US", source="partner")
        + engage(LEAD_NUM, "demo_request")
        + profile(LEAD_NUM, email="ada@acme.com", country="US", source="partner",
                  owner="rep-3", techs=(0, 1), when=delta("s", 10))
        + engage(LEAD_NUM, "demo_request", when=delta("s", 20))
        + advance(delta("edge", "18h")) + advance(delta("edge", "24h"))
        + profile(LEAD_NUM, title="student helper", when=delta("s", 30))),
    # duplicates: the same event id, the same Kafka position, a stale profile
    "duplicates_replays": (
        engage(LEAD_A, "email_click", event_id=7)
        + engage(LEAD_A, "email_click", event_id=7, pos="next")
        + engage(LEAD_A, "email_click", event_id=8, pos="same")
        + profile(LEAD_A, when=delta("s", 100))
        + profile(LEAD_A, when=delta("-s", 100))
        + activity(LEAD_A, "ASSIGN", activity_id=9)
        + activity(LEAD_A, "ASSIGN", activity_id=9)
        + engage(LEAD_A, "email_click", pos="at")),
    # restore from the changelog record, evict, remove, the lead cap
    "restore_evict_cap": (
        engage(LEAD_A, "page_view", "web", 1) + engage(LEAD_B, "unsubscribe")
        + engage(LEAD_UTF8, "email_click") + engage(LEAD_255, "page_view")
        + restore(LEAD_A) + restore(LEAD_UTF8)
        + advance(delta("d", 200)) + evict("180d", 3)
        + max_leads(1) + engage(LEAD_C, "page_view") + engage(LEAD_256, "page_view")
        + restore(LEAD_B) + engage(LEAD_EMPTY, "page_view") + remove(LEAD_A) + max_leads(0)
        + engage(LEAD_C, "no_such_type") + engage(LEAD_C, "")),
    # page_view caps (5 a day), late events, events older than the 32 buckets
    "caps_late_events": (
        b"".join(engage(LEAD_B, "page_view", "web", i % 6, 0, delta("s", 60 * i)) for i in range(7))
        + engage(LEAD_B, "pricing_view", when=delta("-d", 3))
        + engage(LEAD_B, "pricing_view", when=delta("-d", 40))
        + engage(LEAD_B, "page_view", when=delta("edge", "5m+1ms"))
        + advance(delta("d", 45)) + engage(LEAD_B, "page_view", "web", 2)
        + view(LEAD_B, delta("-d", 60)) + view(LEAD_B, delta("d", 250))),
    # the clock at its extremes (on leads with nothing pending: a jump to the
    # year 9999 with a lead in the MQL/NURTURE cycle runs 16,000 cycles):
    # inputs after 9999 refused, advance stopping at FD_TIME_MAX, views at
    # any int64 time
    "time_extremes": (
        engage(LEAD_A, "page_view") + engage(LEAD_B, "email_click")
        + set_now("FD_TIME_MAX-90d") + engage(LEAD_A, "page_view", when=delta("h", 3000))
        + engage(LEAD_B, "page_view") + set_now("FD_TIME_MAX+1")
        + engage(LEAD_B, "page_view", when=delta("raw", 2**63 - 1))
        + view(LEAD_A, delta("raw", -2**63)) + evict("180d", 1)
        + set_now("INT64_MIN+1d") + view(LEAD_B) + evict(1, 3) + set_now("INT64_MAX")
        + advance(delta("-D", 4000)) + view(LEAD_B)),
    # reloads: leads with open SLAs and context moved lazily to rules with
    # other timing, then to rules with fewer SLAs and a smaller context
    # (a second reload before the first move is over), deadlines due
    # under the old rules firing under the new ones
    "reload_lazy_move": (
        engage(LEAD_A, "demo_request", "web", 1) + engage(LEAD_B, "content_download", "email", 2)
        + engage(LEAD_C, "page_view", "web", 3) + activity(LEAD_A, "TOUCH")
        + reload(1, 1) + engage(LEAD_B, "email_click", "web", 4) + reload(2, 0)
        + advance(delta("h", 40)) + restore(LEAD_C) + reload(0, 3)
        + advance(delta("d", 100)) + view(LEAD_A)),
}


# Defects fuzz_engine found, fixed since (a7efd27): regression inputs, which
# scripts/fuzz.sh runs once before fuzzing.
CRASHES = {
    # an event on 1970-01-02: the score snapshot read buckets -29..-1
    "freq-count-negative-bucket": set_now("1d") + engage(LEAD_A, "page_view"),
    # now - ttl_ms with now = INT64_MIN
    "evict-overflow": engage(LEAD_A, "page_view") + set_now("INT64_MIN") + evict("180d", 1),
    # two leads, a cap of one, a restore of an existing lead: FD_ERR_FULL, lead gone
    "import-over-cap-loses-lead": (
        engage(LEAD_A, "page_view") + engage(LEAD_B, "page_view") + max_leads(1) + restore(LEAD_A)),
    # FD_ERR_FULL after before_change(lead, false)
    "before-change-on-error": (
        engage(LEAD_A, "page_view") + max_leads(1) + engage(LEAD_B, "page_view")
        + engage(LEAD_256, "page_view")),
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    for sub, programs in ((os.path.join("corpus", "engine"), SEEDS),
                          (os.path.join("crashes", "fuzz_engine"), CRASHES)):
        out = os.path.join(here, sub)
        os.makedirs(out, exist_ok=True)
        for name, program in programs.items():
            with open(os.path.join(out, name), "wb") as f:
                f.write(program)


if __name__ == "__main__":
    main()
