"""`hotline bench wallboard`'s pure parts: the /metrics histogram read back and its quantiles, the memory figures
(creep and steps) and the flatness rule, and the client's chunked-coding and server-sent-event parsers. The
bench itself (two demo runs, a few minutes) is not part of the suite."""

from __future__ import annotations

import math

import pytest
from prometheus_client import generate_latest

from engine.live.bus import Bus
from engine.live.metrics import EngineMetrics
from sim.bench_wallboard import (
    histogram_quantile,
    memory_flat,
    parse_histogram,
    percentile,
    rss_figures,
    since,
)
from sim.sse_client import Dechunker, SseParser


def _scrape(lags: list[float]) -> str:
    metrics = EngineMetrics(Bus())
    for s in lags:
        metrics.lag.observe(s)
    return generate_latest(metrics.registry).decode()


def test_the_engines_lag_histogram_is_read_back_from_its_own_metrics_text():
    h = parse_histogram(_scrape([0.0002] * 3 + [0.004] * 5 + [0.3, 20.0]))
    assert h is not None and h.count == 10 and h.sum == pytest.approx(0.0006 + 0.02 + 20.3)
    counts = dict(h.buckets)
    assert counts[0.0005] == 3 and counts[0.005] == 8 and counts[0.5] == 9 and counts[10.0] == 9
    assert counts[math.inf] == 10 and h.buckets[-1][0] == math.inf
    assert parse_histogram("hotline_ami_up 1.0\n") is None


def test_quantiles_are_known_to_the_bucket_holding_them():
    h = parse_histogram(_scrape([0.002] * 98 + [0.3] * 2))
    assert h is not None
    p50, p99 = histogram_quantile(h.buckets, 0.5), histogram_quantile(h.buckets, 0.99)
    assert p50 is not None and (p50.low, p50.high) == (0.001, 0.0025)
    assert p99 is not None and (p99.low, p99.high) == (0.25, 0.5)
    # Prometheus' histogram_quantile: linear within the bucket (rank 99 is the first of the 2 above 0.25 s)
    assert p99.interpolated == pytest.approx(0.25 + 0.25 * (99 - 98) / 2)
    assert p50.low < p50.interpolated <= p50.high


def test_a_quantile_above_the_last_bound_and_an_empty_histogram():
    q = histogram_quantile([(1.0, 0), (10.0, 0), (math.inf, 4)], 0.99)
    assert q is not None and q.low == 10.0 and math.isinf(q.high) and q.interpolated == 10.0
    assert histogram_quantile([(1.0, 0), (math.inf, 0)], 0.5) is None


def test_what_was_observed_between_two_scrapes():
    first = parse_histogram(_scrape([0.3] * 4))
    later = parse_histogram(_scrape([0.3] * 4 + [0.002] * 100))
    assert first is not None and later is not None
    d = since(later, first)
    assert d.count == 100 and d.sum == pytest.approx(0.2)
    q = histogram_quantile(d.buckets, 0.99)
    assert q is not None and q.high == 0.0025  # the start-up's slow events are left out


def test_nearest_rank_percentile():
    values = [float(i) for i in range(100, 0, -1)]
    assert (percentile(values, 0.5), percentile(values, 0.99), percentile(values, 1.0)) == (50.0, 99.0, 100.0)
    assert percentile([], 0.5) is None


def test_rss_over_the_day_and_its_second_half_creep_and_steps():
    steady = [(float(t), 100.0) for t in range(61)]
    f = rss_figures(steady)
    assert (f["start"], f["middle"], f["end"], f["peak"], f["day_growth"]) == (100.0, 100.0, 100.0, 100.0, 0.0)
    assert (f["second_half_s"], f["second_half_creep"], f["steps"]) == (30.0, 0.0, 0)
    # a leak of 0.1 MB a second is creep: 6 MB a minute, 3 MB over the second half
    leak = rss_figures([(float(t), 100.0 + t / 10) for t in range(61)])
    assert leak["creep_mb_per_min"] == pytest.approx(6.0) and leak["second_half_creep"] == pytest.approx(3.0)
    assert leak["steps"] == 0 and leak["second_half_growth"] == pytest.approx(3.0)
    # one large allocation in the second half, and a transient one (up, then down a second later): steps only
    stepped = [(float(t), 100.0 + (40.0 if t >= 45 else 0.0) + (30.0 if t == 50 else 0.0)) for t in range(61)]
    g = rss_figures(stepped)
    assert (g["second_half_creep"], g["steps"], g["steps_mb"], g["second_half_growth"]) == (0.0, 3, 40.0, 40.0)
    assert g["peak"] == 170.0 and rss_figures([]) == {}


def test_memory_is_flat_when_growth_stays_within_noise_of_the_baselines():
    assert memory_flat(2.0, 2.5, noise=1.0) and memory_flat(0.5, 1.4)
    assert not memory_flat(0.0, 5.0, noise=1.0)
    assert memory_flat(-3.0, 0.5, noise=1.0)
    assert not memory_flat(-3.0, 2.0, noise=1.0)  # a shrinking baseline does not excuse growth


def test_chunked_coding_decoded_whatever_the_reads():
    wire = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n"
    whole = Dechunker()
    assert whole.feed(wire) == b"hello world" and whole.done
    bytewise = Dechunker()
    assert b"".join(bytewise.feed(wire[i : i + 1]) for i in range(len(wire))) == b"hello world" and bytewise.done
    with pytest.raises(ValueError):
        Dechunker().feed(b"zz\r\n")


def test_server_sent_events_parsed_across_reads():
    wire = ("retry: 1000\n\nevent: snapshot\ndata: {\"states\":[]}\n\n: a comment\nevent: change\n"
            "data: {\"key\":\"Zoë\"}\n\nevent: tick\ndata: 1\ndata: 2\n\n").encode()  # fmt: skip
    expected = [("snapshot", '{"states":[]}'), ("change", '{"key":"Zoë"}'), ("tick", "1\n2")]
    assert SseParser().feed(wire) == expected
    for cut in range(1, len(wire)):  # the ë's two bytes split too
        p = SseParser()
        assert p.feed(wire[:cut]) + p.feed(wire[cut:]) == expected
