"""Python's side of the checkpoint tests, run with Debian's python3-torch.

  compare A B          torch.load both; same keys in the same order, dtypes, shapes, values
  resave IN OUT [legacy]   torch.load IN, torch.save OUT (legacy = pre-1.6 format)
  seed OUT [legacy]    a tiny state_dict for the fuzz corpus
  keys A               torch.load A; one "key shape" line a tensor (shape as 2x3x1x1), in order
"""
import collections
import sys

import torch


def load(path):
    return torch.load(path, map_location="cpu")


def compare(a_path, b_path):
    a, b = load(a_path), load(b_path)
    assert isinstance(b, collections.OrderedDict) or isinstance(b, dict), type(b)
    assert list(a.keys()) == list(b.keys()), "key order differs"
    for key in a:
        ta, tb = a[key], b[key]
        assert ta.dtype == tb.dtype, f"{key}: {ta.dtype} vs {tb.dtype}"
        assert ta.shape == tb.shape, f"{key}: {ta.shape} vs {tb.shape}"
        assert torch.equal(ta, tb), f"{key}: values differ"
    print(f"OK {len(a)} tensors identical")


def resave(src, dst, legacy):
    torch.save(load(src), dst, _use_new_zipfile_serialization=not legacy)
    print("OK")


def seed(dst, legacy):
    g = torch.Generator().manual_seed(0)
    state = collections.OrderedDict()
    state["base_net.0.0.weight"] = torch.randn(2, 3, 1, 1, generator=g)
    state["base_net.0.1.running_var"] = torch.ones(2)
    state["base_net.0.1.num_batches_tracked"] = torch.tensor(3)
    state["t"] = torch.arange(6, dtype=torch.float32).reshape(2, 3).t()  # a strided view
    torch.save(state, dst, _use_new_zipfile_serialization=not legacy)
    print("OK")


def keys(path):
    for key, t in load(path).items():
        print(key + " " + "x".join(str(d) for d in t.shape))


if __name__ == "__main__":
    command = sys.argv[1]
    legacy = len(sys.argv) > 4 and sys.argv[4] == "legacy" or (command == "seed" and sys.argv[-1] == "legacy")
    if command == "compare":
        compare(sys.argv[2], sys.argv[3])
    elif command == "resave":
        resave(sys.argv[2], sys.argv[3], legacy)
    elif command == "keys":
        keys(sys.argv[2])
    elif command == "seed":
        seed(sys.argv[2], legacy)
    else:
        raise SystemExit(f"unknown command {command}")
