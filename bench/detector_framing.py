#!/usr/bin/python3
"""How a detector frames the plates a reader then reads: each ground-truth box against its
best detection (score >= 0.5, IoU >= 0.5), as the offset of each side in the box's own
width or height (x1, y1, x2, y2; positive = right or down), from the detections of
`edgessd eval --eval-dir DIR`:

  build/edgessd eval --dataset DATA --split test --trained-model DET.pth --eval-dir DIR
  bench/detector_framing.py DATA test DIR

Prints the boxes matched, the IoU's median and 10th percentile, and each side's mean, median
and 90th-percentile absolute offset: what a reader's training box jitter (train-reader
--box-jitter) must cover. Exit 2 on unreadable input."""
import csv
import glob
import os
import struct
import sys

import numpy as np


def image_size(path):
    """(width, height) of a JPEG (its SOF marker) or PNG (its IHDR)."""
    data = open(path, "rb").read()
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return struct.unpack(">II", data[16:24])
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + struct.unpack(">H", data[i + 2:i + 4])[0]
    raise ValueError(path + ": no image size found")


def iou(a, b):
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - iw * ih
    return iw * ih / union if union > 0 else 0.0


def main(data, split, eval_dir):
    truth = {}
    with open(os.path.join(data, "sub-%s-annotations-bbox.csv" % split), newline="") as f:
        for row in csv.DictReader(f):
            truth.setdefault(row["ImageID"], []).append([float(row[k]) for k in ("XMin", "YMin", "XMax", "YMax")])
    detections = {}
    for path in glob.glob(os.path.join(eval_dir, "det_test_*.txt")):
        for line in open(path):
            fields = line.split()
            if len(fields) == 6 and float(fields[1]) >= 0.5:
                detections.setdefault(fields[0], []).append([float(v) for v in fields[2:]])
    offsets, ious = [], []
    for image_id, boxes in truth.items():
        files = glob.glob(os.path.join(data, split, image_id + ".*"))
        if not files:
            continue
        width, height = image_size(files[0])
        for b in boxes:
            g = [b[0] * width, b[1] * height, b[2] * width, b[3] * height]
            best = max(detections.get(image_id, []), key=lambda d: iou(d, g), default=None)
            if best is None or iou(best, g) < 0.5:
                continue
            w, h = g[2] - g[0], g[3] - g[1]
            offsets.append([(best[0] - g[0]) / w, (best[1] - g[1]) / h, (best[2] - g[2]) / w, (best[3] - g[3]) / h])
            ious.append(iou(best, g))
    if not offsets:
        print("no ground-truth box has a detection at IoU >= 0.5")
        return
    o = np.abs(np.array(offsets))
    print("%d boxes matched; IoU median %.3f, 10th percentile %.3f" % (len(ious), np.median(ious), np.percentile(ious, 10)))
    print("side offset, of the box's size (x1 y1 x2 y2): mean %s, median |.| %s, 90th percentile |.| %s" % (
        np.round(np.mean(offsets, axis=0), 3), np.round(np.median(o, axis=0), 3), np.round(np.percentile(o, 90, axis=0), 3)))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    try:
        main(*sys.argv[1:])
    except (OSError, ValueError, KeyError) as e:
        print("detector_framing.py: %s" % e, file=sys.stderr)
        sys.exit(2)
