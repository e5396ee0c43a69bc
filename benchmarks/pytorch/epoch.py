"""Time per epoch of the reference training protocol (SPEC 2) in PyTorch on the CPU.

Written from the protocol of SPEC section 2 (not copied from the authors' notebooks): embedding
W (n_w x d), optional LayerNorm without affine parameters, linear classifier U (K x L*d) without
bias, cross-entropy, plain SGD with coupled weight decay (torch.optim.SGD weight_decay), minibatches
reshuffled every epoch, initialisation PyTorch defaults / 1000. The sentences are random words of
the right shape; the cost of an epoch does not depend on which words they are.

Prints one JSON object: median seconds per epoch and the individual epoch times.
Usage: python epoch.py --nw 1200 --L 15 --K 1000 --d 100 --nspl 5 --bsz 100 --epochs 5 --threads 2
"""
import argparse
import json
import statistics
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nw", type=int, default=1200)
    ap.add_argument("--L", type=int, default=15)
    ap.add_argument("--K", type=int, default=1000)
    ap.add_argument("--d", type=int, default=100)
    ap.add_argument("--nspl", type=int, default=5)
    ap.add_argument("--bsz", type=int, default=100)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--wd", type=float, default=1e-3)
    ap.add_argument("--layer-norm", action="store_true")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    N = a.K * a.nspl
    x = torch.randint(0, a.nw, (N, a.L))
    y = torch.randint(0, a.K, (N,))

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(a.nw, a.d)
            self.ln = torch.nn.LayerNorm(a.d, elementwise_affine=False) if a.layer_norm else None
            self.lin = torch.nn.Linear(a.L * a.d, a.K, bias=False)
            with torch.no_grad():
                self.emb.weight.div_(1000)
                self.lin.weight.div_(1000)

        def forward(self, s):
            h = self.emb(s)
            if self.ln is not None:
                h = self.ln(h)
            return self.lin(h.view(s.shape[0], -1))

    net = Net()
    opt = torch.optim.SGD([{"params": net.emb.parameters(), "weight_decay": a.wd},
                           {"params": net.lin.parameters(), "weight_decay": a.wd}], lr=a.lr)
    crit = torch.nn.CrossEntropyLoss()
    times = []
    for _ in range(a.epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(N)
        run_loss, run_acc, nb = 0.0, 0.0, 0
        for i in range(0, N, a.bsz):
            idx = perm[i:i + a.bsz]
            sx, sy = x[idx], y[idx]
            opt.zero_grad()
            scores = net(sx)
            loss = crit(scores, sy)
            loss.backward()
            opt.step()
            run_loss += loss.detach().item()
            run_acc += (scores.argmax(dim=1) == sy).float().mean().item()
            nb += 1
        times.append(time.perf_counter() - t0)
    print(json.dumps({"median_seconds": statistics.median(times), "epoch_seconds": times,
                      "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "train_loss": run_loss / nb}))


if __name__ == "__main__":
    main()
