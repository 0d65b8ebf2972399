"""A small SSD-shaped net with what MobileNet-v1 lacks but other exports have: a residual
Add, a depthwise convolution without activation, stride-2 depthwise, two head scales.
Writes OUT/branchy.onnx, OUT/labels.txt, OUT/input.f32 and PyTorch's OUT/scores.f32 and
OUT/boxes.f32 for that input, at SIZE x SIZE pixels (default 128; the ONNX fuzz target's
seed is the 32-pixel one).  usage: branchy_ssd.py OUT [SIZE]"""
import os
import sys

import torch
import torch.nn as nn


def conv_bn(cin, cout, k, s, groups=1, act=nn.ReLU6):
    layers = [nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers, act()) if act else nn.Sequential(*layers)


class Branchy(nn.Module):
    def __init__(self, classes=3, anchors=3):
        super().__init__()
        self.classes = classes
        self.stem = conv_bn(3, 16, 3, 2)                    # 128 -> 64
        self.dw = conv_bn(16, 16, 3, 1, groups=16, act=None)  # linear depthwise
        self.pw = conv_bn(16, 16, 1, 1, act=nn.ReLU)
        self.mid = conv_bn(16, 16, 1, 1)
        self.dw2 = conv_bn(16, 16, 3, 2, groups=16)           # 64 -> 32, stride-2 depthwise
        self.pw2 = conv_bn(16, 32, 1, 1)
        self.down = conv_bn(32, 32, 3, 2, act=nn.ReLU)      # 32 -> 16
        self.cls = nn.ModuleList([nn.Conv2d(32, anchors * classes, 3, 1, 1) for _ in range(2)])
        self.reg = nn.ModuleList([nn.Conv2d(32, anchors * 4, 3, 1, 1) for _ in range(2)])

    def forward(self, x):
        x = self.stem(x)
        x = x + self.pw(self.dw(x))                         # residual
        a = self.pw2(self.dw2(self.mid(x)))
        b = self.down(a)
        scores, boxes = [], []
        for i, f in enumerate((a, b)):
            scores.append(self.cls[i](f).permute(0, 2, 3, 1).reshape(1, -1, self.classes))
            boxes.append(self.reg[i](f).permute(0, 2, 3, 1).reshape(1, -1, 4))
        return torch.softmax(torch.cat(scores, 1), dim=2), torch.cat(boxes, 1)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(5)
    net = Branchy()
    for m in net.modules():  # BatchNorm statistics that are not the identity
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    net.eval()
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 128
    x = torch.rand(1, 3, size, size) * 2 - 1
    with torch.no_grad():
        scores, boxes = net(x)
    torch.onnx.export(net, x, os.path.join(out, "branchy.onnx"), input_names=["input_0"],
                      output_names=["scores", "boxes"], opset_version=11)
    x.numpy().tofile(os.path.join(out, "input.f32"))
    scores.numpy().tofile(os.path.join(out, "scores.f32"))
    boxes.numpy().tofile(os.path.join(out, "boxes.f32"))
    with open(os.path.join(out, "labels.txt"), "w") as f:
        f.write("BACKGROUND\na\nb\n")
    print("OK", tuple(scores.shape), tuple(boxes.shape))


if __name__ == "__main__":
    main()
