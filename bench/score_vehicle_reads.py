#!/usr/bin/python3
"""Scores per-vehicle reads: the events of `edgessd detect --tracking --reader R --events
EV.jsonl` on a video made by `build/bench/make_pan_video DATA/test PAN.avi FRAMES` (each
photo of the test split, in name order, panned for FRAMES frames), against the photos'
PlateText:

  score_vehicle_reads.py EV.jsonl DATA FRAMES

A photo's vehicle is the event of its frames seen in most of them (another car's plate in
the same photo makes a second, shorter event); it is read when that event's voted text is
the photo's plate. Prints one line: vehicles, read exactly, events with a text, events in
all. Exit 2 on unreadable input."""
import csv
import json
import os
import sys


def normalised(text):
    return text.upper().replace(" ", "").replace("-", "")


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    events_path, data, frames = sys.argv[1], sys.argv[2], int(sys.argv[3])
    try:
        with open(os.path.join(data, "sub-test-annotations-bbox.csv"), encoding="utf-8") as f:
            truth = {row["ImageID"]: normalised(row.get("PlateText", "")) for row in csv.DictReader(f)}
        photos = sorted(n for n in os.listdir(os.path.join(data, "test"))
                        if n.lower().endswith((".jpg", ".jpeg", ".png")))
        with open(events_path, encoding="utf-8") as f:
            events = [json.loads(line) for line in f if line.startswith("{")]
    except (OSError, ValueError, KeyError) as e:
        print(f"score_vehicle_reads: {e}", file=sys.stderr)
        return 2
    read = 0
    for index, name in enumerate(photos):
        first, last = index * frames, (index + 1) * frames - 1
        seen = [(min(e["last_frame"], last) - max(e["first_frame"], first), e) for e in events
                if e["first_frame"] <= last and e["last_frame"] >= first]
        if not seen:
            continue
        vehicle = max(seen, key=lambda s: s[0])[1]
        read += normalised(vehicle.get("text", "")) == truth.get(os.path.splitext(name)[0], "?")
    with_text = sum(1 for e in events if e.get("text"))
    print(f"vehicles {len(photos)}, read exactly {read} ({100.0 * read / max(1, len(photos)):.1f}%), "
          f"events with a text {with_text}, events {len(events)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
