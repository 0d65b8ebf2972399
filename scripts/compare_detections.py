#!/usr/bin/python3
"""Compares two runs of `edgessd-detect --json` (one JSON object per frame) on the same
model and frames, e.g. the x86 build against the arm64 build under qemu (scripts/arm64.sh):

  compare_detections.py REFERENCE.jsonl CANDIDATE.jsonl --confidence TOL --pixels TOL [--threshold T]

Every detection must have a partner of the same class whose confidence and corners are
within the tolerances (and, with --reader, the same text and text confidence within the
confidence tolerance). One that has none may only be a detection within the confidence
tolerance of the threshold, which the other run may have dropped. Prints the worst
differences; exit 1 when a frame differs beyond them, 2 on unreadable input."""
import argparse
import json
import sys


def frames(path):
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.startswith("{")]
    except (OSError, ValueError) as e:
        print(f"compare_detections.py: error: {path}: {e}", file=sys.stderr)
        sys.exit(2)


def difference(a, b):
    corners = max(abs(a[k] - b[k]) for k in ("left", "top", "right", "bottom"))
    text_conf = abs(a.get("text_confidence", 0.0) - b.get("text_confidence", 0.0))
    return abs(a["confidence"] - b["confidence"]), corners, text_conf


def compare_frame(ref, cand, args, worst):
    problems = []
    unmatched = list(cand["detections"])
    for a in ref["detections"]:
        same = [b for b in unmatched if b["class_id"] == a["class_id"] and b.get("text") == a.get("text")]
        best = min(same, key=lambda b: max(difference(a, b)[:2]), default=None)
        if best is not None:
            conf, corners, text_conf = difference(a, best)
            if conf <= args.confidence and corners <= args.pixels and text_conf <= args.confidence:
                unmatched.remove(best)
                worst[0], worst[1], worst[2] = max(worst[0], conf), max(worst[1], corners), max(worst[2], text_conf)
                continue
        if a["confidence"] > args.threshold + args.confidence:
            problems.append(f"reference detection {a} has no partner")
    for b in unmatched:
        if b["confidence"] > args.threshold + args.confidence:
            problems.append(f"candidate detection {b} has no partner")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference")
    parser.add_argument("candidate")
    parser.add_argument("--confidence", type=float, required=True)
    parser.add_argument("--pixels", type=float, required=True)
    parser.add_argument("--threshold", type=float, default=0.5)
    args = parser.parse_args()
    ref, cand = frames(args.reference), frames(args.candidate)
    if not ref or len(ref) != len(cand):
        print(f"frames: {len(ref)} in the reference, {len(cand)} in the candidate: not comparable")
        return 1
    worst, problems, count = [0.0, 0.0, 0.0], [], 0
    for r, c in zip(ref, cand):
        count += len(r["detections"])
        problems += [f"frame {r['name']}: {p}" for p in compare_frame(r, c, args, worst)]
    print(f"{len(ref)} frames, {count} detections; worst difference: confidence {worst[0]:.2e}, "
          f"corners {worst[1]:.3f} px, text confidence {worst[2]:.2e}")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
