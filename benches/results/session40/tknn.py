# text-kNN (last item) NDCG@10 / Recall@10 over a prepared dataset's split, seen items rankable
import json, sys, numpy as np
from safetensors.numpy import load_file
ds, split = sys.argv[1], sys.argv[2]
emb = sys.argv[3] if len(sys.argv) > 3 else ds + '/embeddings.safetensors'
d = load_file(emb); ids = d['item_ids']; E = d['embeddings'].astype(np.float32)
E /= np.linalg.norm(E, axis=1, keepdims=True) + 1e-12
row = {int(i): r for r, i in enumerate(ids)}
nd, rc, n = [], [], 0
for line in open(f'{ds}/{split}.jsonl'):
    r = json.loads(line)
    if not r['history']: continue
    q = E[row[r['history'][-1]]]
    s = E @ q; s[row[r['history'][-1]]] = -9
    top = np.argsort(-s)[:10]
    t = row[r['target']]
    hit = np.where(top == t)[0]
    nd.append(1/np.log2(hit[0]+2) if len(hit) else 0.0); rc.append(1.0 if len(hit) else 0.0)
nd = np.array(nd); print(f'{split} users {len(nd)} ndcg@10 {nd.mean():.4f} recall@10 {np.mean(rc):.4f}')
np.save(sys.argv[4] if len(sys.argv) > 4 else '/tmp/tx/last.npy', nd)
