"""`hotline bench events`: the recorded transcripts made into a long stream, both parsers and the engine's path on
it, run at a tiny size (``--events``). No figure is compared with a fixed time: only that each is there."""

from __future__ import annotations

import json
import re

from engine.asterisk.ami_codec import AmiDecoder, Frame
from sim import bench_events
from sim.bench_events import build_stream, transcript
from tests.test_cli import hotline, one_line_error


def _frames(data: bytes) -> list[Frame]:
    return [f for f in AmiDecoder().feed(data) if isinstance(f, Frame)]


def test_the_stream_repeats_the_recorded_events_with_ids_of_their_own():
    runs = transcript()
    per_pass = sum(len(r) for r in runs)
    stream = build_stream(per_pass + 1)
    assert stream.repetitions == 2 and stream.events == 2 * per_pass and stream.runs == len(runs) >= 9
    frames = _frames(stream.data)
    assert len(frames) == stream.events
    recorded = [h for run in runs for h in run]
    renamed = {"uniqueid", "linkedid", "destuniqueid", "destlinkedid", "bridgeuniqueid", "timestamp"}
    for rep in range(2):
        for got, want in zip(frames[rep * per_pass : (rep + 1) * per_pass], recorded, strict=True):
            assert [k for k, _ in got.headers] == [k for k, _ in want]
            assert [(k, v) for k, v in got.headers if k.lower() not in renamed] == \
                   [(k, v) for k, v in want if k.lower() not in renamed]  # fmt: skip
    ids = [{f.get("Uniqueid") for f in frames[rep * per_pass : (rep + 1) * per_pass]} - {""} for rep in range(2)]
    assert ids[0] and not ids[0] & ids[1], "no channel of the second pass is one of the first"
    # the originate flows name their channels alike in every run: in the stream each run has its own
    originate = [f.get("Uniqueid") for f in frames[:per_pass] if f.event == "Newchannel"]
    assert len(originate) == len(set(originate))


def test_panoramisk_and_the_decoder_read_the_same_messages():
    stream = build_stream(2000)
    chunks = [stream.data[i : i + 4096] for i in range(0, len(stream.data), 4096)]
    parsed, _ = bench_events.panoramisk_parse(chunks)
    decoded, _ = bench_events.decoder_only(chunks)
    assert parsed == decoded == stream.events


def test_bench_events_writes_both_figures_and_counts_every_event_on_both_paths(tmp_path):
    out = tmp_path / "events.json"
    r = hotline("bench", "events", "--events", "2000", "--rounds", "1", "--json", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"full path / panoramisk parse: [0-9.]+x", r.stdout)
    report = json.loads(out.read_text())
    n = report["events"]
    assert n >= 2000
    full, pano = report["full_path"], report["panoramisk_parse"]
    assert full["events_per_s"] > 0 and pano["events_per_s"] > 0
    assert full["events"] == pano["events"] == report["decoder"]["events"] == n
    assert full["facts"] == full["facts_written"] == full["bus_changes"] > 0, "every fact written and delivered"
    assert full["batches"] >= 1 and full["resnapshots"] == 0
    assert 0 < full["skipped"] < n, "the engine passes over the events it has no reader for, not all of them"
    assert report["ratio"] == round(full["events_per_s"] / pano["events_per_s"], 3)
    assert len(report["rounds_ratio"]) == report["rounds"] == 1 and report["rounds_ratio"][0] > 0


def test_an_unwritable_json_file_is_refused_before_the_run(tmp_path):
    target = tmp_path / "no-such-folder" / "events.json"
    r = hotline("bench", "events", "--json", str(target))
    one_line_error(r, "--json", str(target))
    assert not r.stdout.strip(), f"the run started:\n{r.stdout}"
