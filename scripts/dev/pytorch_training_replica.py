# Diagnosis tool for issue 3 (not part of the build or the tests): pytorch-ssd's training
# loop in PyTorch (Debian's /usr/bin/python3 with python3-torch), fed with the exact batches
# and initial weights our C++ trainer used, to tell data-pipeline problems from
# training-loop problems. On 2026-11-28 it reached mAP 0.228/0.272 on plates-us test on
# our batches where our C++ loop reached 0.004 (see the issue note). That gap turned out to
# be chaos, not a bug: PyTorch itself diverges between 1 and 2 threads from step 3 of this
# run, and gradient clipping (train --clip-grad-norm) is what made training reliable
# (README, "Training accuracy").
#
# It needs the trainer to dump what it trains on. The temporary patch used (in
# src/edgessd/train/trainer.cpp, train()): before the epoch loop write
#   state_dict_of(*net) to $EDGESSD_DUMP_DIR/init.pth (write_state_dict),
# and after `to_tensors(batch)` write batch.labels (int64), batch.locations (float32) and
# batch.images (float32, written last, via a temporary name + rename) raw to
#   $EDGESSD_DUMP_DIR/e<epoch>_s<step>.{lab,loc,img}.
# Then: EDGESSD_DUMP_DIR=/tmp/dumpall build/edgessd train --data ../shared/datasets/plates-us \
#   --pretrained-ssd base.pth --precision fp32 --model-dir /tmp/runH &
#   /usr/bin/python3 scripts/dev/pytorch_training_replica.py   (reads /tmp/dumpall, deletes
#   what it has consumed, saves /tmp/runH_py_e<25..29>.pth), and evaluate both with
#   build/edgessd eval --trained-model X.pth --net mb1-ssd-relu6 --label-file labels.txt.
import torch, torch.nn as nn, torch.nn.functional as F, numpy as np
torch.set_num_threads(2)
def act(): return nn.ReLU6()
def conv_bn(i,o,s): return nn.Sequential(nn.Conv2d(i,o,3,s,1,bias=False), nn.BatchNorm2d(o), act())
def conv_dw(i,o,s): return nn.Sequential(nn.Conv2d(i,i,3,s,1,groups=i,bias=False), nn.BatchNorm2d(i), act(), nn.Conv2d(i,o,1,1,0,bias=False), nn.BatchNorm2d(o), act())
class SSD(nn.Module):
    def __init__(s, nc):
        super().__init__()
        s.nc=nc
        s.base_net = nn.Sequential(conv_bn(3,32,2), conv_dw(32,64,1), conv_dw(64,128,2), conv_dw(128,128,1), conv_dw(128,256,2), conv_dw(256,256,1), conv_dw(256,512,2), *[conv_dw(512,512,1) for _ in range(5)], conv_dw(512,1024,2), conv_dw(1024,1024,1))
        def ex(i,m,o): return nn.Sequential(nn.Conv2d(i,m,1), act(), nn.Conv2d(m,o,3,2,1), act())
        s.extras = nn.ModuleList([ex(1024,256,512), ex(512,128,256), ex(256,128,256), ex(256,128,256)])
        ch=[512,1024,512,256,256,256]
        s.classification_headers = nn.ModuleList([nn.Conv2d(c,6*nc,3,padding=1) for c in ch])
        s.regression_headers = nn.ModuleList([nn.Conv2d(c,6*4,3,padding=1) for c in ch])
    def forward(s, x):
        cs, ls = [], []
        def head(i, y):
            c = s.classification_headers[i](y).permute(0,2,3,1).contiguous().view(y.size(0), -1, s.nc)
            l = s.regression_headers[i](y).permute(0,2,3,1).contiguous().view(y.size(0), -1, 4)
            cs.append(c); ls.append(l)
        for l in s.base_net[:12]: x = l(x)
        head(0, x)
        for l in s.base_net[12:]: x = l(x)
        head(1, x)
        for i, e in enumerate(s.extras):
            x = e(x); head(i+2, x)
        return torch.cat(cs, 1), torch.cat(ls, 1)
def mining(loss, labels, r):
    pos = labels > 0
    num_neg = pos.long().sum(1, keepdim=True) * r
    loss = loss.clone(); loss[pos] = -1e30
    _, idx = loss.sort(1, descending=True); _, ord = idx.sort(1)
    return pos | (ord < num_neg)
def mbloss(conf, loc, labels, gt):
    with torch.no_grad():
        l = -F.log_softmax(conf, 2)[:, :, 0]
        mask = mining(l, labels, 3)
    c = F.cross_entropy(conf[mask, :].reshape(-1, conf.size(2)), labels[mask], reduction='sum')
    pos = labels > 0
    r = F.smooth_l1_loss(loc[pos, :].reshape(-1, 4), gt[pos, :].reshape(-1, 4), reduction='sum')
    n = gt[pos].size(0)
    return r / n, c / n

import os, time, math
net = SSD(2)
while not os.path.exists('/tmp/dumpall/init.pth'): time.sleep(1)
time.sleep(2)
net.load_state_dict(torch.load('/tmp/dumpall/init.pth'))
params = [{'params': net.base_net.parameters(), 'lr': 0.001}, {'params': net.extras.parameters(), 'lr': 0.01},
          {'params': list(net.regression_headers.parameters()) + list(net.classification_headers.parameters())}]
opt = torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=5e-4)
base_lrs = [0.001, 0.01, 0.01]
def ready(e, s):
    return os.path.exists(f'/tmp/dumpall/e{e}_s{s+1}.img') or os.path.exists(f'/tmp/dumpall/e{e+1}_s0.img')
for epoch in range(30):
    for g, b in zip(opt.param_groups, base_lrs): g['lr'] = b * (1 + math.cos(math.pi * epoch / 100)) / 2
    net.train()
    tot = 0; n = 0
    for step in range(33):
        while not ready(epoch, step):
            if epoch == 29 and step == 32 and os.path.exists('/tmp/dumpall/e29_s32.loc'): time.sleep(2); break
            time.sleep(0.5)
        p = f'/tmp/dumpall/e{epoch}_s{step}'
        img = torch.from_numpy(np.fromfile(p + '.img', dtype=np.float32).reshape(-1, 3, 300, 300))
        B = img.shape[0]
        lab = torch.from_numpy(np.fromfile(p + '.lab', dtype=np.int64).reshape(B, 3000))
        gt = torch.from_numpy(np.fromfile(p + '.loc', dtype=np.float32).reshape(B, 3000, 4))
        opt.zero_grad()
        conf, loc = net(img)
        r, c = mbloss(conf, loc, lab, gt)
        (r + c).backward(); opt.step()
        tot += (r + c).item(); n += 1
        for ext in ('.img', '.lab', '.loc'): os.remove(p + ext)
    print(f'epoch {epoch} train loss {tot / n:.4f}', flush=True)
    if epoch >= 25: torch.save(net.state_dict(), f'/tmp/runH_py_e{epoch}.pth')
