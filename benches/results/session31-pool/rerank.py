"""Rescoring prototypes over dumped pools (GENREC_DUMP_POOLS): linear ListNet
(genrec's), and an MLP ListNet, each fitted on one half of the validation users
and measured on the other, paired against the cross-fitted fusion's top 10."""
import json, sys, math, numpy as np, torch
torch.set_num_threads(2); torch.manual_seed(0)
rows = [json.loads(l) for l in open(sys.argv[1])]
F = 25
X = [torch.tensor(r["x"], dtype=torch.float64).view(-1, F) for r in rows]
T = [r["items"].index(r["target"]) if r["target"] in r["items"] else -1 for r in rows]
half = np.array([r["half"] for r in rows])
def nd(l, t): return 1 / math.log2(l.index(t) + 2) if t in l[:10] else 0.0
base = np.array([nd(r["fused"], r["target"]) for r in rows])
print("users", len(rows), "target in pool", np.mean([t >= 0 for t in T]).round(4), "fused", base.mean().round(4))
def extra(x):
    # candidates' extra features: in how many sources, product terms
    pres = x[:, [0, 4, 8, 12, 16]]
    n = pres.sum(1, keepdim=True)
    return torch.cat([x, n / 5, (n >= 2).double(), x[:, 20:21] * x[:, 21:22], x[:, 21:22] ** 2], 1)
def fit(model, users, epochs, lr, wd, feats):
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=wd)
    data = [(feats(X[u]), T[u]) for u in users if T[u] >= 0]
    for ep in range(epochs):
        perm = np.random.default_rng(ep).permutation(len(data))
        for i in range(0, len(perm), 64):
            loss = 0
            for j in perm[i:i + 64]:
                x, t = data[j]
                s = model(x).squeeze(1)
                loss = loss + torch.logsumexp(s, 0) - s[t]
            opt.zero_grad(); (loss / 64).backward(); opt.step()
    return model
def evaluate(make, epochs, lr, wd, feats=lambda x: x):
    out = np.zeros(len(rows))
    for f in (0, 1):
        torch.manual_seed(0)
        m = fit(make(), np.where(half != f)[0], epochs, lr, wd, feats)
        with torch.no_grad():
            for u in np.where(half == f)[0]:
                s = m(feats(X[u])).squeeze(1).numpy()
                o = np.argsort(-s, kind="stable")[:10]
                out[u] = nd([rows[u]["items"][i] for i in o], rows[u]["target"])
    d = out - base; rng = np.random.default_rng(0)
    bs = [d[rng.integers(0, len(d), len(d))].mean() for _ in range(1000)]
    return out.mean(), d.mean(), np.quantile(bs, [.025, .975])
G = F + 4
arms = {
  "linear": (lambda: torch.nn.Linear(F, 1, bias=False).double(), 30, 0.01, 0.0, lambda x: x),
  "linear+extra": (lambda: torch.nn.Linear(G, 1, bias=False).double(), 30, 0.01, 0.0, extra),
  "mlp32": (lambda: torch.nn.Sequential(torch.nn.Linear(F, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1)).double(), 30, 0.003, 1e-4, lambda x: x),
  "mlp32+extra": (lambda: torch.nn.Sequential(torch.nn.Linear(G, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1)).double(), 30, 0.003, 1e-4, extra),
}
for name in (sys.argv[2].split(",") if len(sys.argv) > 2 else arms):
    m, d, ci = evaluate(*arms[name])
    print(f"{name:14s} ndcg {m:.4f} vs fused {d:+.4f} [{ci[0]:+.4f}, {ci[1]:+.4f}]", flush=True)
