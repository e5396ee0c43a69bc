"""Train the network of "Feature Collapse" in PyTorch on data exported by `fcollapse sample --out`.

Reads DATA_DIR (written by `fcollapse sample SPEC --out DATA_DIR`):
  spec.json                      the spec (sizes, LayerNorm, learning rate, batch size, epochs, weight decays)
  train_words.npy  N x L int32   vocabulary index alpha*s_c + beta of every word, N = K*n_spl, class by class
  train_labels.npy N int32       class of every training sentence
  test_words.npy   (K*n_test) x L int32, test_labels.npy (K*n_test) int32

Trains the network of SPEC section 2 with its reference protocol:
  embedding W (n_w x d), optional LayerNorm without affine parameters (eps = layer_norm_eps), the L word
  vectors laid end to end, linear classifier U (K x L*d) without bias, cross-entropy averaged over the
  minibatch; initialisation PyTorch defaults divided by 1000; plain SGD (no momentum) with learning rate
  lr, minibatches of bsz reshuffled every epoch, coupled weight decay weight_decay_W on W and
  weight_decay_U on U; num_epochs epochs. Prints, as `fcollapse train` does, the running train loss and
  accuracy and the test accuracy at epoch 1, every `report` epochs and at the last epoch.

Writes OUTDIR, the folder `fcollapse compare OUTDIR` reads:
  spec.json   a copy of DATA_DIR/spec.json
  W.npy       n_w x d float32, row alpha*s_c + beta = word vector (nn.Embedding.weight)
  U.npy       K x L*d float32, row k = classifier of class k, columns l*d..(l+1)*d = block u_{k,l}
              (nn.Linear(L*d, K, bias=False).weight)
  torch_metrics.json  summary (final train loss and accuracy, test accuracy, seconds, versions) and the
              per-report-epoch history; `fcollapse` does not read it.
Each file is written to a temporary name in OUTDIR and then renamed over the final one.

Usage: python train.py DATA_DIR --out OUTDIR [--seed S] [--threads T] [--device auto|cpu|cuda]
                       [--epochs E] [--json]
"""
import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np
import torch


def load_data(folder):
    with open(os.path.join(folder, "spec.json")) as f:
        spec = json.load(f)
    for key in ("nc", "nw", "L", "K", "d"):
        if key not in spec:
            sys.exit(f"{folder}/spec.json: missing key '{key}' (is this a `fcollapse sample --out` folder?)")
    # The defaults of the toolkit's spec parser, for keys a hand-written spec may leave out.
    defaults = {"layer_norm": False, "layer_norm_eps": 1e-5, "weight_decay_W": 1e-3, "weight_decay_U": 1e-3,
                "lr": 0.1, "bsz": 100, "num_epochs": 100, "nspl": 5, "n_test": 5, "report": 10, "seed": 0}
    for k, v in defaults.items():
        spec.setdefault(k, v)

    def ints(name, shape):
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            sys.exit(f"{path}: missing (write the folder with `fcollapse sample SPEC --out {folder}`)")
        a = np.load(path)
        if a.dtype != np.int32 or list(a.shape) != list(shape):
            sys.exit(f"{path}: has {a.dtype} {list(a.shape)}; expected int32 {list(shape)}")
        return a

    K, L, nw = spec["K"], spec["L"], spec["nw"]
    n_train, n_test = K * spec["nspl"], K * spec["n_test"]
    data = {
        "train_words": ints("train_words.npy", (n_train, L)),
        "train_labels": ints("train_labels.npy", (n_train,)),
        "test_words": ints("test_words.npy", (n_test, L)),
        "test_labels": ints("test_labels.npy", (n_test,)),
    }
    for name, a in data.items():
        bound = K if name.endswith("labels") else nw
        if a.size and (a.min() < 0 or a.max() >= bound):
            sys.exit(f"{folder}/{name}.npy: values must lie in 0..{bound - 1}")
    return spec, data


class Net(torch.nn.Module):
    """SPEC 2: y_k(x) = sum_l <u_{k,l}, psi(w_{x_l})>."""

    def __init__(self, spec):
        super().__init__()
        nw, d, L, K = spec["nw"], spec["d"], spec["L"], spec["K"]
        self.emb = torch.nn.Embedding(nw, d)  # default init N(0, 1)
        self.ln = (torch.nn.LayerNorm(d, eps=spec["layer_norm_eps"], elementwise_affine=False)
                   if spec["layer_norm"] else None)
        self.lin = torch.nn.Linear(L * d, K, bias=False)  # default init U(-1/sqrt(L*d), 1/sqrt(L*d))
        with torch.no_grad():
            self.emb.weight.div_(1000)
            self.lin.weight.div_(1000)

    def forward(self, words):
        h = self.emb(words)  # B x L x d
        if self.ln is not None:
            h = self.ln(h)
        return self.lin(h.reshape(words.shape[0], -1))  # word vectors end to end: block l = columns l*d..(l+1)*d


def accuracy(net, words, labels, chunk=10_000):
    net.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, words.shape[0], chunk):
            correct += (net(words[i:i + chunk]).argmax(dim=1) == labels[i:i + chunk]).sum().item()
    net.train()
    return correct / max(1, words.shape[0])


def write_atomically(path, write):
    """Calls write(file) on a temporary file in the same folder, then renames it over `path`: a reader
    sees the old file or the whole new one, never a part."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix="." + os.path.basename(path) + ".tmp-")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes the file 0600; give it the usual permissions
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_npy(array, path):
    write_atomically(path, lambda f: np.save(f, array))


def save_text(text, path):
    write_atomically(path, lambda f: f.write(text.encode()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data", help="folder written by `fcollapse sample SPEC --out DATA_DIR`")
    ap.add_argument("--out", required=True, help="folder to write spec.json, W.npy, U.npy into")
    ap.add_argument("--seed", type=int, default=None,
                    help="torch seed for the initialisation and the shuffles (default: the spec's seed)")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    ap.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                    help="auto: cuda when available, else cpu")
    ap.add_argument("--epochs", type=int, default=None, help="epochs (default: the spec's num_epochs)")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    a = ap.parse_args()

    spec, data = load_data(a.data)
    seed = spec["seed"] if a.seed is None else a.seed
    epochs = spec["num_epochs"] if a.epochs is None else a.epochs
    if epochs < 1:
        sys.exit("--epochs must be at least 1")
    if a.threads is not None:
        torch.set_num_threads(a.threads)
    if a.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        if a.device == "cuda" and not torch.cuda.is_available():
            sys.exit("--device cuda: torch sees no CUDA device")
        device = torch.device(a.device)

    torch.manual_seed(seed)
    net = Net(spec).to(device)
    opt = torch.optim.SGD([
        {"params": net.emb.parameters(), "weight_decay": spec["weight_decay_W"]},
        {"params": net.lin.parameters(), "weight_decay": spec["weight_decay_U"]},
    ], lr=spec["lr"], momentum=0.0)
    crit = torch.nn.CrossEntropyLoss()
    shuffle = torch.Generator().manual_seed(seed)

    xs = torch.from_numpy(data["train_words"]).long().to(device)
    ys = torch.from_numpy(data["train_labels"]).long().to(device)
    xt = torch.from_numpy(data["test_words"]).long().to(device)
    yt = torch.from_numpy(data["test_labels"]).long().to(device)
    N, bsz = xs.shape[0], max(1, spec["bsz"])

    log = lambda s: print(s, file=sys.stderr if a.json else sys.stdout, flush=True)
    log(f"training {spec.get('name') or 'spec'} in PyTorch {torch.__version__} on {device}: N = {N} sentences, "
        f"K = {spec['K']}, L = {spec['L']}, d = {spec['d']}, layer norm {'on' if spec['layer_norm'] else 'off'}, "
        f"lr = {spec['lr']}, bsz = {bsz}, epochs 1...{epochs}, seed {seed}")
    history = []
    seconds = 0.0
    train_loss = train_acc = float("nan")
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        perm = torch.randperm(N, generator=shuffle).to(device)
        loss_sum = torch.zeros((), device=device)
        acc_sum = torch.zeros((), device=device)
        batches = 0
        for i in range(0, N, bsz):
            idx = perm[i:i + bsz]
            bx, by = xs[idx], ys[idx]
            opt.zero_grad(set_to_none=True)
            scores = net(bx)
            loss = crit(scores, by)
            loss.backward()
            opt.step()
            loss_sum += loss.detach()
            acc_sum += (scores.detach().argmax(dim=1) == by).float().mean()
            batches += 1
        train_loss, train_acc = (loss_sum / batches).item(), (acc_sum / batches).item()
        if not np.isfinite(train_loss):
            sys.exit(f"diverged at epoch {epoch} (train loss {train_loss}); nothing written")
        report = epoch == 1 or epoch == epochs or (spec["report"] > 0 and epoch % spec["report"] == 0)
        test_acc = accuracy(net, xt, yt) if report else None
        dt = time.perf_counter() - t0
        seconds += dt
        if report:
            history.append({"epoch": epoch, "train_loss": train_loss, "train_accuracy": train_acc,
                            "test_accuracy": test_acc, "seconds": dt})
            log(f"epoch {epoch:5d}  train loss {train_loss:.4f}  train acc {100 * train_acc:6.2f}%  "
                f"test acc {100 * test_acc:6.2f}%  ({dt:.2f} s/epoch)")

    W = net.emb.weight.detach().cpu().numpy().astype(np.float32)
    U = net.lin.weight.detach().cpu().numpy().astype(np.float32)
    assert W.shape == (spec["nw"], spec["d"]) and U.shape == (spec["K"], spec["L"] * spec["d"])
    summary = {"name": spec.get("name"), "epochs": epochs, "seed": seed, "train_loss": train_loss,
               "train_accuracy": train_acc, "test_accuracy": history[-1]["test_accuracy"],
               "seconds": seconds, "device": str(device), "threads": torch.get_num_threads(),
               "torch": torch.__version__, "data": os.path.abspath(a.data)}

    os.makedirs(a.out, exist_ok=True)
    save_npy(W, os.path.join(a.out, "W.npy"))
    save_npy(U, os.path.join(a.out, "U.npy"))
    save_text(json.dumps({"summary": summary, "history": history}, indent=2) + "\n",
              os.path.join(a.out, "torch_metrics.json"))
    with open(os.path.join(a.data, "spec.json")) as f:
        save_text(f.read(), os.path.join(a.out, "spec.json"))
    if a.json:
        print(json.dumps(summary))
    else:
        print(f"done: {epochs} epochs in {seconds:.1f} s; train loss {train_loss:.4f}, "
              f"train acc {100 * train_acc:.2f}%, test acc {100 * summary['test_accuracy']:.2f}%")
        print(f"saved in {a.out}: spec.json, W.npy ({spec['nw']} x {spec['d']}), "
              f"U.npy ({spec['K']} x {spec['L'] * spec['d']}), torch_metrics.json")


if __name__ == "__main__":
    main()
